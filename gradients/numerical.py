"""Central finite differences: an oracle for checks, not a contender.

Within one ReLU activation pattern the network's output is linear in each single parameter,
so the loss is quadratic in it and central differences are exact up to rounding. They are
wrong only where theta + h or theta - h moves some unit across its kink: `central_differences`
reports, per parameter, whether the pattern stayed the same, so checks can rely on those.
"""

import numpy as np

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
        for idx in np.ndindex(theta.shape):
            saved = theta[idx]
            theta[idx] = saved + h
            up, up_ok = loss(net, X, y, tally), _pattern(net, X) == pattern
            theta[idx] = saved - h
            down, down_ok = loss(net, X, y, tally), _pattern(net, X) == pattern
            theta[idx] = saved
            g[idx], ok[idx] = (up - down) / (2 * h), up_ok and down_ok
        values.append(g)
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
    """Which units are on (u > 0), as bytes; the identity has no kinks."""
    if net.activation != "relu":
        return b""
    us, _ = net.forward(X)
    return b"".join(np.packbits(u > 0).tobytes() for u in us[1:])


def op_count(widths, batch, relu):
    """Two loss evaluations, each one forward pass (B * E), for each of the E + 1 parameters."""
    from gradients.network import edges

    E = edges(widths)
    return 2 * (E + 1) * batch * E
