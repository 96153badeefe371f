"""Exact operation counts: closed forms against instrumented runs, the lecture's chain, growth
rates."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradients
from gradients import sizes

ALL = ("forward",) + gradients.METHODS


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    widths=st.lists(st.integers(1, 7), min_size=2, max_size=6),
    batch=st.integers(1, 5),
    activation=st.sampled_from(gradients.ACTIVATIONS),
)
def test_closed_form_matches_the_instrumented_count(widths, batch, activation):
    net = gradients.Network.init(widths, seed=0, activation=activation)
    X, y = gradients.make_data(widths, batch, seed=0)
    for method in ALL:
        expected = gradients.op_count(method, widths, batch, activation)
        assert gradients.count_ops(method, net, X, y) == expected, method


def test_instrumented_naive_count_does_not_depend_on_the_memory_cap():
    net = gradients.Network.init([5, 6, 4, 3], seed=1)
    X, y = gradients.make_data(net.widths, 3, seed=1)
    tally = gradients.Tally()
    gradients.gradient(net, X, y, method="naive", tally=tally, max_bytes=1)
    assert tally.mults == gradients.op_count("naive", net.widths, 3)


@pytest.mark.parametrize("T", [1, 2, 3, 7, 16, 64])
def test_lecture_chain_naive_is_triangular_and_backprop_linear(T):
    widths = [1] * (T + 1)
    assert gradients.op_count("naive", widths, activation="identity") == T * (T + 1) // 2
    assert gradients.op_count("backprop", widths, activation="identity") == 2 * T - 1
    net = gradients.Network.init(widths, seed=0, activation="identity")
    X, y = gradients.make_data(widths, 1)
    assert gradients.count_ops("naive", net, X, y) == T * (T + 1) // 2
    assert gradients.count_ops("backprop", net, X, y) == 2 * T - 1


def _ratio(method, small, large):
    return gradients.op_count(method, large) / gradients.op_count(method, small)


def test_doubling_depth_multiplies_naive_by_four_and_backprop_by_two():
    w = 8
    assert _ratio("naive", [w] * 257, [w] * 513) == pytest.approx(4, abs=0.05)
    assert _ratio("backprop", [w] * 257, [w] * 513) == pytest.approx(2, abs=0.01)


def test_doubling_width_multiplies_naive_by_sixteen_and_backprop_by_four():
    L = 4
    assert _ratio("naive", [256] * (L + 1), [512] * (L + 1)) == pytest.approx(16, abs=0.2)
    assert _ratio("backprop", [256] * (L + 1), [512] * (L + 1)) == pytest.approx(4, abs=0.05)


def test_counts_grow_linearly_in_batch():
    widths = [4, 6, 6, 6]
    for method in ALL:
        one = gradients.op_count(method, widths, batch=1)
        assert gradients.op_count(method, widths, batch=8) == 8 * one


def test_graph_size():
    widths = [3, 4, 5]
    assert gradients.edges(widths) == 3 * 4 + 4 * 5 + 5
    assert gradients.nodes(widths) == 3 + 4 + 5 + 1
    net = gradients.Network.init(widths)
    params = sum(W.size for W in net.weights) + net.alpha.size + 1
    assert params == gradients.edges(widths) + 1
    edges = gradients.edges(widths)
    assert gradients.op_count("numerical", widths) == 2 * (edges + 1) * edges


def test_a_networks_parameter_bytes_are_its_arrays_bytes():
    for widths in ([3, 4, 5], [1, 1], [7, 2, 9, 2]):
        net = gradients.Network.init(widths)
        arrays = sum(W.nbytes for W in net.weights) + net.alpha.nbytes + 8  # b: one float64
        assert sizes.parameter_bytes(widths) == arrays
        assert sizes.parameter_bytes(widths, itemsize=4) == arrays // 2
