"""Checkpointed backpropagation: store z only at segment boundaries, recompute the rest.

The L layers are cut into k segments (default k = ceil(sqrt(L))). The forward pass keeps
only the z at each segment's start; the backward pass takes the segments from the last to
the first, and just before differentiating one it recomputes that segment's u and z from
its boundary, then runs backprop's backward pass through it. Every layer is computed twice,
so the count is backprop's plus one forward pass, B * sum_t n[t+1] n[t]; the memory is
about k boundaries plus one segment of L/k layers, O(B w sqrt(L)) instead of O(B w L).
"""

import math
from itertools import accumulate

from gradients import memory
from gradients.backprop import backward
from gradients.backprop import op_count as backprop_count
from gradients.network import Gradient, gradient_arrays, loss_link, store_layers, stream_layers
from gradients.ops import NO_TALLY
from gradients.sizes import check_size


def bounds(depth, segments=None):
    """Layer indices 0 = b[0] < ... < b[k] = depth of k segments; the longer ones (by one) first."""
    k = math.ceil(math.sqrt(depth)) if segments is None else check_size(segments, "segments")
    if k > depth:
        raise ValueError(f"segments must be at most the depth {depth}, got {k}")
    q, extra = divmod(depth, k)
    return [j * q + min(j, extra) for j in range(k + 1)]


def gradient(net, X, y, tally=NO_TALLY, segments=None):
    """d loss / d theta by backprop over segments recomputed from stored boundaries."""
    b = bounds(net.depth, segments)
    g_weights = gradient_arrays(net)  # the output first (see gradients.memory)
    # z[b[j]], all the forward pass keeps; the pass is not counted (every method needs one)
    kept = [X]
    for a, c in zip(b, b[1:]):
        kept.append(stream_layers(net.weights[a:c], kept[-1], net.activation))  # (batch, n[c])
    r, g_alpha, g_b = loss_link(net, kept.pop(), y)  # z[L] is not needed again
    delta = net.alpha[:, None] * r  # (n[L], batch) d loss / d z[L]: the loss link, not counted
    for a, c in reversed(list(zip(b, b[1:]))):
        delta = _segment(net, a, c, kept.pop(), delta, g_weights, tally)
    return Gradient(g_weights, g_alpha, g_b)


def _segment(net, a, c, z, delta, g_weights, tally):
    """Recompute u and z of layers a..c from z = z[a], backprop through them: d loss / d z[a]."""
    # counted: the price of the memory
    _, zs = store_layers(net.weights[a:c], z, net.activation, tally)
    return backward(net.weights[a:c], zs, delta, g_weights[a:c], net.activation == "relu", tally,
                    below=a > 0)


def op_count(widths, batch, relu):
    """Backprop's count plus the recomputation: every layer once more, whatever k."""
    edges = sum(a * c for a, c in zip(widths, widths[1:]))
    return backprop_count(widths, batch, relu) + batch * edges


def memory_count(widths, batch, relu, segments=None):
    """The largest of: a forward segment or a backward segment, beside the boundaries kept then."""
    b, n, B = bounds(len(widths) - 1, segments), widths, batch
    # kept[j]: z[b[1..j]]
    kept = list(accumulate((memory.FLOAT * B * n[i] for i in b[1:]), initial=0))
    forward = [kept[j] + memory.streamed_peak(n[a : c + 1], B)
               for j, (a, c) in enumerate(zip(b, b[1:]))]
    backward = [
        kept[j] + memory.stored(n[a + 1 : c + 1], B, relu) + memory.FLOAT * B  # its u, z and r
        # held: gradient() holds delta
        + memory.backward_peak(n[a : c + 1], B, relu, below=a > 0, held=True)
        for j, (a, c) in enumerate(zip(b, b[1:]))
    ]
    return max(forward + backward + [kept[-1]])
