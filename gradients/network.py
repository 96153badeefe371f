"""The lecture's fully connected network: z[1] = x, u[t+1] = W[t] z[t], z[t+1] = sigma(u[t+1]),
yhat = alpha^T z[L+1] + b, square loss, mean over a mini-batch.

Code indexes from 0: weights[t] maps zs[t] to us[t+1], zs[0] = X, zs[L] is the last hidden
layer; rows are examples, so a layer is `zs[t] @ W.T`.

Arrays follow the Python array API standard: `xp` is the namespace of the network's arrays
(NumPy by default; `Network.to` moves a network to PyTorch, CuPy or array_api_strict).
"""

from dataclasses import dataclass

import array_api_compat
import numpy as np

from gradients import backends
from gradients.ops import NO_TALLY

ACTIVATIONS = ("relu", "identity")


def sigma(u, activation):
    """The activation: ReLU or identity."""
    return backends.namespace_of(u).maximum(u, 0.0) if activation == "relu" else u


def sigma_prime(u):
    """ReLU'(u) as 0/1 floats, with ReLU'(0) = 0 (PyTorch's convention)."""
    return backends.namespace_of(u).astype(u > 0, u.dtype)


def check_widths(widths):
    """Validate widths n[1..L+1] and return them as a list of ints."""
    try:
        widths = [int(n) for n in widths]
    except (TypeError, ValueError):
        raise ValueError(f"widths must be a list of positive integers, got {widths!r}") from None
    if len(widths) < 2:
        raise ValueError(f"depth must be >= 1: widths needs at least 2 entries (input and one layer), got {widths}")
    if min(widths) < 1:
        raise ValueError(f"every width must be >= 1, got {widths}")
    return widths


def check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
    return activation


def edges(widths):
    """E: weights plus alpha, sum_t n[t+1] n[t] + n[L+1]."""
    widths = check_widths(widths)
    return sum(a * c for a, c in zip(widths, widths[1:])) + widths[-1]


def nodes(widths):
    """V: sum_t n[t] + 1 (every layer's units and the output)."""
    return sum(check_widths(widths)) + 1


@dataclass
class Gradient:
    """d loss / d theta, in the network's own structure."""

    weights: list  # weights[t].shape == (n[t+1], n[t])
    alpha: object  # (n[L+1],) an array of the network's backend
    b: float

    def flat(self):
        """All entries as one vector of the gradient's backend: weights, then alpha, then b."""
        xp = backends.namespace_of(self.alpha)
        b = xp.asarray([self.b], dtype=self.alpha.dtype, device=array_api_compat.device(self.alpha))
        return xp.concat([xp.reshape(W, (-1,)) for W in self.weights] + [self.alpha, b])


