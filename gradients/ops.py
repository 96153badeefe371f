"""Exact operation counts: a closed form per method, and a tally for instrumented runs.

Convention (the lecture's): count scalar multiplications of chain-rule factors, with a
matrix product counted as its multiply-adds (an (m, k) @ (k, n) product is m*k*n), for
d yhat / d theta of every example in the batch. ReLU's factor sigma'(u) is a
multiplication; the identity's is 1 and costs nothing. Not counted, because every method
shares it and it is not the chain rule: the loss link, d loss / d yhat = 2 (yhat - y) / B
and its product with each example's d yhat / d theta (or, in backprop, with alpha), and the
head's gradients alpha, b (forward values times that link). Also not counted: the forward
pass that every gradient method needs, which is op_count("forward"): B * E. Counted, because
it is work a method adds to save memory: checkpoint's second forward pass, the recomputation of
every segment's u and z before it is differentiated (B * sum_t n[t+1] n[t] on top of backprop's).

On the width-1 identity chain of depth T the naive count is 1 + 2 + ... + T = T(T+1)/2,
as on the lecture's slide, and backprop's is 2T - 1.
"""

import math


class Tally:
    """Counts multiplications as a method runs, from the shapes of its actual operands (any array
    library)."""

    def __init__(self):
        self.mults = 0

    def elementwise(self, result):
        """An elementwise product that produced `result`."""
        self.mults += math.prod(result.shape)

    def matmul(self, a, b):
        """(..., m, k) @ (k, n): m*k*n multiply-adds per leading index."""
        self.mults += math.prod(a.shape) * b.shape[-1]


class _NoTally(Tally):
    """The default: counts nothing, so the methods need no `if tally` around their arithmetic."""

    def elementwise(self, result):
        pass

    def matmul(self, a, b):
        pass


NO_TALLY = _NoTally()
