"""Sizes are integers; NaN, inf and overflow never return as numbers; naive's count at any depth."""

import re

import numpy as np
import pytest

import gradients

CALLS = ["loss", "predict", *gradients.METHODS]


def _use(call, net, X, y):
    """One call that computes something from the network's parameters."""
    if call == "loss":
        return gradients.loss(net, X, y)
    if call == "predict":
        return net.predict(X)
    return gradients.gradient(net, X, y, method=call)


@pytest.mark.parametrize("widths", [[3, 2.5], [3, 2.0], [3, True], [3, "2"], [3, None], 5, "32"])
def test_non_integer_sizes_are_refused(widths):
    with pytest.raises(ValueError, match="widths"):
        gradients.Network.init(widths)


def test_numpy_integer_sizes_are_fine():
    net = gradients.Network.init(np.array([3, 4, 2]))
    assert net.widths == [3, 4, 2]
    count = gradients.op_count("backprop", [np.int32(3), np.int64(4)], batch=np.int16(2),
                               activation="identity")
    assert count == 2 * 12


@pytest.mark.parametrize("batch", [2.5, 2.0, True, "2", 0])
def test_non_integer_batches_are_refused(batch):
    with pytest.raises(ValueError, match="batch"):
        gradients.op_count("backprop", [3, 2], batch=batch)
    with pytest.raises(ValueError, match="batch"):
        gradients.make_data([3, 2], batch)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["weights[0]", "weights[2]", "alpha", "b"])
@pytest.mark.parametrize("call", CALLS)
def test_a_non_finite_parameter_written_after_construction_is_named(call, where, bad):
    net = gradients.Network.init([3, 4, 5, 2], seed=0)
    X, y = gradients.make_data(net.widths, 6, seed=0)
    if where == "b":
        net.b = bad
    elif where == "alpha":
        net.alpha[1] = bad
    else:
        net.weights[int(where[-2])][1, 1] = bad
    with pytest.raises(ValueError, match=rf"{re.escape(where)} has non-finite values"):
        _use(call, net, X, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("activation", gradients.ACTIVATIONS)
@pytest.mark.parametrize("call", CALLS)
def test_finite_weights_that_overflow_the_forward_pass_raise(call, activation):
    net = gradients.Network.init([3, 4, 4, 4, 4], seed=0, activation=activation)
    for W in net.weights:
        W *= 1e90  # every parameter finite; four layers reach 1e360
    X, y = gradients.make_data(net.widths, 3, seed=0)
    with pytest.raises(gradients.NotFiniteError,
                       match="the parameters are finite, so the .* overflowed"):
        _use(call, net, X, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", gradients.METHODS)
def test_a_gradient_that_overflows_in_the_backward_pass_raises(method):
    net = gradients.Network.init([2, 3, 3], seed=0, activation="identity")
    X, y = gradients.make_data(net.widths, 2, seed=0)
    net.alpha[:] = 1e200  # yhat about 1e200: the loss, and d loss / d W, overflow
    with pytest.raises(ValueError, match="overflowed"):
        gradients.gradient(net, X, y, method=method)


def test_not_finite_is_a_value_error():
    assert issubclass(gradients.NotFiniteError, ValueError)


def _naive_uniform(w, L, relu):
    """naive's count on widths [w] * (L + 1), batch 1, summed by hand.

    The sum over m = L-1-t of each chain."""
    r = int(relu)
    chains = ((r + 1) + (L - 1) * (r + 2 * w) + r * w * (L - 1) * L // 2
              + w * w * (L - 2) * (L - 1) // 2)
    return w * w * chains


@pytest.mark.parametrize("w, L", [(1, 1), (3, 2), (5, 7), (2, 20000), (7, 30000)])
@pytest.mark.parametrize("relu", [True, False])
def test_naive_count_of_a_deep_uniform_network_is_its_sum(w, L, relu):
    # depth 30000: the closed form is O(L) (suffix sums), where a sum per layer would be O(L^2)
    activation = "relu" if relu else "identity"
    count = gradients.op_count("naive", [w] * (L + 1), activation=activation)
    assert count == _naive_uniform(w, L, relu)


def test_naive_closed_form_matches_its_tally_on_random_shapes():
    for seed in range(60):
        rng = np.random.default_rng(seed)
        widths = [int(n) for n in rng.integers(1, 8, size=int(rng.integers(2, 10)))]
        activation = gradients.ACTIVATIONS[seed % 2]
        net = gradients.Network.init(widths, seed=seed, activation=activation)
        X, y = gradients.make_data(widths, int(rng.integers(1, 5)), seed=seed)
        count = gradients.count_ops("naive", net, X, y)
        assert count == gradients.op_count("naive", widths, len(X), activation), f"seed {seed}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_finite_entries_whose_sum_overflows_are_finite():
    from gradients.finite import all_finite

    big = np.full(4, 1e308)  # the sum is inf: the check must look closer, not raise
    assert all_finite(big)
    for bad in (np.nan, np.inf, -np.inf):
        assert not all_finite(np.append(big, bad))


@pytest.mark.parametrize("layout", ["one buffer", "own arrays"])
def test_gradient_finiteness_sees_every_array(layout):
    from gradients.network import gradient_arrays

    net = gradients.Network.init([3, 4, 5, 2], seed=0)
    weights = (gradient_arrays(net) if layout == "one buffer"
               else [np.empty_like(W) for W in net.weights])
    for W in weights:
        W[:] = 1.0
    g = gradients.Gradient(weights, np.ones(2), 0.5)
    assert g.is_finite()
    weights[-1][-1, -1] = np.nan
    assert not g.is_finite()
