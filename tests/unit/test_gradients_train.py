"""gradients.train: the optimizers' update rules, the lecture's mini-batch loop and its refusals."""

import warnings

import numpy as np
import pytest

import gradients
from gradients.train import SGD, AdaGrad, Adam, batches, params_of, train

# --- optimizers: hand-computed steps ----------------------------------------------------


def scalar_steps(opt, grads, theta=1.0):
    params = [np.array(theta)]
    out = []
    for g in grads:
        params = opt.step(params, [np.array(g)])
        out.append(float(params[0]))
    return out


def test_sgd_step_is_theta_minus_eta_g():
    params = [np.array([[1.0, -2.0]]), np.array([0.5]), np.array(0.25)]
    grads = [np.array([[0.5, 1.0]]), np.array([-2.0]), np.array(4.0)]
    new = SGD(lr=0.1).step(params, grads)
    assert np.allclose(new[0], [[0.95, -2.1]])
    assert np.allclose(new[1], [0.7])
    assert np.isclose(new[2], -0.15)
    assert params[0][0, 0] == 1.0  # no update in place


def test_adam_matches_hand_computed_steps():
    # lr 0.1, theta 1, g1 = 2, g2 = -1, betas (0.9, 0.999), eps 1e-8
    # t=1: m = 0.2, v = 0.004; m_hat = 0.2/0.1 = 2, v_hat = 0.004/0.001 = 4
    #      theta = 1 - 0.1 * 2 / (2 + 1e-8) = 0.9000000005
    # t=2: m = 0.18 - 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996
    #      m_hat = 0.08 / 0.19 = 0.42105263, v_hat = 0.004996 / 0.001999 = 2.49924962,
    #      sqrt = 1.58090152
    #      theta = 0.9000000005 - 0.1 * 0.42105263 / 1.58090152 = 0.9 - 0.02663370 = 0.87336630
    got = scalar_steps(Adam(lr=0.1), [2.0, -1.0])
    assert got[0] == pytest.approx(0.9000000005, abs=1e-12)
    assert got[1] == pytest.approx(0.87336630, abs=1e-8)


def test_adagrad_matches_hand_computed_steps():
    # lr 0.1, theta 1, g1 = 2, g2 = -1, eps 1e-10
    # t=1: sum = 4, theta = 1 - 0.1 * 2 / (2 + 1e-10) = 0.9 (+5e-12)
    # t=2: sum = 5, theta = 0.9 + 0.1 / sqrt(5) = 0.9 + 0.04472136 = 0.94472136
    got = scalar_steps(AdaGrad(lr=0.1), [2.0, -1.0])
    assert got[0] == pytest.approx(0.9, abs=1e-10)
    assert got[1] == pytest.approx(0.94472136, abs=1e-8)


def test_adaptive_optimizers_scale_each_parameter_on_its_own():
    params = [np.array([[0.0, 0.0]]), np.array([0.0]), np.array(0.0)]
    grads = [np.array([[1e-3, -50.0]]), np.array([7.0]), np.array(0.0)]
    for opt in (Adam(lr=0.01), AdaGrad(lr=0.01)):
        new = opt.step(params, grads)
        # first step: lr * sign(g) whatever |g| is, up to eps (zero gradient: no move)
        assert np.allclose(new[0], [[-0.01, 0.01]], rtol=1e-4)
        assert np.allclose(new[1], [-0.01], rtol=1e-4)
        assert float(new[2]) == 0.0


# --- the loop -------------------------------------------------------------------------


def test_batches_shuffle_and_last_batch_is_smaller():
    parts = batches(10, 4, np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts)) == list(range(10))
    again = batches(10, 4, np.random.default_rng(0))
    assert all(np.array_equal(p, q) for p, q in zip(parts, again))  # seeded
    assert [len(p) for p in batches(3, 8, np.random.default_rng(0))] == [3]


def test_fit_calls_the_gradient_once_per_batch_with_the_batch_itself(monkeypatch):
    seen = []
    real = gradients.gradient

    def spy(net, X, y, method):
        seen.append((len(y), method))
        return real(net, X, y, method=method)

    monkeypatch.setattr(gradients.train, "gradient", spy)
    net = gradients.Network.init([3, 4, 4], seed=1)
    X, y = gradients.make_data([3, 4, 4], 10, seed=2)
    rows = list(train(net, X, y, method="naive", epochs=2, batch_size=4,
                      rng=np.random.default_rng(0)))
    assert seen == [(4, "naive"), (4, "naive"), (2, "naive")] * 2
    assert [r.epoch for r in rows] == [0, 1, 2]
    assert rows[0].seconds == rows[0].gradient_seconds == 0.0
    assert all(0 < r.gradient_seconds <= r.seconds for r in rows[1:])


def test_one_full_batch_epoch_is_one_gradient_step():
    widths = [3, 5, 5]
    net = gradients.Network.init(widths, seed=3)
    X, y = gradients.make_data(widths, 12, seed=4)
    rows = list(train(net, X, y, optimizer="sgd", lr=0.05, epochs=1, batch_size=12,
                      rng=np.random.default_rng(0)))
    g = gradients.gradient(net, X, y, method="backprop")
    want = [p - 0.05 * q for p, q in zip(params_of(net), [*g.weights, g.alpha, np.asarray(g.b)])]
    for p, q in zip(params_of(rows[-1].net), want):
        assert np.allclose(p, q, rtol=1e-12, atol=1e-14)
    # the starting network is untouched
    assert rows[0].net is net
    assert params_of(net)[0] is net.weights[0]
    assert rows[-1].train_loss == pytest.approx(gradients.loss(rows[-1].net, X, y))


def test_fit_refuses_bad_arguments():
    net = gradients.Network.init([2, 3], seed=0)
    X, y = gradients.make_data([2, 3], 5, seed=0)
    for kwargs, match in [(dict(batch_size=0), "batch size"), (dict(epochs=-1), "epochs"),
                          (dict(lr=0.0), "learning rate"), (dict(lr=-1.0), "learning rate"),
                          (dict(method="magic"), "method"),
                          (dict(optimizer="rmsprop"), "optimizer")]:
        with pytest.raises(ValueError, match=match):
            train(net, X, y, **kwargs)
    with pytest.raises(ValueError, match="empty data set"):
        train(net, X[:0], y[:0])
    with pytest.raises(ValueError, match="training set: y has non-finite"):
        train(net, X, np.full(5, np.nan))
    with pytest.raises(ValueError, match=r"test set: X must have shape \(batch >= 1, 2\)"):
        train(net, X, y, X_test=X[:, :1], y_test=y)


def test_divergence_of_the_loss_alone_is_caught_too():
    net = gradients.Network.init([3, 4, 4], seed=0)
    X, y = gradients.make_data([3, 4, 4], 80, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^training diverged at epoch \d+ \(train loss inf, "
                                              r"learning rate 1000\); lower lr$"):
            list(train(net, X, y, lr=1e3, epochs=50, batch_size=16))
