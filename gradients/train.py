"""Mini-batch training as on the lecture's slide, driven by any gradient method.

    for epoch t = 1..T:
        randomly shuffle the data                 (a seeded np.random.Generator)
        split it into ceil(n/B) batches D_i       (the last one smaller when B does not divide n)
        for each batch: g = sum_{D_i} grad l / |D_i|  (gradients.gradient: the batch mean)
                        theta = theta - eta g     (SGD; Adam and AdaGrad rescale g per parameter)

theta is the list [W[1], ..., W[L], alpha, b] (b as a 0-d array). Optimizers keep their own
state and return new parameters; train() puts them back into its own copy of the network each
step (the caller's network is never modified), and nothing is global.

Any backend: the weights, alpha and the data live where the network does (Network.to,
gradients.backends), and every step is written against the array API (`xp` of each parameter);
b stays a NumPy float64 on the host, as Network.b is a float. The shuffles are drawn by NumPy
and moved to the device, so every backend sees the same batches.

Update rules and hyperparameters follow PyTorch's torch.optim documentation
(pytorch.org/docs/1.13/generated/torch.optim.Adam.html,
pytorch.org/docs/1.10/_modules/torch/optim/adagrad.html):
Adam (Kingma & Ba 2015): betas (0.9, 0.999), eps 1e-8, bias-corrected moments,
theta -= lr * m_hat / (sqrt(v_hat) + eps), default lr PyTorch's and the paper's.
AdaGrad (Duchi, Hazan & Singer 2011): eps 1e-10 added outside the square root, accumulator
starting at 0, theta -= lr * g / (sqrt(sum g^2) + eps). Each optimizer's `default_lr` is the
one place its default is written; AdaGrad's and SGD's are chosen so the default task of
`gradbench train` trains tenfold within its 200 epochs (PyTorch's AdaGrad 1e-2 falls short on
some seeds, its effective step decays; PyTorch has no SGD default).
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from gradients import registry
from gradients.backends import namespace_of, synchronize
from gradients.finite import NotFiniteError, all_finite
from gradients.network import loss
from gradients.registry import gradient


def params_of(net):
    """theta = [W[1], ..., W[L], alpha, b] as arrays (b 0-d)."""
    return [*net.weights, net.alpha, np.asarray(net.b, dtype=np.float64)]


def grads_of(g):
    """The gradient in the same list layout as params_of."""
    return [*g.weights, g.alpha, np.asarray(g.b, dtype=np.float64)]


def set_params(net, params):
    """Put theta back into the network (no copies, no re-validation: this runs every step)."""
    *net.weights, net.alpha, b = params
    net.b = float(b)


class SGD:
    """theta = theta - eta g."""

    default_lr = 3e-2

    def __init__(self, lr=None):
        self.lr = _check_lr(self.default_lr if lr is None else lr)

    def step(self, params, grads):
        return [p - self.lr * g for p, g in zip(params, grads)]


class Adam:
    """Adam: bias-corrected running means of g and g^2; step lr * m_hat / (sqrt(v_hat) + eps)."""

    default_lr = 1e-3

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = _check_lr(self.default_lr if lr is None else lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t, self.m, self.v = 0, None, None

    def step(self, params, grads):
        if self.m is None:
            self.m = [namespace_of(p).zeros_like(p) for p in params]
            self.v = [namespace_of(p).zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m = [b1 * m + (1 - b1) * g for m, g in zip(self.m, grads)]
        self.v = [b2 * v + (1 - b2) * g * g for v, g in zip(self.v, grads)]
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t  # bias corrections: m, v start at 0
        return [p - self.lr * (m / c1) / (namespace_of(v).sqrt(v / c2) + self.eps)
                for p, m, v in zip(params, self.m, self.v)]


class AdaGrad:
    """AdaGrad: per-parameter step lr * g / (sqrt(sum of past g^2) + eps)."""

    default_lr = 3e-2

    def __init__(self, lr=None, eps=1e-10):
        self.lr = _check_lr(self.default_lr if lr is None else lr)
        self.eps = eps
        self.sum = None

    def step(self, params, grads):
        if self.sum is None:
            self.sum = [namespace_of(p).zeros_like(p) for p in params]
        self.sum = [s + g * g for s, g in zip(self.sum, grads)]
        return [p - self.lr * g / (namespace_of(s).sqrt(s) + self.eps)
                for p, g, s in zip(params, grads, self.sum)]


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adagrad": AdaGrad}


def make_optimizer(name, lr=None):
    """A fresh optimizer by name; lr=None takes the optimizer's default."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr)


def _check_lr(lr):
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a finite number > 0, got {lr}")
    return lr


def _check_data(net, X, y, name):
    """X (n, d) and y (n,) as finite float arrays (Network.check_batch), or ValueError naming
    the set."""
    try:
        return net.check_batch(X, y)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def batches(n, batch_size, rng, xp=np, device=None):
    """One epoch's batches: a shuffled permutation of range(n) cut into ceil(n/B) index arrays of
    namespace xp (on `device`), drawn by NumPy's rng whatever the backend."""
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    order = rng.permutation(n)  # (n,)
    if xp is not np:
        order = xp.asarray(order, device=device)  # one copy an epoch, not one a batch
    # min: a stop past n is not standard
    return [order[i : min(i + batch_size, n)] for i in range(0, n, batch_size)]


