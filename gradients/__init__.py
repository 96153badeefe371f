"""gradients: the lecture's ReLU network and interchangeable ways to compute its gradient.

    net = gradients.Network.init([d, w, w], seed=0)
    g = gradients.gradient(net, X, y, method="naive")   # or "backprop", "numerical", "checkpoint"
    gradients.op_count("naive", net.widths, batch=len(X))
    gradients.memory_count("checkpoint", net.widths, batch=len(X))
    gradients.record("naive").time_in_e   # a method's record (gradients.RECORDS; add one: register)

The network: network (forward pass, loss, the Gradient), sizes (widths checked, E and V), finite
(NaN and inf refused), backends (NumPy, PyTorch, CuPy, array_api_strict). The methods: backprop,
naive, numerical, checkpoint, autograd (PyTorch's, where installed), each with its op count and,
autograd's aside, its memory model; method (a method's record), registry (the records), ops
(operation counts), memory (the working-memory model). Training: data (tasks and splits), train
(mini-batch optimizers).
"""

import sys
import tracemalloc

import array_api_compat

from gradients import backends, registry
from gradients.finite import NotFiniteError
from gradients.method import Method
from gradients.network import Gradient, Network, loss, make_data
from gradients.ops import Tally
from gradients.registry import (
    METHODS,
    RECORDS,
    call,
    gradient,
    memory_count,
    op_count,
    record,
    register,
)
from gradients.sizes import ACTIVATIONS, edges, nodes


def relative_error(g1, g2):
    """Largest entry of |g1 - g2| over the largest of either, across all parameters: a Python float.

    inf when either has a NaN or inf: a broken gradient never agrees. Gradients on different
    backends or devices are compared in NumPy.
    """
    a, b = g1.flat(), g2.flat()
    xp = backends.namespace_of(a)
    if (backends.namespace_of(b) is not xp
            or array_api_compat.device(a) != array_api_compat.device(b)):
        a, b = backends.to_numpy(a), backends.to_numpy(b)
        xp = backends.namespace_of(a)
    if not (bool(xp.all(xp.isfinite(a))) and bool(xp.all(xp.isfinite(b)))):
        return float("inf")
    scale = max(float(xp.max(xp.abs(a))), float(xp.max(xp.abs(b))))
    return float(xp.max(xp.abs(a - b))) / scale if scale > 0 else 0.0


def count_ops(method, net, X, y):
    """Instrumented count: the multiplications one call of `method` actually performs."""
    tally = Tally()
    call(method, net, X, y, tally)
    return tally.mults


def measure_work_memory(method, net, X, y, **options):
    """(peak_bytes, work_bytes) of one call of `method` (or "forward") under tracemalloc.

    peak_bytes: the most the call had allocated at once; work_bytes: that less the returned
    gradient's arrays (data and headers), the quantity memory_count models.
    A caller already tracing keeps its trace (with its peak reset). NumPy networks only: tracemalloc
    sees NumPy's buffers, not those of PyTorch or CuPy (gradients.memory models NumPy).
    """
    if backends.backend_name(net.xp) != "numpy":
        raise ValueError("net must be on NumPy to measure its memory, "
                         f"got {backends.backend_name(net.xp)}")
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = call(method, net, X, y, **options)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    out = (sum(_size(a) for a in [*result.weights, result.alpha])
           if record(method).is_gradient else 0)
    return peak, peak - out


def _size(a):
    """An array's bytes, header and data: sys.getsizeof leaves out the data of a view."""
    return sys.getsizeof(a) + (a.nbytes if a.base is not None else 0)


__all__ = [
    "ACTIVATIONS",
    "METHODS",
    "RECORDS",
    "Gradient",
    "Method",
    "Network",
    "NotFiniteError",
    "Tally",
    "backends",
    "call",
    "count_ops",
    "edges",
    "gradient",
    "loss",
    "make_data",
    "measure_work_memory",
    "memory_count",
    "nodes",
    "op_count",
    "record",
    "register",
    "relative_error",
]

registry.load_plugins()  # last: a plugin imports gradients and registers its methods
