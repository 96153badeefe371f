"""The registry: the one place that lists the methods, one record each (gradients.method.Method).

A new method is one module with `gradient(net, X, y, tally=NO_TALLY)`, `op_count(widths, batch,
relu)` (and `memory_count(widths, batch, relu)` for the memory model) and one record, registered
here or by the module itself with `gradients.register` (see docs/gradients.md). Modules named in
the environment variable GRADBENCH_PLUGINS (comma-separated) are imported with `gradients`, so a
sweep's child processes register the same methods as the command that starts them.
"""

import importlib
import inspect
import os
import sys

from gradients import autograd, backprop, checkpoint, memory, naive, numerical
from gradients.finite import not_finite
from gradients.method import BASELINE, GRADIENT, Method, Unknown
from gradients.network import loss
from gradients.ops import NO_TALLY
from gradients.sizes import check_activation, check_size, check_widths, edges

PLUGINS = "GRADBENCH_PLUGINS"
nan = float("nan")
# theory exponents of time in E: naive and numerical redo a path per weight, E (E + V); backprop,
# checkpoint (backprop plus one more forward pass), autograd and the forward pass touch each edge a
# fixed number of times, E + V.
# Of working memory at a fixed other size (memory_count): backprop (and autograd) keep every u and
# z, B V numbers: 1 in depth and in width; checkpoint the z of ~sqrt(L) segment boundaries plus one
# segment's u and z: 1/2 in depth; the forward pass one layer: 0 in depth; naive the forward pass
# (1 in depth) plus one block of chains, a layer's n^2 chains of n x B numbers while they fit under
# its cap (max_bytes): 3 in width below the cap. numerical: no theory of its memory.
BUILT_IN = (
    Method("backprop", backprop, GRADIENT, "the backward pass", time_in_e=1, memory_in_depth=1,
           memory_in_width=1, traced=True, color="tab:blue", marker="o", order=3, contender=True,
           requires=None),
    Method("naive", naive, GRADIENT, "a chain per weight", time_in_e=2, memory_in_depth=1,
           memory_in_width=3, traced=True, color="tab:red", marker="s", order=1, contender=True,
           requires=None),
    Method("numerical", numerical, GRADIENT, "central differences, an oracle", time_in_e=2,
           memory_in_depth=nan, memory_in_width=nan, traced=True, color="tab:green", marker="D",
           order=2, contender=False, requires=None),
    Method("checkpoint", checkpoint, GRADIENT, "backprop keeping z at segment starts", time_in_e=1,
           memory_in_depth=0.5, memory_in_width=1, traced=True, color="tab:purple", marker="v",
           order=4, contender=True, requires=None),
    # PyTorch allocates through its own allocator, which tracemalloc does not see
    Method("autograd", autograd, GRADIENT, "PyTorch's own reverse mode", time_in_e=1,
           memory_in_depth=1, memory_in_width=1, traced=False, color="tab:orange", marker="P",
           order=5, contender=True, requires="torch"),
    Method("forward", None, BASELINE, "the loss alone", time_in_e=1, memory_in_depth=0,
           memory_in_width=1, traced=True, color="tab:gray", marker="^", order=6, contender=True,
           requires=None),
)
RECORDS = {}  # name -> Method, every method known here (autograd too where torch is missing)
METHODS = ()  # the gradient methods that can run here, in order of registration


def register(method):
    """Add a method's record (ValueError if its name is taken by another record)."""
    if not isinstance(method, Method):
        raise TypeError(f"register takes a gradients.Method, got {type(method).__name__}")
    if RECORDS.get(method.name, method) != method:
        raise ValueError(f"a method named {method.name!r} is registered already")
    RECORDS[method.name] = method
    _publish()


def unregister(name):
    """Remove a method's record (tests that register one of their own)."""
    RECORDS.pop(name, None)
    _publish()


def _publish():
    """Rebind METHODS, here and in the package, which re-exports it (a tuple: public API)."""
    global METHODS
    METHODS = tuple(n for n, r in RECORDS.items() if r.is_gradient and r.available())
    package = sys.modules.get("gradients")
    if package is not None and hasattr(package, "METHODS"):
        package.METHODS = METHODS


def record(name, strict=True):
    """The record of a method; an unknown name raises ValueError, or with strict=False gets an
    Unknown (how bench shows a results file's method that is not registered here)."""
    if name in RECORDS:
        return RECORDS[name]
    if not strict:
        return Unknown(name)
    raise ValueError(f"unknown method {name!r}; choose from {', '.join(RECORDS)}")


def baseline():
    """The name of the baseline gradient times are counted in: one forward pass (the loss)."""
    return next(n for n, r in RECORDS.items() if not r.is_gradient)


def load_plugins(names=None):
    """Import the modules named in GRADBENCH_PLUGINS (or `names`), which register their methods."""
    names = os.environ.get(PLUGINS, "") if names is None else names
    for name in (n.strip() for n in names.split(",")):
        if name:
            importlib.import_module(name)


for _method in BUILT_IN:
    register(_method)


def _baseline(method):
    return method in RECORDS and not RECORDS[method].is_gradient


def _module(method):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return RECORDS[method].module


def gradient(net, X, y, method="backprop", **options):
    """d loss / d theta of the mini-batch (X, y) by `method`, as a Gradient.

    options go to the method (checkpoint: segments; naive: max_bytes; numerical: h). A gradient
    that is not finite raises NotFiniteError (a ValueError) naming a non-finite parameter or the
    overflow.
    """
    module = _module(method)
    if options:
        _check_options(method, module.gradient, options)
    X, y = net.check_batch(X, y)
    g = module.gradient(net, X, y, **options)
    if not g.is_finite():  # one pass over the output, O(E): the methods themselves run unchecked
        raise not_finite(net, f"the {method} gradient", "forward or backward pass")
    return g


def _check_options(method, function, options):
    """A ValueError naming an option the method does not take (not a TypeError from deep inside)."""
    known = [p for p in inspect.signature(function).parameters if p not in ("net", "X", "y")]
    for name in options:
        if name not in known:
            takes = ", ".join(known[1:]) or "none"  # known[0] is tally, every method's
            raise ValueError(f"method {method!r} has no option {name!r} (its options: {takes})")


def _sizes(widths, batch, activation):
    relu = int(check_activation(activation) == "relu")
    return check_widths(widths), check_size(batch, "batch"), relu


def op_count(method, widths, batch=1, activation="relu"):
    """Exact multiplications of one call of a gradient method or "forward" (see gradients.ops)."""
    widths, batch, relu = _sizes(widths, batch, activation)
    if _baseline(method):  # the loss alone
        return batch * edges(widths)
    return _module(method).op_count(widths, batch, relu)


def memory_count(method, widths, batch=1, activation="relu", **options):
    """Bytes one call keeps alive at its peak besides its output (gradients.memory); also "forward".

    options go to the method's model (checkpoint: segments; naive: max_bytes).
    """
    widths, batch, relu = _sizes(widths, batch, activation)
    if _baseline(method):  # the loss alone
        return memory.forward_count(widths, batch)
    module = _module(method)
    if not hasattr(module, "memory_count"):
        raise ValueError(f"method {method!r} has no memory model")
    return module.memory_count(widths, batch, relu, **options)


def call(method, net, X, y, tally=NO_TALLY, **options):
    """One call of a method as bench times it: the gradient, or the baseline's loss."""
    if _baseline(method):
        return loss(net, X, y, tally)
    return gradient(net, X, y, method, tally=tally, **options)
