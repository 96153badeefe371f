"""Central finite differences: an oracle for checks, not a contender.

Within one ReLU activation pattern the network's output is linear in each single parameter,
so the loss is quadratic in it and central differences are exact up to rounding. They are
wrong only where theta + h or theta - h moves some unit across its kink: `central_differences`
reports, per parameter, whether the pattern stayed the same, so checks can rely on those.

On any backend the parameters are perturbed in place, one at a time, on a copy of the network,
and each difference is written into the output on the network's backend; the activation
patterns and the exact flags are NumPy's (host memory). float64 only in practice: in float32
a step of 1e-5 is lost in rounding.
"""

import math

import numpy as np

from gradients import backends, memory
from gradients.network import Gradient, gradient_arrays, loss
from gradients.ops import NO_TALLY
from gradients.sizes import edges

H = 1e-5


def gradient(net, X, y, tally=NO_TALLY, h=H):
    """d loss / d theta by central differences with step h."""
    return central_differences(net, X, y, h, tally)[0]


def central_differences(net, X, y, h=H, tally=NO_TALLY):
    """(gradient, exact): exact[p] is True where neither step changed any unit's ReLU pattern."""
    h = check_step(h)
    X, y = net.check_batch(X, y)
    net = net.copy()  # perturbed in place below
    g_alpha = net.xp.empty(net.alpha.shape, dtype=net.dtype, device=net.device)
    g = Gradient(gradient_arrays(net), g_alpha, 0.0)  # the output first
    exact = Gradient([np.empty(W.shape, dtype=bool) for W in net.weights],
                     np.empty(net.alpha.shape, dtype=bool), True)
    pattern = _pattern(net, X)
    for theta, g_theta, ok in zip([*net.weights, net.alpha], [*g.weights, g.alpha],
                                  [*exact.weights, exact.alpha]):
        for idx in np.ndindex(tuple(theta.shape)):
            # a Python number: torch's theta[idx] is a view that the next line changes
            saved = float(theta[idx])
            theta[idx] = saved + h
            up, up_ok = loss(net, X, y, tally), _pattern(net, X) == pattern
            theta[idx] = saved - h
            down, down_ok = loss(net, X, y, tally), _pattern(net, X) == pattern
            theta[idx] = saved
            g_theta[idx], ok[idx] = (up - down) / (2 * h), up_ok and down_ok
    b = net.b
    net.b = b + h
    up = loss(net, X, y, tally)
    net.b = b - h
    down = loss(net, X, y, tally)
    g.b = (up - down) / (2 * h)  # b moves no unit: always exact
    return g, exact


def check_step(h):
    """h as a float, finite and > 0, or a ValueError naming it (h = 0 would divide by zero)."""
    if not isinstance(h, (int, float, np.integer, np.floating)) or isinstance(h, (bool, np.bool_)):
        raise ValueError(f"h must be a finite number > 0, got {h!r}")
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0, got {h}")
    return float(h)


def _pattern(net, X):
    """Which units are on (u > 0), as bytes (packed in NumPy, from any backend); the identity has
    no kinks."""
    if net.activation != "relu":
        return b""
    us, _ = net.forward(X)
    return b"".join(np.packbits(backends.to_numpy(u > 0)).tobytes() for u in us[1:])


def op_count(widths, batch, relu):
    """Two loss evaluations, each one forward pass (B * E), for each of the E + 1 parameters."""
    E = edges(widths)
    return 2 * (E + 1) * batch * E


def memory_count(widths, batch, relu):
    """The parameters' copy and exact flags, the stored pattern, and max(a loss, a pattern)."""
    n, B, E = widths, batch, edges(widths)
    kept = (memory.FLOAT + memory.MASK) * E
    evaluation = memory.forward_count(n, B)  # one loss()
    if not relu:
        return kept + evaluation
    P = memory.packed(n[1:], B)
    # every u and z, the parts and their join; or, while packing layer k, its mask and two packed
    # copies
    packing = max(P, max(B * k * memory.MASK + 2 * memory.packed([k], B) for k in n[1:]))
    return kept + P + max(evaluation, memory.stored(n[1:], B, relu) + P + packing)
