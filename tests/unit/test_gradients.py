"""Every gradient method agrees with the others and with finite differences, on many random
networks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradients
from gradients import numerical

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)


@st.composite
def problems(draw, max_depth=8, max_width=16, max_input=10, max_batch=16):
    """A random network and batch: odd shapes, both activations, dead units, zero weights."""
    depth = draw(st.integers(1, max_depth))
    hidden = [draw(st.integers(1, max_width)) for _ in range(depth)]
    widths = [draw(st.integers(1, max_input))] + hidden
    activation = draw(st.sampled_from(gradients.ACTIVATIONS))
    seed = draw(st.integers(0, 2**32 - 1))
    batch = draw(st.integers(1, max_batch))
    rng = np.random.default_rng(seed)
    net = gradients.Network.init(widths, seed=seed, activation=activation)
    for W in net.weights:
        W[rng.random(W.shape) < draw(st.sampled_from([0.0, 0.2]))] = 0.0  # zero weights
        if draw(st.booleans()):
            # a unit that is mostly dead
            W[rng.integers(W.shape[0])] = -np.abs(W[rng.integers(W.shape[0])]) - 1.0
    net.b = float(rng.normal())
    X, y = gradients.make_data(widths, batch, seed=seed)
    if draw(st.booleans()):
        X = np.abs(X)  # nonnegative inputs make the all-negative rows above dead for every example
    return net, X, y


@SETTINGS
@given(problems())
def test_naive_agrees_with_backprop(problem):
    net, X, y = problem
    g_back = gradients.gradient(net, X, y, method="backprop")
    g_naive = gradients.gradient(net, X, y, method="naive")
    assert gradients.relative_error(g_naive, g_back) <= 1e-10


@settings(max_examples=120, deadline=None, derandomize=True)
@given(problems(max_depth=6, max_width=8, max_input=6, max_batch=8))
def test_methods_agree_with_central_differences_away_from_kinks(problem):
    net, X, y = problem
    fd, exact = numerical.central_differences(net, X, y)
    exact = exact.flat().astype(bool)
    assert exact.mean() > 0.5  # the check below must not be vacuous
    fd = fd.flat()
    for method in (m for m in gradients.METHODS if m != "numerical"):
        g = gradients.gradient(net, X, y, method=method).flat()
        scale = max(np.max(np.abs(g)), 1e-300)
        assert np.max(np.abs(g - fd)[exact]) / scale <= 1e-6, method


@pytest.mark.parametrize("method", gradients.METHODS)
def test_gradient_has_the_network_structure(method):
    net = gradients.Network.init([3, 5, 4], seed=1)
    X, y = gradients.make_data(net.widths, 6, seed=1)
    g = gradients.gradient(net, X, y, method=method)
    assert [w.shape for w in g.weights] == [(5, 3), (4, 5)]
    assert g.alpha.shape == (4,)
    assert isinstance(g.b, float)


@pytest.mark.parametrize("method", gradients.METHODS)
def test_batch_gradient_is_the_mean_of_per_example_gradients(method):
    # the lecture's mini-batch gradient: g = sum of per-example gradients / B
    net = gradients.Network.init([4, 6, 5, 3], seed=3)
    X, y = gradients.make_data(net.widths, 5, seed=3)
    g = gradients.gradient(net, X, y, method=method).flat()
    each = [gradients.gradient(net, X[k : k + 1], y[k : k + 1], method=method).flat()
            for k in range(5)]
    np.testing.assert_allclose(g, np.mean(each, axis=0),
                               rtol=1e-6 if method == "numerical" else 1e-12, atol=1e-9)


@pytest.mark.parametrize("method", gradients.METHODS)
def test_width_one_identity_chain_matches_the_closed_form(method):
    # yhat = a w_T ... w_1 x: d loss / d w_i = 2 (yhat - y) a x prod_{k != i} w_k
    T = 6
    rng = np.random.default_rng(7)
    w = rng.uniform(0.5, 1.5, size=T)
    a, b, x, y = 0.8, 0.3, 1.2, -0.4
    net = gradients.Network([[[wi]] for wi in w], [a], b, activation="identity")
    yhat = a * np.prod(w) * x + b
    g = gradients.gradient(net, [[x]], [y], method=method)
    expected = [2 * (yhat - y) * a * x * np.prod(np.delete(w, i)) for i in range(T)]
    tol = dict(rtol=1e-7) if method == "numerical" else dict(rtol=1e-13)
    np.testing.assert_allclose([W[0, 0] for W in g.weights], expected, **tol)
    np.testing.assert_allclose(g.alpha, [2 * (yhat - y) * np.prod(w) * x], **tol)
    np.testing.assert_allclose(g.b, 2 * (yhat - y), **tol)


def test_naive_memory_cap_chunks_without_changing_the_result():
    net = gradients.Network.init([6, 9, 7, 5], seed=2)
    X, y = gradients.make_data(net.widths, 4, seed=2)
    whole = gradients.gradient(net, X, y, method="naive")
    chunked = gradients.gradient(net, X, y, method="naive", max_bytes=1)  # one chain at a time
    assert gradients.relative_error(whole, chunked) <= 1e-13


def test_naive_peak_memory_stays_under_its_cap():
    import tracemalloc

    cap = 2 * 2**20
    net = gradients.Network.init([64] * 5, seed=0)
    X, y = gradients.make_data(net.widths, 16, seed=0)
    tracemalloc.start()
    gradients.gradient(net, X, y, method="naive", max_bytes=cap)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    uncapped = 8 * 16 * 64 * (64 * 64)  # one layer's chains for the whole batch at once: 32 MiB
    assert peak <= cap + 2**20 < uncapped


def test_naive_agrees_with_backprop_on_uniformly_drawn_shapes():
    # hypothesis favours small shapes; these draw depth, widths, input dim and batch uniformly
    for seed in range(200):
        rng = np.random.default_rng(seed)
        depth = int(rng.integers(1, 9))
        widths = [int(rng.integers(1, 11))] + [int(w) for w in rng.integers(1, 17, size=depth)]
        activation = gradients.ACTIVATIONS[seed % 2]
        net = gradients.Network.init(widths, seed=seed, activation=activation)
        net.weights[0][:, 0] = 0.0  # a zero weight in every unit of the first layer
        net.b = float(rng.normal())
        X, y = gradients.make_data(widths, int(rng.integers(1, 17)), seed=seed)
        g_back = gradients.gradient(net, X, y, method="backprop")
        g_naive = gradients.gradient(net, X, y, method="naive")
        assert gradients.relative_error(g_naive, g_back) <= 1e-10, f"seed {seed}"


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_relative_error_never_lets_a_broken_gradient_agree(bad):
    net = gradients.Network.init([3, 4, 2], seed=0)
    X, y = gradients.make_data(net.widths, 3)
    good = gradients.gradient(net, X, y, method="backprop")
    broken = gradients.gradient(net, X, y, method="backprop")
    broken.weights[0][:] = bad
    assert gradients.relative_error(broken, good) == np.inf
    assert gradients.relative_error(good, broken) == np.inf
    assert gradients.relative_error(good, good) == 0.0
