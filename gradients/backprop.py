"""Backpropagation: a forward pass that stores every node, then one backward pass.

The lecture's exercise in matrix-vector form, with one column per example of the batch:
delta = d loss / d z[L] at the last layer, then for t = L-1 .. 0
    delta = delta * sigma'(u[t+1])         (d loss / d u[t+1])
    dW[t] = delta z[t]                     (the gradient of layer t, summed over the batch)
    delta = W[t]^T delta                   (d loss / d z[t], one layer down)
Theta(B (E + V)).

For ReLU, sigma'(u[t+1]) is read off the stored z[t+1] = max(u[t+1], 0) as sign(z[t+1]): 1 where
u > 0, 0 where u <= 0 (ReLU'(0) = 0), floats in one elementwise op (the array API has no
float-times-boolean).
"""

from gradients import backends, memory
from gradients.network import Gradient, gradient_arrays, loss_link
from gradients.ops import NO_TALLY


def gradient(net, X, y, tally=NO_TALLY):
    """d loss / d theta by backpropagation."""
    g_weights = gradient_arrays(net)  # the output first (see gradients.memory)
    # rows are examples: us[t], zs[t] are (batch, n[t]); the lecture stores both
    us, zs = net.forward(X)
    r, g_alpha, g_b = loss_link(net, zs[-1], y)
    # (n[L], batch) d loss / d z[L], the loss link (not counted), handed over: backward frees it
    # when done
    backward(net.weights, zs, net.alpha[:, None] * r, g_weights, net.activation == "relu", tally)
    return Gradient(g_weights, g_alpha, g_b)


def backward(weights, zs, delta, g_weights, relu, tally, below=False):
    """The backward pass through `weights`, writing d loss / d W[t] into g_weights[t].

    delta is d loss / d z after the last of them, (n_out, batch); zs[t] and zs[t + 1] are the
    nodes on either side of weights[t]. Returns d loss / d z below the first if `below`
    (the network's input needs none).
    """
    xp = backends.namespace_of(delta)
    ip, batch = backends.inplace(xp), zs[0].shape[0]
    for t in range(len(weights) - 1, -1, -1):
        if relu:
            # (n[t+1], batch) d loss / d u[t+1]: times sigma'(u), in place
            delta *= xp.sign(zs[t + 1]).T
            tally.elementwise(delta)
        # (n[t+1], n[t]) into the output; one example: the outer product, which numpy does faster
        # as a broadcast
        (ip.multiply if batch == 1 else ip.matmul)(delta, zs[t], out=g_weights[t])
        tally.matmul(delta, zs[t])
        if t == 0 and not below:
            return None
        tally.matmul(weights[t].T, delta)
        delta = weights[t].T @ delta  # (n[t], batch) d loss / d z[t]
    return delta


def op_count(widths, batch, relu):
    """Closed form of the tally above: d/dW for every layer, W^T delta for all but the first."""
    layers = [a * c for a, c in zip(widths, widths[1:])]
    masks = sum(widths[1:]) if relu else 0  # sigma'(u) at every non-input node
    return batch * (sum(layers) + sum(layers[1:]) + masks)


def memory_count(widths, batch, relu):
    """Every u and z stored, r, and the backward pass's deltas and masks (see gradients.memory)."""
    return (memory.stored(widths[1:], batch, relu) + memory.FLOAT * batch
            + memory.backward_peak(widths, batch, relu, below=False))
