"""gradients: the lecture's ReLU network and interchangeable ways to compute its gradient.

    net = gradients.Network.init([d, w, w], seed=0)
    g = gradients.gradient(net, X, y, method="naive")   # or "backprop", "numerical"
    gradients.op_count("naive", net.widths, batch=len(X))
"""

import array_api_compat

from gradients import backends
from gradients.network import ACTIVATIONS, Gradient, Network, edges, loss, make_data, nodes
from gradients.ops import Tally
from gradients.registry import METHODS, gradient, op_count


def relative_error(g1, g2):
    """Largest entry of |g1 - g2| over the largest entry of either, across all parameters: a Python float.

    inf when either has a NaN or inf: a broken gradient never agrees. Gradients on different
    backends or devices are compared in NumPy.
    """
    a, b = g1.flat(), g2.flat()
    xp = backends.namespace_of(a)
    if backends.namespace_of(b) is not xp or array_api_compat.device(a) != array_api_compat.device(b):
        a, b = backends.to_numpy(a), backends.to_numpy(b)
        xp = backends.namespace_of(a)
    if not (bool(xp.all(xp.isfinite(a))) and bool(xp.all(xp.isfinite(b)))):
        return float("inf")
    scale = max(float(xp.max(xp.abs(a))), float(xp.max(xp.abs(b))))
    return float(xp.max(xp.abs(a - b))) / scale if scale > 0 else 0.0


def count_ops(method, net, X, y):
    """Instrumented count: the multiplications one call of `method` actually performs."""
    tally = Tally()
    if method == "forward":
        loss(net, X, y, tally)
    else:
        gradient(net, X, y, method=method, tally=tally)
    return tally.mults


__all__ = [
    "ACTIVATIONS",
    "METHODS",
    "Gradient",
    "Network",
    "Tally",
    "backends",
    "count_ops",
    "edges",
    "gradient",
    "loss",
    "make_data",
    "nodes",
    "op_count",
    "relative_error",
]
