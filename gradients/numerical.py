"""Central finite differences: an oracle for checks, not a contender.

Within one ReLU activation pattern the network's output is linear in each single parameter,
so the loss is quadratic in it and central differences are exact up to rounding. They are
wrong only where theta + h or theta - h moves some unit across its kink: `central_differences`
reports, per parameter, whether the pattern stayed the same, so checks can rely on those.

On any backend the parameters are perturbed in place, one at a time, on a copy of the network;
the differences are collected in NumPy and returned on the network's backend. float64 only in
practice: in float32 a step of 1e-5 is lost in rounding.
"""

import numpy as np

from gradients import backends
from gradients.network import Gradient, loss
from gradients.ops import NO_TALLY

H = 1e-5


def gradient(net, X, y, tally=NO_TALLY, h=H):
    """d loss / d theta by central differences with step h."""
    return central_differences(net, X, y, h, tally)[0]


def central_differences(net, X, y, h=H, tally=NO_TALLY):
    """(gradient, exact): exact[p] is True where neither step changed any unit's ReLU pattern."""
    X, y = net.check_batch(X, y)
    net = net.copy()  # perturbed in place below
    pattern = _pattern(net, X)
    values, exact = [], []
    for theta in [*net.weights, net.alpha]:
        g, ok = np.empty(theta.shape), np.empty(theta.shape, dtype=bool)
        for idx in np.ndindex(tuple(theta.shape)):
            saved = float(theta[idx])  # a Python number: torch's theta[idx] is a view that the next line changes
            theta[idx] = saved + h
            up, up_ok = loss(net, X, y, tally), _same(_pattern(net, X), pattern)
            theta[idx] = saved - h
            down, down_ok = loss(net, X, y, tally), _same(_pattern(net, X), pattern)
            theta[idx] = saved
            g[idx], ok[idx] = (up - down) / (2 * h), up_ok and down_ok
        values.append(net.xp.asarray(g, dtype=net.dtype, device=net.device))
        exact.append(ok)
    b = net.b
    net.b = b + h
    up = loss(net, X, y, tally)
    net.b = b - h
    down = loss(net, X, y, tally)
    g_b = (up - down) / (2 * h)  # b moves no unit: always exact
    return (
        Gradient(values[:-1], values[-1], g_b),
        Gradient(exact[:-1], exact[-1], True),
    )


def _pattern(net, X):
    """Which units are on (u > 0), one boolean vector; None for the identity, which has no kinks."""
    if net.activation != "relu":
        return None
    xp = net.xp
    us, _ = net.forward(X)
    return xp.concat([xp.reshape(u > 0, (-1,)) for u in us[1:]])


def _same(pattern, other):
    return pattern is None or bool(backends.namespace_of(pattern).all(pattern == other))


def op_count(widths, batch, relu):
    """Two loss evaluations, each one forward pass (B * E), for each of the E + 1 parameters."""
    from gradients.network import edges

    E = edges(widths)
    return 2 * (E + 1) * batch * E