@dataclass
class Epoch:
    """One epoch's outcome; epoch 0 is the network before training."""

    epoch: int
    train_loss: float
    test_loss: float  # NaN without a test set
    # the epoch's training: shuffle, gradients, updates (not the loss evaluation), device done
    seconds: float
    # the part of `seconds` inside gradients.gradient (its finiteness check waits for the device: a
    # gradient is timed whole)
    gradient_seconds: float
    net: object  # the network after this epoch


def train(net, X, y, *, method="backprop", optimizer="sgd", lr=None, epochs=50, batch_size=32,
          rng=None, X_test=None, y_test=None):
    """Train by mini-batch descent; yield an Epoch after each epoch, starting with epoch 0.

    Args:
        net: the starting network (not modified).
        X, y: training set, (n, d) and (n,), on the network's backend, device and dtype.
        method: any name in gradients.METHODS.
        optimizer: "sgd", "adam", "adagrad", or an object with step(params, grads) -> params.
        lr: learning rate; None takes the optimizer's default.
        rng: np.random.Generator for the shuffles (the only randomness).
    Returns:
        a generator of Epoch (epochs + 1 of them); it raises Diverged (a ValueError) instead of
        yielding an epoch whose parameters or train loss are not finite.
    """
    if method not in registry.METHODS:
        raise ValueError(f"unknown gradient method {method!r}; "
                         f"choose from {', '.join(registry.METHODS)}")
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch size must be an integer >= 1, got {batch_size}")
    if _rows(X) == 0:
        raise ValueError("empty data set: no training examples")
    X, y = _check_data(net, X, y, "training set")
    has_test = X_test is not None and _rows(X_test) > 0
    if has_test:
        X_test, y_test = _check_data(net, X_test, y_test, "test set")
    opt = make_optimizer(optimizer, lr) if isinstance(optimizer, str) else optimizer
    rng = np.random.default_rng(0) if rng is None else rng

    def report(epoch, net, seconds, gradient_seconds):
        test = _loss(net, X_test, y_test) if has_test else math.nan
        return Epoch(epoch, _loss(net, X, y), test, seconds, gradient_seconds, net)

    return _epochs(net, X, y, method, opt, int(epochs), int(batch_size), rng, report)


def _rows(X):
    """Examples in X: an array's first dimension (the array API has no len()) or a list's length."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _epochs(net, X, y, method, opt, epochs, batch_size, rng, report):
    """The loop itself (a separate generator so that train() checks its arguments eagerly)."""
    yield report(0, net, 0.0, 0.0)
    net = net.copy()  # trained in place; every Epoch below gets a copy of its own
    params = params_of(net)
    xp, device = net.xp, net.device
    for epoch in range(1, epochs + 1):
        # a too large step overflows to inf, then NaN: say so once below instead of numpy warning
        # each step
        with np.errstate(over="ignore", invalid="ignore"):
            start = time.perf_counter()
            in_gradient = 0.0
            for idx in batches(y.shape[0], batch_size, rng, xp, device):
                # (|D_i|, d), (|D_i|,)
                X_batch, y_batch = xp.take(X, idx, axis=0), xp.take(y, idx, axis=0)
                # on a GPU the last update may still be queued: not the gradient's time
                synchronize(net)
                t0 = time.perf_counter()
                try:
                    # mean over this batch's own size
                    g = gradient(net, X_batch, y_batch, method=method)
                except NotFiniteError:
                    _diverged(epoch, None, opt)
                in_gradient += time.perf_counter() - t0
                params = opt.step(params, grads_of(g))
                set_params(net, params)
            synchronize(net)  # the epoch is over when the device is done with it
            seconds = time.perf_counter() - start
            finite = all(all_finite(p) for p in params)
            e = report(epoch, net.copy(), seconds, in_gradient) if finite else None
        if e is None or not math.isfinite(e.train_loss):
            _diverged(epoch, e, opt)
        yield e


class Diverged(ValueError):
    """Training blew up: the parameters or the train loss are no longer finite."""

    def __init__(self, epoch, what, lr):
        self.epoch, self.what, self.lr = epoch, what, lr
        at = "" if lr is None else f", learning rate {lr:g}"
        super().__init__(f"training diverged at epoch {epoch} ({what}{at}); lower lr")


def _loss(net, X, y):
    """The loss, inf where it overflows: training says itself that it diverged."""
    try:
        return loss(net, X, y)
    except NotFiniteError:
        return math.inf


def _diverged(epoch, e, opt):
    """Say in one line that the steps blew up, and what to change."""
    what = ("parameters or gradient overflowed to inf or NaN" if e is None
            else f"train loss {e.train_loss:.4g}")
    raise Diverged(epoch, what, getattr(opt, "lr", None))  # a caller's own optimizer may have no lr
