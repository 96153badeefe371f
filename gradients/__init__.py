"""gradients: the lecture's ReLU network and interchangeable ways to compute its gradient.

    net = gradients.Network.init([d, w, w], seed=0)
    g = gradients.gradient(net, X, y, method="naive")   # or "backprop", "numerical"
    gradients.op_count("naive", net.widths, batch=len(X))
"""

import numpy as np

from gradients.network import ACTIVATIONS, Gradient, Network, edges, loss, make_data, nodes
from gradients.ops import Tally
from gradients.registry import METHODS, gradient, op_count


def relative_error(g1, g2):
    """Largest entry of |g1 - g2| over the largest entry of either, across all parameters.

    inf when either has a NaN or inf: a broken gradient never agrees.
    """
    a, b = g1.flat(), g2.flat()
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else 0.0


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
    "count_ops",
    "edges",
    "gradient",
    "loss",
    "make_data",
    "nodes",
    "op_count",
    "relative_error",
]
