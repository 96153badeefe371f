"""gradients: the lecture's ReLU network and interchangeable ways to compute its gradient.

    net = gradients.Network.init([d, w, w], seed=0)
    g = gradients.gradient(net, X, y, method="naive")   # or "backprop", "numerical", "checkpoint"
    gradients.op_count("naive", net.widths, batch=len(X))
    gradients.memory_count("checkpoint", net.widths, batch=len(X))
"""

import sys
import tracemalloc

import numpy as np

from gradients.finite import NotFiniteError
from gradients.network import ACTIVATIONS, Gradient, Network, edges, loss, make_data, nodes
from gradients.ops import Tally
from gradients.registry import METHODS, gradient, memory_count, op_count


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


def measure_work_memory(method, net, X, y, **options):
    """(peak_bytes, work_bytes) of one call of `method` (or "forward") under tracemalloc.

    peak_bytes: the most the call had allocated at once; work_bytes: that less the returned
    gradient's arrays (data and headers), the quantity memory_count models.
    A caller already tracing keeps its trace (with its peak reset).
    """
    call = (lambda: loss(net, X, y)) if method == "forward" else (lambda: gradient(net, X, y, method, **options))
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    out = 0 if method == "forward" else sum(_size(a) for a in [*result.weights, result.alpha])
    return peak, peak - out


def _size(a):
    """An array's bytes, header and data: sys.getsizeof leaves out the data of a view."""
    return sys.getsizeof(a) + (a.nbytes if a.base is not None else 0)


__all__ = [
    "ACTIVATIONS",
    "METHODS",
    "Gradient",
    "Network",
    "NotFiniteError",
    "Tally",
    "count_ops",
    "edges",
    "gradient",
    "loss",
    "make_data",
    "measure_work_memory",
    "memory_count",
    "nodes",
    "op_count",
    "relative_error",
]
