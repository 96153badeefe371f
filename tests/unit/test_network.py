"""The network is the lecture's, and bad input raises a ValueError naming what is wrong."""

import numpy as np
import pytest

import gradients


def test_two_layer_network_is_the_lectures_formula():
    # h(x) = alpha^T ReLU(W2 ReLU(W1 x)) + b, written out by hand
    net = gradients.Network.init([3, 4, 2], seed=5)
    net.b = 0.7
    X, y = gradients.make_data(net.widths, 6, seed=5)
    W1, W2 = net.weights
    expected = [net.alpha @ np.maximum(W2 @ np.maximum(W1 @ x, 0), 0) + net.b for x in X]
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-13)
    mse = np.mean((np.array(expected) - y) ** 2)
    assert gradients.loss(net, X, y) == pytest.approx(mse, rel=1e-13)


def test_identity_chain_is_the_lectures_naive_example():
    w = [0.5, -2.0, 1.5]
    net = gradients.Network([[[wi]] for wi in w], [3.0], 0.0, activation="identity")
    assert net.predict([[2.0]])[0] == pytest.approx(3.0 * 1.5 * -2.0 * 0.5 * 2.0)


def test_init_is_seeded_and_has_the_contract_shapes():
    a = gradients.Network.init([3, 5, 5, 2], seed=11)
    b = gradients.Network.init([3, 5, 5, 2], seed=11)
    c = gradients.Network.init([3, 5, 5, 2], seed=12)
    assert all(np.array_equal(p, q) for p, q in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])
    assert [W.shape for W in a.weights] == [(5, 3), (5, 5), (2, 5)]
    assert a.alpha.shape == (2,)
    assert a.b == 0.0
    assert a.depth == 3
    assert a.widths == [3, 5, 5, 2]


def test_relu_derivative_at_zero_is_zero():
    # u = 0 exactly: ReLU'(0) = 0, so W's gradient through that unit vanishes in both methods
    net = gradients.Network([[[1.0]], [[1.0]]], [1.0], 0.0)
    for method in ("naive", "backprop"):
        g = gradients.gradient(net, [[0.0]], [1.0], method=method)
        assert g.weights[0][0, 0] == 0.0, method
        assert g.weights[1][0, 0] == 0.0, method


NET = gradients.Network.init([3, 4, 2], seed=0)
X3, Y3 = gradients.make_data([3, 4, 2], 5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: gradients.Network.init([3, 0, 2]), "width"),
        (lambda: gradients.Network.init([3, -1]), "width"),
        (lambda: gradients.Network.init([3]), "depth"),
        (lambda: gradients.Network.init([3, 2], activation="tanh"), "activation"),
        (lambda: gradients.Network([], [1.0], 0.0), "depth"),
        (lambda: gradients.Network([np.ones((2, 3)), np.ones((2, 3))], np.ones(2), 0.0),
         "weights[1]"),
        (lambda: gradients.Network([np.ones((2, 3))], np.ones(3), 0.0), "alpha"),
        (lambda: gradients.Network([np.full((2, 3), np.nan)], np.ones(2), 0.0), "non-finite"),
        (lambda: gradients.Network([np.ones((2, 3))], np.ones(2), np.inf), "non-finite"),
        (lambda: gradients.gradient(NET, X3[:, :2], Y3), "X must have shape"),
        (lambda: gradients.gradient(NET, X3, Y3[:4]), "y must have shape"),
        (lambda: gradients.gradient(NET, np.where(X3 > 0, np.nan, X3), Y3), "X has non-finite"),
        (lambda: gradients.gradient(NET, X3, np.full(5, np.inf)), "y has non-finite"),
        (lambda: gradients.gradient(NET, X3, Y3, method="magic"), "unknown method"),
        (lambda: gradients.op_count("magic", [3, 2]), "unknown method"),
        (lambda: gradients.op_count("naive", [3, 2], batch=0), "batch"),
        (lambda: gradients.op_count("naive", [3, 2], activation="tanh"), "activation"),
        (lambda: gradients.loss(NET, X3[:0], Y3[:0]), "X must have shape"),
        (lambda: gradients.make_data([3, 2], 0), "batch"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()
