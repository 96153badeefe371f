"""The lecture's fully connected network: z[1] = x, u[t+1] = W[t] z[t], z[t+1] = sigma(u[t+1]),
yhat = alpha^T z[L+1] + b, square loss, mean over a mini-batch.

Code indexes from 0: weights[t] maps zs[t] to us[t+1], zs[0] = X, zs[L] is the last hidden
layer; rows are examples, so a layer is `zs[t] @ W.T`.
"""

import math
from dataclasses import dataclass

import numpy as np

from gradients.finite import all_finite, not_finite
from gradients.ops import NO_TALLY

ACTIVATIONS = ("relu", "identity")


def sigma(u, activation):
    """The activation: ReLU or identity."""
    return np.maximum(u, 0.0) if activation == "relu" else u


def sigma_prime(u):
    """ReLU'(u) as 0/1 floats, with ReLU'(0) = 0 (PyTorch's convention)."""
    return (u > 0).astype(u.dtype)


def _is_integer(n):
    """ints and numpy integers are sizes; floats (2.5, even 2.0), bools and strings are not."""
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def check_size(n, name):
    """n as an int >= 1, or a ValueError naming it."""
    if not _is_integer(n):
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


def check_widths(widths):
    """Validate widths n[1..L+1] and return them as a list of ints."""
    if np.iterable(widths) and not isinstance(widths, (str, bytes)):
        widths = list(widths)
    if not isinstance(widths, list) or not all(_is_integer(n) for n in widths):
        raise ValueError(f"widths must be a list of positive integers, got {widths!r}")
    widths = [int(n) for n in widths]
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


def _finite_array(x, name):
    x = np.asarray(x, dtype=np.float64)
    if not all_finite(x):
        raise ValueError(f"{name} has non-finite values (NaN or inf)")
    return x


@dataclass
class Gradient:
    """d loss / d theta, in the network's own structure."""

    weights: list  # weights[t].shape == (n[t+1], n[t])
    alpha: np.ndarray  # (n[L+1],)
    b: float

    def flat(self):
        """All entries as one vector: weights, then alpha, then b."""
        return np.concatenate([w.ravel() for w in self.weights] + [self.alpha, [self.b]])

    def is_finite(self):
        """No NaN or inf anywhere: one pass over a buffer the weights' arrays tile, else one per array."""
        arrays, base = self.weights, self.weights[0].base
        if base is not None and all(W.base is base for W in arrays) and base.size == sum(W.size for W in arrays):
            arrays = [base]  # gradient_arrays' layout: one call, however deep the network
        return all(all_finite(W) for W in [*arrays, self.alpha]) and math.isfinite(self.b)


def gradient_arrays(net):
    """Room for d loss / d W[t], every t: views of one buffer, allocated before any work (see gradients.memory)."""
    buffer = np.empty(sum(W.size for W in net.weights))  # (sum_t n[t+1] n[t],)
    arrays, start = [], 0
    for W in net.weights:
        arrays.append(buffer[start : start + W.size].reshape(W.shape))
        start += W.size
    return arrays


class Network:
    """A fully connected network without hidden biases and a linear head (alpha, b)."""

    def __init__(self, weights, alpha, b, activation="relu"):
        self.activation = check_activation(activation)
        self.weights = [_finite_array(W, f"weights[{t}]") for t, W in enumerate(weights)]
        if not self.weights:
            raise ValueError("depth must be >= 1: a network needs at least one weight matrix")
        for t, W in enumerate(self.weights):
            if W.ndim != 2 or min(W.shape) < 1:
                raise ValueError(f"weights[{t}] must be a non-empty 2-D array, got shape {W.shape}")
            if t and W.shape[1] != self.weights[t - 1].shape[0]:
                n_prev = self.weights[t - 1].shape[0]
                raise ValueError(f"weights[{t}] has shape {W.shape} but weights[{t - 1}] outputs {n_prev} units")
        self.alpha = _finite_array(alpha, "alpha")
        if self.alpha.shape != (self.weights[-1].shape[0],):
            raise ValueError(f"alpha must have shape ({self.weights[-1].shape[0]},), got {self.alpha.shape}")
        b = _finite_array(b, "b")
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

    def copy(self):
        return Network([W.copy() for W in self.weights], self.alpha.copy(), self.b, self.activation)

    def check_batch(self, X, y=None):
        """Validate a batch: X (B, d) finite, y (B,) finite; return them as float arrays."""
        X = np.asarray(X, dtype=np.float64)
        d = self.widths[0]
        if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
            raise ValueError(f"X must have shape (batch >= 1, {d}), got {X.shape}")
        X = _finite_array(X, "X")
        if y is None:
            return X
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        return X, _finite_array(y, "y")

    def forward(self, X, tally=NO_TALLY):
        """Forward pass storing every node (what gradient methods need): (us, zs), see store_layers."""
        return store_layers(self.weights, X, self.activation, tally)

    def output(self, X, tally=NO_TALLY):
        """yhat of a checked batch, keeping only the current layer: (B, d) -> (B,)."""
        z = stream_layers(self.weights, X, self.activation, tally)  # (batch, n[L])
        tally.matmul(z, self.alpha[:, None])
        return z @ self.alpha + self.b  # (batch,)

    def predict(self, X):
        """yhat for every row of X: (B, d) -> (B,)."""
        yhat = self.output(self.check_batch(X))  # (batch,)
        if not all_finite(yhat):
            raise not_finite(self, "the prediction", "forward pass")
        return yhat


def store_layers(weights, z, activation, tally=NO_TALLY):
    """Forward through `weights` from z, storing every node: us[t+1] = zs[t] W[t]^T, zs[t+1] = sigma(us[t+1]).

    zs[0] is z itself and us[0] is None (the input has no pre-activation); for the identity,
    zs[t] is us[t], the same array.
    """
    zs, us = [z], [None]
    for W in weights:
        u = zs[-1] @ W.T  # (batch, n_out)
        tally.matmul(zs[-1], W.T)
        us.append(u)
        zs.append(sigma(u, activation))
    return us, zs


def stream_layers(weights, z, activation, tally=NO_TALLY):
    """z after the last of `weights`, keeping only the current layer: memory O(batch * width), not O(batch * V)."""
    for W in weights:
        u = z @ W.T  # (batch, n_out)
        tally.matmul(z, W.T)
        z = np.maximum(u, 0.0, out=u) if activation == "relu" else u  # sigma in place: u is not needed again
    return z


def loss(net, X, y, tally=NO_TALLY):
    """Mean square loss of a mini-batch: mean((yhat - y)^2). Also the `forward` cost reference."""
    X, y = net.check_batch(X, y)
    value = float(np.mean((net.output(X, tally) - y) ** 2))
    if not np.isfinite(value):
        raise not_finite(net, "the loss", "forward pass")
    return value


def loss_link(net, z, y):
    """d loss / d yhat for each example, r = 2 (yhat - y) / B, and the head's gradient, from z = z[L].

    This link (the loss's derivative and alpha's, b's gradients, which are forward values
    times r) is shared by every method and is not part of the chain-rule count.
    """
    yhat = z @ net.alpha + net.b  # (batch,)
    r = 2.0 * (yhat - y) / len(y)  # (batch,)
    return r, r @ z, float(r.sum())


def make_data(widths, batch, seed=0):
    """A seeded random batch for a network of these widths: X (B, d), y (B,) standard normal."""
    widths, batch = check_widths(widths), check_size(batch, "batch")
    rng = np.random.default_rng([seed, 1])  # a stream apart from Network.init(seed)'s
    return rng.standard_normal((batch, widths[0])), rng.standard_normal(batch)
