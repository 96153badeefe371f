"""The Python API's entry points refuse what is not a batch of real numbers, naming the argument."""

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gradients


@pytest.fixture
def net():
    return gradients.Network.init([2, 3, 1], seed=0)


@pytest.fixture
def batch(net):
    return gradients.make_data(net.widths, 4, seed=0)


def test_loss_without_y_is_refused_not_unpacked_from_x(net):
    with pytest.raises(ValueError, match="^y must be an array of real numbers, got None"):
        gradients.loss(net, np.ones((2, 2)), None)


@pytest.mark.parametrize("method", gradients.METHODS)
def test_gradient_without_y_names_y(net, batch, method):
    with pytest.raises(ValueError, match="^y must be"):
        gradients.gradient(net, batch[0], None, method=method)


def test_none_inputs_are_not_called_non_finite(net, batch):
    with pytest.raises(ValueError, match="^X must be an array of real numbers, got None"):
        gradients.loss(net, None, batch[1])
    with pytest.raises(ValueError, match="^X must be an array of real numbers, got None"):
        net.predict(None)


@pytest.mark.parametrize("bad", [lambda a: a + 1j, lambda a: a > 0, lambda a: a.astype(str),
                                 lambda a: a.astype(object)],
                         ids=["complex", "bool", "text", "object"])
@pytest.mark.parametrize("argument", ["X", "y"])
def test_inputs_of_no_real_dtype_are_refused(net, batch, bad, argument):
    X, y = batch
    X, y = (bad(X), y) if argument == "X" else (X, bad(y))
    with pytest.raises(ValueError, match=f"^{argument} must hold real numbers"):
        gradients.loss(net, X, y)


def test_complex_predict_input_is_refused(net, batch):
    with pytest.raises(ValueError, match="^X must hold real numbers, got dtype complex128"):
        net.predict(batch[0] + 0j)


def test_integer_inputs_are_real_numbers(net, batch):
    X, y = batch
    assert gradients.loss(net, np.round(X).astype(int), y) == gradients.loss(net, np.round(X), y)


def test_ragged_lists_name_the_argument(net):
    with pytest.raises(ValueError, match="^X must be an array of real numbers"):
        gradients.loss(net, [[1.0, 2.0], [1.0]], [1.0, 2.0])


@pytest.mark.parametrize("where", ["weights", "alpha", "b"])
def test_network_parameters_of_no_real_dtype_are_refused(where):
    weights, alpha, b = [np.ones((3, 2))], np.ones(3), 0.0
    if where == "weights":
        weights = [weights[0] + 1j]
    elif where == "alpha":
        alpha = alpha.astype(str)
    else:
        b = "1"
    with pytest.raises(ValueError, match=f"^{where}(\\[0\\])? must hold real numbers"):
        gradients.Network(weights, alpha, b)


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), float("inf"), "1e-5", None, True])
def test_numerical_step_must_be_finite_and_positive(net, batch, h):
    with pytest.raises(ValueError, match="^h must be a finite number > 0"):
        gradients.gradient(net, *batch, method="numerical", h=h)


@pytest.mark.parametrize("max_bytes", [0, -5, float("nan"), float("inf"), 1.5, "1", True])
def test_naive_max_bytes_must_be_a_positive_integer(net, batch, max_bytes):
    with pytest.raises(ValueError, match="^max_bytes must be"):
        gradients.gradient(net, *batch, method="naive", max_bytes=max_bytes)
    with pytest.raises(ValueError, match="^max_bytes must be"):
        gradients.memory_count("naive", net.widths, max_bytes=max_bytes)


def test_an_option_a_method_does_not_take_is_named(net, batch):
    with pytest.raises(ValueError, match="^method 'backprop' has no option 'h'"):
        gradients.gradient(net, *batch, method="backprop", h=1e-4)


@pytest.mark.parametrize("seed", [None, "a", -1, 1.5])
def test_make_data_seed_is_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match="^seed must be an integer >= 0"):
        gradients.make_data([2, 3], 4, seed=seed)


@pytest.mark.parametrize("dtype", ["int64", "complex128", np.complex64, "float16"])
def test_make_data_and_to_refuse_dtypes_that_are_not_float32_or_64(net, dtype):
    with pytest.raises(ValueError, match="^dtype must be one of float64, float32"):
        gradients.make_data([2, 3], 4, dtype=dtype)
    with pytest.raises(ValueError, match="^dtype must be one of float64, float32"):
        net.to("numpy", dtype=dtype)


