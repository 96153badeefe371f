"""The lecture's fully connected network: z[1] = x, u[t+1] = W[t] z[t], z[t+1] = sigma(u[t+1]),
yhat = alpha^T z[L+1] + b, square loss, mean over a mini-batch.

Code indexes from 0: weights[t] maps zs[t] to us[t+1], zs[0] = X, zs[L] is the last hidden
layer; rows are examples, so a layer is `zs[t] @ W.T`.

Arrays follow the Python array API standard: `xp` is the namespace of the network's arrays
(NumPy by default; `Network.to` moves a network to PyTorch, CuPy or array_api_strict).
"""

import math
from dataclasses import dataclass

import array_api_compat
import numpy as np

from gradients import backends
from gradients.finite import all_finite, finite_array, not_finite
from gradients.ops import NO_TALLY
from gradients.sizes import check_activation, check_size, check_widths, is_integer


def sigma(u, activation):
    """The activation: ReLU or identity."""
    return backends.namespace_of(u).maximum(u, 0.0) if activation == "relu" else u


def sigma_prime(u):
    """ReLU'(u) as 0/1 floats, with ReLU'(0) = 0 (PyTorch's convention)."""
    return backends.namespace_of(u).astype(u > 0, u.dtype)


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

    def is_finite(self):
        """No NaN or inf: one pass over a buffer the weights' arrays tile, else one per array."""
        arrays = self.weights
        # NumPy's and CuPy's array owning a view; PyTorch has no .base
        base = getattr(arrays[0], "base", None)
        tiled = type(base) is type(arrays[0]) and base.size == sum(W.size for W in arrays)
        if tiled and all(W.base is base for W in arrays):
            arrays = [base]  # gradient_arrays' layout: one call, however deep the network
        return all(all_finite(W) for W in [*arrays, self.alpha]) and math.isfinite(self.b)


def gradient_arrays(net):
    """Room for d loss / d W[t], every t: views of one buffer, allocated before any work.

    See gradients.memory.
    """
    xp, sizes = net.xp, [math.prod(W.shape) for W in net.weights]
    buffer = xp.empty((sum(sizes),), dtype=net.dtype, device=net.device)  # (sum_t n[t+1] n[t],)
    # the array's own reshape where it has one (NumPy, CuPy, PyTorch): xp.reshape is numpy's Python
    # wrapper, microseconds per layer on a call that at batch 1 takes a few microseconds per layer
    reshape = getattr(buffer, "reshape", None) and (lambda a, shape: a.reshape(shape))
    arrays, start = [], 0
    for W, size in zip(net.weights, sizes):
        view = (reshape or xp.reshape)(buffer[start : start + size], tuple(W.shape))
        arrays.append(view)
        start += size
    return arrays


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
        self.weights = [finite_array(W, f"weights[{t}]", *place) for t, W in enumerate(weights)]
        for t, W in enumerate(self.weights):
            if W.ndim != 2 or min(W.shape) < 1:
                raise ValueError(f"weights[{t}] must be a non-empty 2-D array, "
                                 f"got shape {tuple(W.shape)}")
            if t and W.shape[1] != self.weights[t - 1].shape[0]:
                n_prev = self.weights[t - 1].shape[0]
                raise ValueError(f"weights[{t}] has shape {tuple(W.shape)} "
                                 f"but weights[{t - 1}] outputs {n_prev} units")
        self.alpha = finite_array(alpha, "alpha", *place)
        if self.alpha.shape != (self.weights[-1].shape[0],):
            raise ValueError(f"alpha must have shape ({self.weights[-1].shape[0]},), "
                             f"got {tuple(self.alpha.shape)}")
        b = finite_array(backends.to_numpy(b) if array_api_compat.is_array_api_obj(b) else b, "b")
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
        weights = [rng.normal(0.0, np.sqrt(gain / a), size=(c, a))
                   for a, c in zip(widths, widths[1:])]
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
        weights = [xp.asarray(W, copy=True) for W in self.weights]
        return Network(weights, xp.asarray(self.alpha, copy=True), self.b, self.activation)

    def to(self, backend, device=None, dtype=None):
        """A copy on another backend, device and dtype.

        backend: "numpy", "torch", "cupy", "array_api_strict" or a namespace. device None: the
        backend's default device; dtype None: keep the network's ("float64" or "float32").
        """
        xp = backends.namespace(backend)
        dtype = backends.dtype_name(self.dtype) if dtype is None else dtype
        weights = [backends.move(W, xp, device, dtype) for W in self.weights]
        alpha = backends.move(self.alpha, xp, device, dtype)
        return Network(weights, alpha, self.b, self.activation)

    def check_inputs(self, X):
        """Validate inputs: X (B, d), finite real numbers on the network's backend, in its dtype."""
        X = finite_array(X, "X", self.xp, self.dtype, self.device)
        d = self.widths[0]
        if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
            raise ValueError(f"X must have shape (batch >= 1, {d}), got {tuple(X.shape)}")
        return X

    def check_batch(self, X, y):
        """Validate a batch: X as check_inputs, y (B,) finite; both in the network's dtype."""
        X = self.check_inputs(X)
        y = finite_array(y, "y", self.xp, self.dtype, self.device)
        if tuple(y.shape) != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
        return X, y

    def forward(self, X, tally=NO_TALLY):
        """Forward pass storing every node, as gradient methods need: (us, zs), see store_layers."""
        return store_layers(self.weights, X, self.activation, tally)

    def output(self, X, tally=NO_TALLY):
        """yhat of a checked batch, keeping only the current layer: (B, d) -> (B,)."""
        z = stream_layers(self.weights, X, self.activation, tally)  # (batch, n[L])
        tally.matmul(z, self.alpha[:, None])
        return z @ self.alpha + self.b  # (batch,)

    def predict(self, X):
        """yhat for every row of X: (B, d) -> (B,)."""
        yhat = self.output(self.check_inputs(X))  # (batch,)
        if not all_finite(yhat):
            raise not_finite(self, "the prediction", "forward pass")
        return yhat


