"""Results that are not numbers: a cheap check, and an error that says why.

A NaN or inf written into the parameters after construction, or finite parameters whose
forward or backward pass overflows, must never come back as a loss or gradient: the check
of a result costs one pass over it and no temporary array.
"""

import numpy as np


class NotFiniteError(ValueError):
    """A loss, prediction or gradient came out NaN or inf."""


def all_finite(x):
    """No NaN or inf in x. A finite sum proves it in one pass with no temporary array; only a sum
    that is not finite (a NaN or inf, or finite entries summing past 1.8e308) is looked at entry by entry."""
    return bool(np.isfinite(x.sum()) or np.isfinite(x).all())


def not_finite(net, what, where):
    """The error for a non-finite result: it names a non-finite parameter if there is one, else the overflow."""
    named = [(f"weights[{t}]", W) for t, W in enumerate(net.weights)] + [("alpha", net.alpha), ("b", np.float64(net.b))]
    for name, value in named:
        if not all_finite(value):
            return NotFiniteError(f"{what} is not finite: net.{name} has non-finite values (NaN or inf)")
    return NotFiniteError(f"{what} is not finite: the parameters are finite, so the {where} overflowed")
