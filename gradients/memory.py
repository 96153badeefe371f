"""Working memory, modelled: the bytes of the arrays a method keeps alive at its peak.

Every method hands back the same E + 1 numbers; what differs is what it stores to get there.
`memory_count` (gradients.registry) is a closed form per method, like op_count; the measurement
it is checked against is `gradients.measure_work_memory`: tracemalloc's peak during one call,
less the bytes of the returned gradient (numpy reports its buffers to tracemalloc).

The model describes the NumPy backend in float64. The methods are the same code on PyTorch,
CuPy or array_api_strict and store the same arrays (float32 halves FLOAT), but those libraries
allocate through their own allocators, which tracemalloc does not see; autograd, which exists
only on PyTorch, has no model.

Convention. Counted, at the moment the sum is largest: every array the call allocates besides
its output, in float64 (FLOAT = 8 bytes an entry) or bool (1 byte): stored u and z (for the
identity z is u, one array), checkpoint's boundary layers, deltas, backprop's sigma'(u) as
sign(z) (a float array), naive's sigma'(u) in u's place (a bool mask, then floats), naive's
chain blocks (capped by its max_bytes) and their index arrays, numerical's copy of the
parameters and its activation patterns, and the temporaries that coexist at that moment
(the new delta beside the old one during W^T delta; the new layer beside the old one in a
streamed forward pass; numpy's ufunc buffers, np.getbufsize() = 8192 entries an operand,
where a product casts, broadcasts or takes a transposed operand). Not counted: X and y (the
caller's), the network's parameters, the output gradient (every method allocates it first, so
the peak less the output is the working memory's peak), Python objects (lists, array headers:
some 100 bytes an array), short (batch,) vectors that never meet the peak (yhat in the loss
link), and BLAS's internal buffers. The finiteness checks of X and of the result allocate
nothing (finite.all_finite sums).

In the formulas n = widths (n[0] = d), B = batch, relu = 1 for ReLU and 0 for the identity.
"""

import math

import numpy as np

FLOAT, MASK, INDEX = 8, 1, 8  # bytes of a float64, a bool, an int64 entry


def stored(n, batch, relu):
    """Forward values kept for the nodes of widths n: u and z (one array for the identity)."""
    return FLOAT * batch * (1 + relu) * sum(n)


def streamed_peak(n, batch):
    """stream_layers through widths n: the old layer beside the new; the input is the caller's."""
    pairs = [n[t] + n[t + 1] for t in range(1, len(n) - 1)]
    return FLOAT * batch * max([n[1], *pairs])


# read once: asking numpy costs microseconds, and the sweep asks per layer per point
BUFSIZE = np.getbufsize()


def buffer(size):
    """A ufunc that casts, broadcasts or meets a transposed operand works through a buffer of up to
    np.getbufsize() floats per operand."""
    return FLOAT * min(size, BUFSIZE)


def backward_peak(n, batch, relu, below, held=False):
    """backprop.backward through widths n, delta entering at n[-1]: a delta and mask, or two deltas.

    The mask sign(z) is a float array, and delta (n, batch) times its transpose goes through a
    buffer unless batch is 1 (then both are vectors); a batch of one makes dW an outer product,
    a broadcast with two buffers. W^T delta keeps the old delta (n[t+1]) beside the new one
    (n[t]); the first layer computes none unless `below`. If the caller `held` on to the
    entering delta, it stays alive too.
    """
    m, B, keep = len(n) - 1, batch, FLOAT * batch * n[-1] * held
    # sign(z) and the product's buffer
    sign = [relu * (FLOAT * B * k + buffer(B * k) * (B > 1)) for k in n]
    masks = [FLOAT * B * n[t] + sign[t] + keep * (t < m) for t in range(1, m + 1)]
    outer = [FLOAT * n[t + 1] + 2 * buffer(n[t + 1] * n[t]) + keep * (t < m - 1)
             for t in range(m)] if B == 1 else []
    steps = [FLOAT * B * (n[t] + n[t + 1]) + keep * (t < m - 1)
             for t in range(0 if below else 1, m)]
    return max(masks + outer + steps)


def forward_count(widths, batch):
    """gradients.loss: a streamed forward pass, then z[L] beside X alpha and yhat."""
    return max(streamed_peak(widths, batch), FLOAT * batch * (widths[-1] + 2))


def packed(n, batch):
    """Bytes of numerical's activation pattern: one bit per unit and example, a byte-padded string
    per layer."""
    return sum(math.ceil(batch * k / 8) for k in n)
