"""The registry: the one place that lists the gradient methods. A new method is one module
with `gradient(net, X, y, tally=NO_TALLY)`, `op_count(widths, batch, relu)` and
`memory_count(widths, batch, relu)`, plus one line here.
"""

import importlib.util
import inspect

from gradients import autograd, backprop, checkpoint, memory, naive, numerical
from gradients.finite import not_finite
from gradients.sizes import check_activation, check_size, check_widths, edges

_MODULES = {"backprop": backprop, "naive": naive, "numerical": numerical, "checkpoint": checkpoint}
if importlib.util.find_spec("torch") is not None:  # a reference where PyTorch is installed; imported at first use
    _MODULES["autograd"] = autograd
METHODS = tuple(_MODULES)


def _module(method):
    if method not in _MODULES:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return _MODULES[method]


def gradient(net, X, y, method="backprop", **options):
    """d loss / d theta of the mini-batch (X, y) by `method`, as a Gradient.

    options go to the method (checkpoint: segments; naive: max_bytes; numerical: h). A gradient
    that is not finite raises NotFiniteError (a ValueError) naming a non-finite parameter or the overflow.
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
    return check_widths(widths), check_size(batch, "batch"), int(check_activation(activation) == "relu")


def op_count(method, widths, batch=1, activation="relu"):
    """Exact multiplications of one call; method is a gradient method or "forward" (see gradients.ops)."""
    widths, batch, relu = _sizes(widths, batch, activation)
    if method == "forward":
        return batch * edges(widths)
    return _module(method).op_count(widths, batch, relu)


def memory_count(method, widths, batch=1, activation="relu", **options):
    """Bytes one call keeps alive at its peak besides its output (see gradients.memory); also "forward".

    options go to the method's model (checkpoint: segments; naive: max_bytes).
    """
    widths, batch, relu = _sizes(widths, batch, activation)
    if method == "forward":
        return memory.forward_count(widths, batch)
    module = _module(method)
    if not hasattr(module, "memory_count"):
        raise ValueError(f"method {method!r} has no memory model")
    return module.memory_count(widths, batch, relu, **options)