def store_layers(weights, z, activation, tally=NO_TALLY):
    """Forward through `weights` from z, storing every node (us, zs).

    us[t+1] = zs[t] W[t]^T and zs[t+1] = sigma(us[t+1]); zs[0] is z itself and us[0] is None (the
    input has no pre-activation); for the identity, zs[t] is us[t], the same array.
    """
    xp, relu = backends.namespace_of(z), activation == "relu"
    zs, us = [z], [None]
    for W in weights:
        u = zs[-1] @ W.T  # (batch, n_out)
        tally.matmul(zs[-1], W.T)
        us.append(u)
        zs.append(xp.maximum(u, 0.0) if relu else u)  # (batch, n_out) sigma(u)
    return us, zs


def stream_layers(weights, z, activation, tally=NO_TALLY):
    """z after the last of `weights`, keeping only the current layer.

    Memory O(batch * width), not O(batch * V).
    """
    ip = backends.inplace(backends.namespace_of(z))
    for W in weights:
        u = z @ W.T  # (batch, n_out)
        tally.matmul(z, W.T)
        # sigma in place: u is not needed again
        z = ip.maximum(u, 0.0, out=u) if activation == "relu" else u
    return z


def loss(net, X, y, tally=NO_TALLY):
    """Mean square loss of a mini-batch: mean((yhat - y)^2). Also the `forward` cost reference."""
    X, y = net.check_batch(X, y)
    value = float(net.xp.mean((net.output(X, tally) - y) ** 2))
    if not math.isfinite(value):
        raise not_finite(net, "the loss", "forward pass")
    return value


def loss_link(net, z, y):
    """d loss / d yhat per example, r = 2 (yhat - y) / B, and the head's gradient, from z = z[L].

    This link (the loss's derivative and alpha's, b's gradients, which are forward values
    times r) is shared by every method and is not part of the chain-rule count.
    """
    yhat = z @ net.alpha + net.b  # (batch,)
    r = 2.0 * (yhat - y) / y.shape[0]  # (batch,)
    return r, r @ z, float(backends.total(r))


def make_data(widths, batch, seed=0, backend="numpy", device=None, dtype=None):
    """A seeded random batch for a network of these widths: X (B, d), y (B,) standard normal.

    Drawn by NumPy, then moved to backend/device/dtype (as Network.to), so every backend gets the
    same values.
    """
    widths, batch = check_widths(widths), check_size(batch, "batch")
    if not is_integer(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng([seed, 1])  # a stream apart from Network.init(seed)'s
    X, y = rng.standard_normal((batch, widths[0])), rng.standard_normal(batch)
    if backend == "numpy" and device is None and dtype is None:
        return X, y
    return backends.move(X, backend, device, dtype), backends.move(y, backend, device, dtype)
