"""Checkpointed backprop: the same gradient as backprop, its segments, its count and its option."""

import math

import numpy as np
import pytest

import gradients
from gradients import checkpoint

# depth 1 and 2, perfect squares, primes, and a few others
DEPTHS = [1, 2, 3, 4, 5, 7, 9, 11, 13, 16, 17, 25]


def _random_problem(seed):
    """A seeded random network and batch: a depth from DEPTHS, odd widths, either activation.

    The batch holds 1 or more examples."""
    rng = np.random.default_rng(seed)
    depth = DEPTHS[seed % len(DEPTHS)]
    widths = [int(rng.integers(1, 9))] + [int(w) for w in rng.integers(1, 13, size=depth)]
    activation = gradients.ACTIVATIONS[(seed // len(DEPTHS)) % 2]
    batch = 1 if seed % 3 == 0 else int(rng.integers(2, 17))
    net = gradients.Network.init(widths, seed=seed, activation=activation)
    net.weights[0][rng.random(net.weights[0].shape) < 0.2] = 0.0  # zero weights
    net.b = float(rng.normal())
    X, y = gradients.make_data(widths, batch, seed=seed)
    return net, X, y, rng


SEEDS = range(312)  # one test, not 312: a failure names its seed


def test_checkpoint_agrees_with_backprop():
    for seed in SEEDS:
        net, X, y, rng = _random_problem(seed)
        # the default k, or any other
        segments = None if seed % 2 else int(rng.integers(1, net.depth + 1))
        g_back = gradients.gradient(net, X, y, method="backprop")
        g_check = gradients.gradient(net, X, y, method="checkpoint", segments=segments)
        assert gradients.relative_error(g_check, g_back) <= 1e-12, f"seed {seed}"


def test_the_drawn_problems_cover_every_depth_activation_and_batch_kind():
    drawn = [_random_problem(seed)[:2] for seed in SEEDS]
    assert {net.depth for net, _ in drawn} == set(DEPTHS)
    every = {(a, one) for a in gradients.ACTIVATIONS for one in (True, False)}
    assert {(net.activation, len(X) == 1) for net, X in drawn} == every


@pytest.mark.parametrize("depth", range(1, 40))
def test_default_segments_are_ceil_sqrt_depth_of_lengths_differing_by_at_most_one(depth):
    b = checkpoint.bounds(depth)
    lengths = np.diff(b)
    assert b[0] == 0 and b[-1] == depth
    assert len(lengths) == math.ceil(math.sqrt(depth))
    assert lengths.max() - lengths.min() <= 1
    # the longer first: fewer boundaries live beside them
    assert list(lengths) == sorted(lengths, reverse=True)


@pytest.mark.parametrize("k", range(1, 8))
def test_every_segment_count_gives_k_nonempty_segments(k):
    b = checkpoint.bounds(7, k)
    assert len(b) == k + 1 and all(np.diff(b) >= 1) and b[-1] == 7


def test_segments_option_reaches_the_method_through_gradients_gradient():
    net = gradients.Network.init([3, 4, 4, 4, 2], seed=0)
    X, y = gradients.make_data(net.widths, 5)
    with pytest.raises(ValueError, match="segments"):
        gradients.gradient(net, X, y, method="checkpoint", segments=5)
    # one segment per layer stores 4 boundaries; one segment recomputes all 4 layers at once
    per_layer = gradients.measure_work_memory("checkpoint", net, X, y, segments=4)[1]
    whole = gradients.measure_work_memory("checkpoint", net, X, y, segments=1)[1]
    assert per_layer != whole
    expected = gradients.gradient(net, X, y, method="backprop")
    for k in range(1, 5):
        got = gradients.gradient(net, X, y, method="checkpoint", segments=k)
        assert gradients.relative_error(got, expected) <= 1e-12


@pytest.mark.parametrize("bad", [0, -1, 5, 2.5, 2.0, True, "2"])
def test_bad_segments_raise_a_value_error_naming_segments(bad):
    net = gradients.Network.init([3, 4, 4, 4, 2], seed=0)  # depth 4
    X, y = gradients.make_data(net.widths, 2)
    with pytest.raises(ValueError, match="segments"):
        gradients.gradient(net, X, y, method="checkpoint", segments=bad)
    with pytest.raises(ValueError, match="segments"):
        gradients.memory_count("checkpoint", net.widths, 2, segments=bad)


def test_numpy_integer_segments_are_accepted():
    net = gradients.Network.init([3, 4, 4, 2], seed=0)
    X, y = gradients.make_data(net.widths, 2)
    g = gradients.gradient(net, X, y, method="checkpoint", segments=np.int64(2))
    assert gradients.relative_error(g, gradients.gradient(net, X, y)) <= 1e-12


def test_instrumented_count_matches_the_closed_form_for_any_segments():
    for seed in range(40):
        net, X, y, rng = _random_problem(seed)
        k = int(rng.integers(1, net.depth + 1))
        tally = gradients.Tally()
        gradients.gradient(net, X, y, method="checkpoint", segments=k, tally=tally)
        expected = gradients.op_count("checkpoint", net.widths, len(X), net.activation)
        assert tally.mults == expected, f"seed {seed}"


def test_count_is_backprops_plus_one_forward_pass():
    widths, batch = [7, 5, 9, 4, 6], 3
    extra = (gradients.op_count("checkpoint", widths, batch)
             - gradients.op_count("backprop", widths, batch))
    # forward counts alpha too
    assert extra == gradients.op_count("forward", widths, batch) - batch * widths[-1]
