"""The naive algorithm: for every weight separately, the chain rule multiplied out from that
weight to the output. Nothing is shared between weights but the forward pass.

For the weight W[t]_ij the chain starts at d u[t+1] / d W[t]_ij = z[t]_j e_i and is carried
forward one layer at a time (times sigma'(u), times the next W) until alpha turns it into
d yhat / d W[t]_ij: on the lecture's width-1 chain that is T, T-1, ..., 1 multiplications.
A block of weights' chains is carried at once as the columns of one matrix, so the array
library does the arithmetic, but every column is still one weight's own chain. Theta(B E (E + V)).
"""

from gradients import memory
from gradients.network import Gradient, gradient_arrays, loss_link, sigma_prime
from gradients.ops import NO_TALLY
from gradients.sizes import check_size

MAX_BYTES = 256 * 2**20  # peak extra memory of the chain blocks, whatever the network size


def gradient(net, X, y, tally=NO_TALLY, max_bytes=MAX_BYTES):
    """d loss / d theta by the per-weight chain rule."""
    xp, device = net.xp, net.device
    g_weights = gradient_arrays(net)  # the output first (see gradients.memory)
    us, zs = net.forward(X)
    r, g_alpha, g_b = loss_link(net, zs[-1], y)
    d = None
    if net.activation == "relu":
        for k in range(1, len(us)):
            # (batch, n[k]) sigma'(u[k]) takes u[k]'s place: no chain needs u
            us[k] = sigma_prime(us[k])
        d = us
    block = chains_per_block(net.widths, X.shape[0], max_bytes, xp.finfo(net.dtype).bits // 8)
    for t, W in enumerate(net.weights):
        n_in, size = W.shape[1], W.shape[0] * W.shape[1]
        g = xp.reshape(g_weights[t], (-1,))  # (size,) a view: one entry per weight W[t]_ij
        for k0 in range(0, size, block):
            k1 = min(k0 + block, size)
            ks = xp.arange(k0, k1, device=device)  # (chains,) flat indices of this block of W[t]
            i, j = ks // n_in, ks % n_in  # weight W[t]_ij for each chain
            # (batch, chains) d yhat / d W[t]_ij
            dyhat = _chains(net, t, i, xp.take(zs[t], j, axis=1), d, tally)
            g[k0:k1] = r @ dyhat  # the loss link, d loss / d yhat, not counted
    return Gradient(g_weights, g_alpha, g_b)


def chains_per_block(widths, batch, max_bytes, itemsize=memory.FLOAT):
    """Chains carried at once: about two (widest, batch, block) float arrays live in a product."""
    max_bytes, widest = check_size(max_bytes, "max_bytes"), max(widths)
    return max(1, max_bytes // (itemsize * (2 * widest * batch + widest + 4 * batch)))


def _chains(net, t, i, z_j, d, tally):
    """d yhat / d W[t]_ij for a block of weights, one column per weight: (batch, chains)."""
    xp, L = net.xp, net.depth
    tangent = z_j  # (batch, chains) d u[t+1]_i / d W[t]_ij
    if d is not None:
        tangent = tangent * xp.take(d[t + 1], i, axis=1)  # d z[t+1]_i / d W[t]_ij
        tally.elementwise(tangent)
    if t == L - 1:
        tangent = tangent * xp.take(net.alpha, i)  # d yhat / d W[t]_ij
        tally.elementwise(tangent)
        return tangent
    # (n[t+2], batch, chains) d u[t+2]; take's result is C order, so is V: the reshapes below do
    # not copy
    V = xp.take(net.weights[t + 1], i, axis=1)[:, None, :] * tangent[None, :, :]
    tally.elementwise(V)
    for k in range(t + 2, L + 1):
        if d is not None:
            V *= d[k].T[:, :, None]  # d z[k] / d W[t]_ij
            tally.elementwise(V)
        if k < L:
            n_k, shape = V.shape[0], tuple(V.shape[1:])
            flat = xp.reshape(V, (n_k, -1))  # (n[k], batch * chains)
            tally.matmul(net.weights[k], flat)
            V = xp.reshape(net.weights[k] @ flat, (-1, *shape))  # (n[k+1], batch, chains)
            del flat  # a view that would keep the old V alive through the next step
    flat = xp.reshape(V, (V.shape[0], -1))  # (n[L], batch * chains)
    tally.matmul(net.alpha[None, :], flat)
    return xp.reshape(net.alpha @ flat, tuple(V.shape[1:]))  # (batch, chains) d yhat / d W[t]_ij


def op_count(widths, batch, relu):
    """Closed form of the tally above: the sum over weights of each one's chain length. O(L)."""
    n, L = widths, len(widths) - 1
    total = n[L] * n[L - 1] * (relu + 1)  # the last layer: z_j, times sigma'(u_i), times alpha_i
    # suffix sums over the later layers: n[t+2 .. L], n[k+1] n[k] for k = t+2 .. L-1
    nodes, products = n[L], 0
    for t in range(L - 2, -1, -1):
        chain = relu + n[t + 2]  # sigma'(u_i) z_j, then column i of W[t+1]
        chain += relu * nodes  # sigma' at every later layer
        chain += products  # W[k] @ tangent
        chain += n[L]  # alpha . tangent
        total += n[t + 1] * n[t] * chain
        nodes, products = nodes + n[t + 1], products + n[t + 2] * n[t + 1]
    return batch * total


def memory_count(widths, batch, relu, max_bytes=MAX_BYTES):
    """Forward values (z, and sigma'(u) in u's place), r, and the largest layer's chain block."""
    n, L, B, F = widths, len(widths) - 1, batch, memory.FLOAT
    block = chains_per_block(widths, batch, max_bytes)
    base = memory.stored(n[1:], B, relu) + F * B  # + r
    # sigma_prime beside the u it replaces
    swap = relu * max(B * k * (F + memory.MASK) for k in n[1:])
    # the last layer's chains: z_j, its sigma' factor or alpha_i, the product; + ks, i, j
    c = min(block, n[L] * n[L - 1])
    blocks = [c * (F * ((2 + relu) * B + 1) + 3 * memory.INDEX) + memory.buffer(B * c)]
    pairs = 0  # max of n[k] + n[k+1] for k = t+2 .. L-1, a suffix maximum
    for t in range(L - 2, -1, -1):
        c = min(block, n[t + 1] * n[t])
        beside = c * (F * B * (1 + relu) + 3 * memory.INDEX)  # z_j and tangent, ks, i, j
        # V from a column of W[t+1]
        made = F * c * n[t + 2] * (B + 1) + memory.buffer(n[t + 2] * B * c)
        carried = F * c * B * max(pairs, n[L] + 1)  # old and new V during W[k] @ V; V and alpha . V
        blocks.append(beside + max(made, carried))
        pairs = max(pairs, n[t + 1] + n[t + 2])
    return base + max(max(blocks), swap)
