"""Arrays that are not numbers: a cheap check of inputs and results, and an error that says why.

A NaN or inf written into the parameters after construction, or finite parameters whose
forward or backward pass overflows, must never come back as a loss or gradient: the check
of a result costs one pass over it and no temporary array, on any array library.
"""

import math

import array_api_compat
import numpy as np

from gradients import backends


class NotFiniteError(ValueError):
    """A loss, prediction or gradient came out NaN or inf."""


def all_finite(x):
    """No NaN or inf in x. A finite sum proves it in one pass with no temporary array; only a sum
    that is not finite (a NaN or inf, or finite entries summing past 1.8e308) is looked at entry by
    entry."""
    if math.isfinite(backends.total(x)):
        return True
    xp = backends.namespace_of(x)
    return bool(xp.all(xp.isfinite(x)))


def finite_array(x, name, xp=np, dtype=np.float64, device=None):
    """x as a finite array of this namespace, dtype and device; an array of another library or
    device is refused, and so is anything but real numbers (complex, bool, text, None)."""
    if not array_api_compat.is_array_api_obj(x):
        x = xp.asarray(_real(_host(x, name), name), dtype=dtype, device=device)  # lists, numbers
    elif backends.namespace_of(x) is not xp:
        raise ValueError(f"{name} is on backend {backends.backend_name(backends.namespace_of(x))} "
                         f"but the network is on {backends.backend_name(xp)}: move one of them "
                         "(Network.to, make_data(backend=...))")
    elif device is not None and array_api_compat.device(x) != device:
        raise ValueError(f"{name} is on device {array_api_compat.device(x)} "
                         f"but the network is on {device}")
    elif x.dtype != dtype:
        x = xp.astype(_real(x, name), dtype)
    if not all_finite(x):
        raise ValueError(f"{name} has non-finite values (NaN or inf)")
    return x


def _host(x, name):
    """A list or number as a NumPy array, or ValueError naming it (None, ragged lists)."""
    if x is None:
        raise ValueError(f"{name} must be an array of real numbers, got None")
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        why = str(e).splitlines()[0]
        raise ValueError(f"{name} must be an array of real numbers ({why})") from None


def _real(x, name):
    """x itself if its dtype holds real numbers (floating or integer): a cast must lose nothing
    silently (complex to its real part, text, objects) nor take a mask for numbers (bool)."""
    xp = backends.namespace_of(x)
    if not xp.isdtype(x.dtype, ("real floating", "integral")):
        raise ValueError(f"{name} must hold real numbers, got dtype {backends.dtype_name(x.dtype)}")
    return x


def not_finite(net, what, where):
    """The error for a non-finite result: it names a non-finite parameter, else the overflow."""
    named = [(f"weights[{t}]", W) for t, W in enumerate(net.weights)] + [("alpha", net.alpha)]
    for name, value in named:
        if not all_finite(value):
            return NotFiniteError(f"{what} is not finite: "
                                  f"net.{name} has non-finite values (NaN or inf)")
    if not math.isfinite(net.b):
        return NotFiniteError(f"{what} is not finite: net.b has non-finite values (NaN or inf)")
    return NotFiniteError(f"{what} is not finite: "
                          f"the parameters are finite, so the {where} overflowed")
