"""Backpropagation: a forward pass that stores every node, then one backward pass.

The lecture's exercise in matrix-vector form, batched over the mini-batch (rows are
examples): delta[L] = d loss / d u at the last layer, then for t = L-1 .. 0
    dW[t] = delta^T z[t]                   (the gradient of layer t, summed over the batch)
    delta = (delta W[t]) * sigma'(u[t])    (d loss / d u one layer down)
Theta(B (E + V)).
"""

from gradients.network import Gradient, loss_link


def gradient(net, X, y, tally=None):
    """d loss / d theta by backpropagation."""
    us, zs = net.forward(X)
    r, g_alpha, g_b = loss_link(net, zs, y)
    relu = net.activation == "relu"
    delta = r[:, None] * net.alpha  # (batch, n[L]) d loss / d z[L]: the loss link, not counted
    if relu:
        delta *= us[-1] > 0  # (batch, n[L]) d loss / d u[L]: sigma'(u), in place
        if tally is not None:
            tally.elementwise(delta)
    g_weights = [None] * net.depth
    for t in range(net.depth - 1, -1, -1):
        g_weights[t] = delta.T @ zs[t]  # (n[t+1], n[t])
        if tally is not None:
            tally.matmul(delta.T, zs[t])
        if t == 0:
            break  # the input needs no delta
        if tally is not None:
            tally.matmul(delta, net.weights[t])
        delta = delta @ net.weights[t]  # (batch, n[t])
        if relu:
            delta *= us[t] > 0
            if tally is not None:
                tally.elementwise(delta)
    return Gradient(g_weights, g_alpha, g_b)


def op_count(widths, batch, relu):
    """Closed form of the tally above: d/dW for every layer, W^T delta for all but the first."""
    layers = [a * c for a, c in zip(widths, widths[1:])]
    masks = sum(widths[1:]) if relu else 0  # sigma'(u) at every non-input node
    return batch * (sum(layers) + sum(layers[1:]) + masks)
