"""The naive algorithm: for every weight separately, the chain rule multiplied out from that
weight to the output. Nothing is shared between weights but the forward pass.

For the weight W[t]_ij the chain starts at d u[t+1] / d W[t]_ij = z[t]_j e_i and is carried
forward one layer at a time (times sigma'(u), times the next W) until alpha turns it into
d yhat / d W[t]_ij: on the lecture's width-1 chain that is T, T-1, ..., 1 multiplications.
A block of weights' chains is carried at once as the columns of one matrix, so the array
library does the arithmetic, but every column is still one weight's own chain. Theta(B E (E + V)).
"""

from gradients.network import Gradient, loss_link, sigma_prime
from gradients.ops import NO_TALLY

MAX_BYTES = 256 * 2**20  # peak extra memory of the chain blocks, whatever the network size


def gradient(net, X, y, tally=NO_TALLY, max_bytes=MAX_BYTES):
    """d loss / d theta by the per-weight chain rule."""
    xp, device = net.xp, net.device
    us, zs = net.forward(X)
    r, g_alpha, g_b = loss_link(net, zs, y)
    relu = net.activation == "relu"
    d = [None] + [sigma_prime(u) for u in us[1:]] if relu else None  # d[k]: (batch, n[k])
    d_rows = [None] + [dk.T[:, :, None] for dk in d[1:]] if relu else None  # d_rows[k]: (n[k], batch, 1)
    batch, widest = X.shape[0], max(net.widths)
    # chains carried at once: two (widest, batch, block) float arrays live during a product
    itemsize = xp.finfo(net.dtype).bits // 8
    block = max(1, max_bytes // (itemsize * (2 * widest * batch + widest + 4 * batch)))
    g_weights = []
    for t, W in enumerate(net.weights):
        n_out, n_in = W.shape
        size = n_out * n_in
        g = xp.empty(size, dtype=net.dtype, device=device)
        for k0 in range(0, size, block):
            k1 = min(k0 + block, size)
            ks = xp.arange(k0, k1, device=device)  # (chains,) flat indices of this block of W[t]
            i, j = ks // n_in, ks % n_in  # weight W[t]_ij for each chain
            z_j = xp.take(zs[t], j, axis=1)  # (batch, chains)
            dyhat = _chains(net, t, i, z_j, d, d_rows, tally)  # (batch, chains) d yhat / d W[t]_ij
            g[k0:k1] = r @ dyhat  # the loss link, d loss / d yhat, not counted
        g_weights.append(xp.reshape(g, (n_out, n_in)))
    return Gradient(g_weights, g_alpha, g_b)


def _chains(net, t, i, z_j, d, d_rows, tally):
    """d yhat / d W[t]_ij for a block of weights, one column per weight: (batch, chains).

    d[k] is sigma'(u[k]) (batch, n[k]); d_rows[k] the same values as (n[k], batch, 1), to scale V.
    """
    xp, L = net.xp, net.depth
    tangent = z_j  # (batch, chains) d u[t+1]_i / d W[t]_ij
    if d is not None:
        tangent = tangent * xp.take(d[t + 1], i, axis=1)  # d z[t+1]_i / d W[t]_ij
        tally.elementwise(tangent)
    if t == L - 1:
        tangent = tangent * xp.take(net.alpha, i)  # d yhat / d W[t]_ij
        tally.elementwise(tangent)
        return tangent
    # (n[t+2], batch, chains) d u[t+2]; take's result is C order, so is V: the reshapes below do not copy
    V = xp.take(net.weights[t + 1], i, axis=1)[:, None, :] * tangent[None, :, :]
    tally.elementwise(V)
    for k in range(t + 2, L + 1):
        if d is not None:
            V *= d_rows[k]  # d z[k] / d W[t]_ij
            tally.elementwise(V)
        if k < L:
            n_k, shape = V.shape[0], tuple(V.shape[1:])
            flat = xp.reshape(V, (n_k, -1))  # (n[k], batch * chains)
            tally.matmul(net.weights[k], flat)
            V = xp.reshape(net.weights[k] @ flat, (-1, *shape))  # (n[k+1], batch, chains)
    flat = xp.reshape(V, (V.shape[0], -1))  # (n[L], batch * chains)
    tally.matmul(net.alpha[None, :], flat)
    return xp.reshape(net.alpha @ flat, tuple(V.shape[1:]))  # (batch, chains) d yhat / d W[t]_ij


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