def test_numpy_scalar_types_name_a_dtype(net):
    assert net.to("numpy", dtype=np.float32).dtype == np.float32
    assert gradients.make_data([2, 3], 4, dtype=np.float32)[0].dtype == np.float32


@pytest.mark.parametrize("backend", [None, 3, np.float64])
def test_to_refuses_what_is_not_a_backend(net, backend):
    with pytest.raises(ValueError, match="^backend must be one of"):
        net.to(backend)


# --- the entry points under hostile input (hypothesis) -----------------------------------------
# A longer run, fresh random examples, by hand (make test leaves `slow` out):
#     .venv/bin/python -m pytest -m slow tests/robust/test_robust_api.py
# or any count:
#     GRADBENCH_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/robust/test_robust_api.py

EXAMPLES = int(os.environ.get("GRADBENCH_FUZZ_EXAMPLES", "0"))
DTYPES = [np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128, np.object_, np.str_]
VALUES = [0.0, 1.0, -2.5, 0.5, 3.0, 1e-300, 1e300] * 6 + [np.nan, np.inf, -np.inf]


@st.composite
def hostile(draw, rows, cols):
    """An argument: an array of any dtype, shape and values (often the right ones), a list, a
    number or None."""
    kind = draw(st.sampled_from(["array"] * 4 + ["list", "scalar", "none"]))
    if kind == "none":
        return None
    if kind == "scalar":
        return draw(st.sampled_from([1.0, 1, True, 1j, "1", b"1"]))
    right = (rows, cols)  # drawn half the time, so that whole calls run too
    wrong = [(rows,), (cols,), (rows + 1, cols), (0, cols), (rows, cols, 1), ()]
    shape = draw(st.sampled_from([right] * 6 + wrong))
    shape = tuple(n for n in shape if n is not None)
    size = int(np.prod(shape))
    values = draw(st.lists(st.sampled_from(VALUES), min_size=size, max_size=size))
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # the test's cast to ints
        warnings.simplefilter("ignore")
        dtype = draw(st.sampled_from(DTYPES[:1] * 6 + DTYPES))
        array = np.array(values, dtype=np.float64).reshape(shape).astype(dtype)
    return array.tolist() if kind == "list" else array


def fuzz(examples):
    """The entry-point test with `examples` examples: derandomized at the default, else fresh."""
    return settings(max_examples=examples, derandomize=examples == 150, deadline=None,
                    database=None, suppress_health_check=list(HealthCheck))


CALLS = st.sampled_from(["loss", "predict", *gradients.METHODS])


@fuzz(EXAMPLES or 150)
@given(data=st.data(), call=CALLS)
def test_entry_points_return_finite_results_or_a_value_error_naming_the_argument(data, call):
    """A result is finite and came without a warning; a refusal is a ValueError naming the argument
    (NumPy may warn first where an input mixes inf and -inf: the check's one sum, kept cheap)."""
    net = gradients.Network.init([2, 3, 1], seed=0)
    X = data.draw(hostile(3, 2), label="X")
    y = data.draw(hostile(3, None), label="y")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if call == "loss":
                result = gradients.loss(net, X, y)
            elif call == "predict":
                result = net.predict(X)
            else:
                result = gradients.gradient(net, X, y, method=call)
    except ValueError as e:
        message = str(e)
        assert "\n" not in message
        assert message.startswith(("X ", "y ")) or isinstance(e, gradients.NotFiniteError), message
        assert all(issubclass(w.category, RuntimeWarning) for w in caught), caught
        event(f"refused: {message.split(' ')[0]}")
        return
    event("computed")
    assert not caught, [str(w.message) for w in caught]
    if call == "loss":
        assert isinstance(result, float) and np.isfinite(result)
    elif call == "predict":
        assert result.shape == (np.shape(X)[0],) and np.all(np.isfinite(result))
    else:
        assert result.is_finite()
        assert [W.shape for W in result.weights] == [W.shape for W in net.weights]


@pytest.mark.slow
@fuzz(2000)
@given(data=st.data(), call=CALLS)
def test_entry_points_under_the_long_fuzz_profile(data, call):
    """The test above with 2000 fresh examples: run by hand, `pytest -m slow`."""
    test = test_entry_points_return_finite_results_or_a_value_error_naming_the_argument
    test.hypothesis.inner_test(data, call)