class Network:
    """A fully connected network without hidden biases and a linear head (alpha, b).

    Its arrays live where weights[0] does (lists: NumPy float64); alpha must be there too.
    """

    def __init__(self, weights, alpha, b, activation="relu"):
        self.activation = check_activation(activation)
        weights = list(weights)
        if not weights:
            raise ValueError("depth must be >= 1: a network needs at least one weight matrix")
        place = backends.placement(weights[0])
        self.weights = [backends.finite_array(W, f"weights[{t}]", *place) for t, W in enumerate(weights)]
        for t, W in enumerate(self.weights):
            if W.ndim != 2 or min(W.shape) < 1:
                raise ValueError(f"weights[{t}] must be a non-empty 2-D array, got shape {W.shape}")
            if t and W.shape[1] != self.weights[t - 1].shape[0]:
                raise ValueError(
                    f"weights[{t}] has shape {W.shape} but weights[{t - 1}] outputs {self.weights[t - 1].shape[0]} units"
                )
        self.alpha = backends.finite_array(alpha, "alpha", *place)
        if self.alpha.shape != (self.weights[-1].shape[0],):
            raise ValueError(f"alpha must have shape ({self.weights[-1].shape[0]},), got {self.alpha.shape}")
        b = backends.finite_array(backends.to_numpy(b) if array_api_compat.is_array_api_obj(b) else b, "b")
        if b.ndim != 0:
            raise ValueError(f"b must be a scalar, got shape {b.shape}")
        self.b = float(b)

    @classmethod
    def init(cls, widths, seed=0, activation="relu"):
        """A random network of widths n[1..L+1]: He-scaled Gaussian weights, b = 0."""
        widths = check_widths(widths)
        check_activation(activation)
        rng = np.random.default_rng(seed)
        gain = 2.0 if activation == "relu" else 1.0  # keeps activations O(1) with depth
        weights = [rng.normal(0.0, np.sqrt(gain / a), size=(c, a)) for a, c in zip(widths, widths[1:])]
        alpha = rng.normal(0.0, np.sqrt(1.0 / widths[-1]), size=widths[-1])
        return cls(weights, alpha, 0.0, activation=activation)

    @property
    def widths(self):
        return [self.weights[0].shape[1]] + [W.shape[0] for W in self.weights]

    @property
    def depth(self):
        return len(self.weights)

    @property
    def xp(self):
        """The array API namespace of the network's arrays."""
        return backends.namespace_of(self.alpha)

    @property
    def device(self):
        return array_api_compat.device(self.alpha)

    @property
    def dtype(self):
        return self.alpha.dtype

    def copy(self):
        xp = self.xp
        return Network([xp.asarray(W, copy=True) for W in self.weights], xp.asarray(self.alpha, copy=True), self.b,
                       self.activation)

    def to(self, backend, device=None, dtype=None):
        """A copy on another backend ("numpy", "torch", "cupy", "array_api_strict" or a namespace), device, dtype.

        device None: the backend's default device; dtype None: keep the network's ("float64" or "float32").
        """
        xp = backends.namespace(backend)
        dtype = backends.dtype_name(self.dtype) if dtype is None else dtype
        weights = [backends.move(W, xp, device, dtype) for W in self.weights]
        return Network(weights, backends.move(self.alpha, xp, device, dtype), self.b, self.activation)

    def check_batch(self, X, y=None):
        """Validate a batch: X (B, d) finite, y (B,) finite, on the network's backend; return them in its dtype."""
        place = self.xp, self.dtype, self.device
        X = backends.finite_array(X, "X", *place)
        d = self.widths[0]
        if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
            raise ValueError(f"X must have shape (batch >= 1, {d}), got {tuple(X.shape)}")
        if y is None:
            return X
        y = backends.finite_array(y, "y", *place)
        if tuple(y.shape) != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
        return X, y

    def forward(self, X, tally=NO_TALLY):
        """Forward pass storing every node: us[t+1] = zs[t] W[t]^T, zs[t+1] = sigma(us[t+1])."""
        zs, us = [X], [None]  # us[0] unused: the input has no pre-activation
        for W in self.weights:
            u = zs[-1] @ W.T  # (batch, n_out)
            tally.matmul(zs[-1], W.T)
            us.append(u)
            zs.append(sigma(u, self.activation))
        return us, zs

    def predict(self, X):
        """yhat for every row of X: (B, d) -> (B,)."""
        X = self.check_batch(X)
        _, zs = self.forward(X)
        return zs[-1] @ self.alpha + self.b


def loss(net, X, y, tally=NO_TALLY):
    """Mean square loss of a mini-batch: mean((yhat - y)^2). Also the `forward` cost reference."""
    X, y = net.check_batch(X, y)
    _, zs = net.forward(X, tally)
    yhat = zs[-1] @ net.alpha + net.b  # (batch,)
    tally.matmul(zs[-1], net.alpha[:, None])
    return float(net.xp.mean((yhat - y) ** 2))


def loss_link(net, zs, y):
    """d loss / d yhat for each example, r = 2 (yhat - y) / B, and the head's gradient.

    This link (the loss's derivative and alpha's, b's gradients, which are forward values
    times r) is shared by every method and is not part of the chain-rule count.
    """
    yhat = zs[-1] @ net.alpha + net.b  # (batch,)
    r = 2.0 * (yhat - y) / y.shape[0]  # (batch,)
    return r, r @ zs[-1], float(net.xp.sum(r))


def make_data(widths, batch, seed=0, backend="numpy", device=None, dtype=None):
    """A seeded random batch for a network of these widths: X (B, d), y (B,) standard normal.

    Drawn by NumPy, then moved to backend/device/dtype (as Network.to), so every backend gets the same values.
    """
    widths = check_widths(widths)
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    rng = np.random.default_rng([seed, 1])  # a stream apart from Network.init(seed)'s
    X, y = rng.standard_normal((int(batch), widths[0])), rng.standard_normal(int(batch))
    if backend == "numpy" and device is None and dtype is None:
        return X, y
    return backends.move(X, backend, device, dtype), backends.move(y, backend, device, dtype)
