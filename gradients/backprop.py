"""Backpropagation: a forward pass that stores every node, then one backward pass.

The lecture's exercise in matrix-vector form, with one column per example of the batch:
delta = d loss / d u[L] at the last layer, then for t = L-1 .. 0
    dW[t] = delta z[t]                     (the gradient of layer t, summed over the batch)
    delta = (W[t]^T delta) * sigma'(u[t])  (d loss / d u one layer down)
Theta(B (E + V)).

For ReLU, sigma'(u) is taken as sign(z) with z = max(u, 0): 1 where u > 0, 0 where u <= 0
(ReLU'(0) = 0), as floats in one elementwise op: the array API has no float-times-boolean.
"""

from gradients.network import Gradient, loss_link
from gradients.ops import NO_TALLY


def gradient(net, X, y, tally=NO_TALLY):
    """d loss / d theta by backpropagation."""
    xp = net.xp
    _, zs = net.forward(X)  # rows are examples: zs[t] is (batch, n[t])
    r, g_alpha, g_b = loss_link(net, zs, y)
    relu = net.activation == "relu"
    delta = net.alpha[:, None] * r  # (n[L], batch) d loss / d z[L]: the loss link, not counted
    if relu:
        delta *= xp.sign(zs[-1]).T  # d loss / d u[L]: times sigma'(u), in place
        tally.elementwise(delta)
    g_weights = [None] * net.depth
    for t in range(net.depth - 1, -1, -1):
        # (n[t+1], n[t]); one example: the outer product, which numpy does faster as a broadcast
        g_weights[t] = delta * zs[t] if X.shape[0] == 1 else delta @ zs[t]
        tally.matmul(delta, zs[t])
        if t == 0:
            break  # the input needs no delta
        tally.matmul(net.weights[t].T, delta)
        delta = net.weights[t].T @ delta  # (n[t], batch) d loss / d z[t]
        if relu:
            delta *= xp.sign(zs[t]).T
            tally.elementwise(delta)
    return Gradient(g_weights, g_alpha, g_b)


def op_count(widths, batch, relu):
    """Closed form of the tally above: d/dW for every layer, W^T delta for all but the first."""
    layers = [a * c for a, c in zip(widths, widths[1:])]
    masks = sum(widths[1:]) if relu else 0  # sigma'(u) at every non-input node
    return batch * (sum(layers) + sum(layers[1:]) + masks)
