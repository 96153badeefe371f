"""PyTorch's own reverse mode as a reference: torch.autograd.grad on the same network and batch.

The forward pass is written here in PyTorch (torch.relu, so ReLU'(0) = 0 as everywhere), not
borrowed from Network.forward: the reference shares no code with the methods it checks.
A network on PyTorch is used as it is. Any other enters PyTorch by DLPack (torch.from_dlpack):
no copy for NumPy or array_api_strict (CPU memory is shared) or CuPy (GPU memory is shared);
that wrapping, and wrapping the gradient back into the network's backend, is part of the call.

Operation count: autograd's backward pass performs backprop's multiplications, so its closed
form is backprop's: for every layer d/dW = delta^T z (an aten.mm), W^T delta below the first
layer (an aten.mm; the input needs no gradient), and ReLU's mask (aten.threshold_backward).
A Tally, when given, counts those aten calls as the backward pass dispatches them; the head
(an aten.mv and a product with alpha) and the loss's derivative are the loss link, not counted,
as in gradients.ops. PyTorch is imported at the first call, not at `import gradients`.
"""

import contextlib

import array_api_compat

from gradients import backprop
from gradients.network import Gradient
from gradients.ops import NO_TALLY


def gradient(net, X, y, tally=NO_TALLY):
    """d loss / d theta by torch.autograd.grad."""
    import torch

    xp = net.xp
    on_torch = array_api_compat.is_torch_namespace(xp)
    wrap = (lambda x: x) if on_torch else torch.from_dlpack  # noqa: E731
    # (n[t+1], n[t]); detach: no copy
    weights = [wrap(W).detach().requires_grad_() for W in net.weights]
    alpha = wrap(net.alpha).detach().requires_grad_()  # (n[L],)
    b = torch.full((), net.b, dtype=alpha.dtype, device=alpha.device, requires_grad=True)
    z = wrap(X)  # (batch, d)
    for W in weights:
        u = z @ W.T  # (batch, n_out)
        z = torch.relu(u) if net.activation == "relu" else u
    yhat = z @ alpha + b  # (batch,)
    loss = torch.mean((yhat - wrap(y)) ** 2)
    with _counting(tally):
        *g_weights, g_alpha, g_b = torch.autograd.grad(loss, [*weights, alpha, b])
    back = (lambda g: g) if on_torch else xp.from_dlpack  # noqa: E731
    return Gradient([back(g) for g in g_weights], back(g_alpha), float(g_b))


def _counting(tally):
    """A context tallying the backward's matrix products and ReLU masks; nothing for NO_TALLY."""
    if tally is NO_TALLY:
        return contextlib.nullcontext()
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Counting(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func is torch.ops.aten.mm.default:
                tally.matmul(args[0], args[1])
            elif func is torch.ops.aten.threshold_backward.default:
                tally.elementwise(args[0])
            return func(*args, **(kwargs or {}))

    return Counting()


def op_count(widths, batch, relu):
    """backprop's closed form: autograd's backward pass performs the same multiplications."""
    return backprop.op_count(widths, batch, relu)


def memory_count(widths, batch, relu):
    """No model: PyTorch allocates through its own allocator, which tracemalloc (every model's
    check) does not see."""
    raise ValueError("method 'autograd' has no memory model: PyTorch's allocations are not visible "
                     "to tracemalloc, which checks every model (gradients.memory models the NumPy "
                     "methods)")
