"""The registry: the one place that lists the gradient methods. A new method is one module
with `gradient(net, X, y, tally=NO_TALLY)` and `op_count(widths, batch, relu)`, plus one line here.
"""

import importlib.util

from gradients import autograd, backprop, naive, numerical
from gradients.network import check_activation, check_widths, edges

_MODULES = {"backprop": backprop, "naive": naive, "numerical": numerical}
if importlib.util.find_spec("torch") is not None:  # a reference where PyTorch is installed; imported at first use
    _MODULES["autograd"] = autograd
METHODS = tuple(_MODULES)


def _module(method):
    if method not in _MODULES:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return _MODULES[method]


def gradient(net, X, y, method="backprop", **options):
    """d loss / d theta of the mini-batch (X, y) by `method`, as a Gradient."""
    module = _module(method)
    X, y = net.check_batch(X, y)
    return module.gradient(net, X, y, **options)


def op_count(method, widths, batch=1, activation="relu"):
    """Exact multiplications of one call; method is a gradient method or "forward" (see gradients.ops)."""
    widths = check_widths(widths)
    relu = int(check_activation(activation) == "relu")
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if method == "forward":
        return int(batch) * edges(widths)
    return _module(method).op_count(widths, int(batch), relu)
