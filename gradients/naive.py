"""The naive algorithm: for every weight separately, the chain rule multiplied out from that
weight to the output. Nothing is shared between weights but the forward pass.

For the weight W[t]_ij the chain starts at d u[t+1] / d W[t]_ij = z[t]_j e_i and is carried
forward one layer at a time (times sigma'(u), times the next W) until alpha turns it into
d yhat / d W[t]_ij: on the lecture's width-1 chain that is T, T-1, ..., 1 multiplications.
A block of weights' chains is carried at once as the columns of one matrix, so numpy does
the arithmetic, but every column is still one weight's own chain. Theta(B E (E + V)).
"""

import numpy as np

from gradients.network import Gradient, loss_link, sigma_prime
from gradients.ops import NO_TALLY

MAX_BYTES = 256 * 2**20  # peak extra memory of the chain blocks, whatever the network size


def gradient(net, X, y, tally=NO_TALLY, max_bytes=MAX_BYTES):
    """d loss / d theta by the per-weight chain rule."""
    us, zs = net.forward(X)
    r, g_alpha, g_b = loss_link(net, zs, y)
    relu = net.activation == "relu"
    d = [None] + [sigma_prime(u) for u in us[1:]] if relu else None  # d[k]: (batch, n[k])
    batch, widest = X.shape[0], max(net.widths)
    # chains carried at once: two (widest, batch, block) float arrays live during a product
    block = max(1, max_bytes // (8 * (2 * widest * batch + widest + 4 * batch)))
    g_weights = []
    for t, W in enumerate(net.weights):
        n_out, n_in = W.shape
        g = np.empty(n_out * n_in)
        for k0 in range(0, g.size, block):
            ks = np.arange(k0, min(k0 + block, g.size))
            i, j = ks // n_in, ks % n_in  # weight W[t]_ij for each chain
            dyhat = _chains(net, t, i, zs[t][:, j], d, tally)  # (batch, chains) d yhat / d W[t]_ij
            g[ks] = r @ dyhat  # the loss link, d loss / d yhat, not counted
        g_weights.append(g.reshape(n_out, n_in))
    return Gradient(g_weights, g_alpha, g_b)


def _chains(net, t, i, z_j, d, tally):
    """d yhat / d W[t]_ij for a block of weights, one column per weight: (batch, chains)."""
    L = net.depth
    tangent = z_j  # (batch, chains) d u[t+1]_i / d W[t]_ij
    if d is not None:
        tangent = tangent * d[t + 1][:, i]  # d z[t+1]_i / d W[t]_ij
        tally.elementwise(tangent)
    if t == L - 1:
        tangent = tangent * net.alpha[i]  # d yhat / d W[t]_ij
        tally.elementwise(tangent)
        return tangent
    # (n[t+2], batch, chains) d u[t+2]; C order, or every reshape below would copy
    V = np.multiply(net.weights[t + 1][:, i][:, None, :], tangent[None], order="C")
    tally.elementwise(V)
    for k in range(t + 2, L + 1):
        if d is not None:
            V *= d[k].T[:, :, None]  # d z[k] / d W[t]_ij
            tally.elementwise(V)
        if k < L:
            n_k, shape = V.shape[0], V.shape[1:]
            tally.matmul(net.weights[k], V.reshape(n_k, -1))
            V = (net.weights[k] @ V.reshape(n_k, -1)).reshape(-1, *shape)  # (n[k+1], batch, chains)
    tally.matmul(net.alpha[None, :], V.reshape(V.shape[0], -1))
    return np.tensordot(net.alpha, V, axes=1)  # (batch, chains) d yhat / d W[t]_ij


def op_count(widths, batch, relu):
    """Closed form of the tally above: the sum over weights of each one's chain length."""
    n, L = widths, len(widths) - 1
    total = 0
    for t in range(L):
        if t == L - 1:
            chain = relu + 1  # z_j, times sigma'(u_i), times alpha_i
        else:
            chain = relu + n[t + 2]  # sigma'(u_i) z_j, then column i of W[t+1]
            chain += relu * sum(n[t + 2 : L + 1])  # sigma' at every later layer
            chain += sum(n[k + 1] * n[k] for k in range(t + 2, L))  # W[k] @ tangent
            chain += n[L]  # alpha . tangent
        total += n[t + 1] * n[t] * chain
    return batch * total
