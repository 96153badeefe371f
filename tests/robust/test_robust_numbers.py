"""Numbers at the edge: standardisation that cannot overflow, sizes that must be whole, values
checked where read."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from helpers import gradbench, one_line_error
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import train as training
from bench.errors import UserError
from bench.sweep.loop import sweep
from gradients.data import Standardiser, csv_task

SMALL = dict(depth=1, width=2, samples=16, epochs=1, progress=False)


def exact_z(column):
    """(x - mean) / std of a column in exact rational arithmetic, then rounded once."""
    x = [Fraction(v) for v in column]
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / len(x)
    return [math.copysign(math.sqrt(float((v - mean) ** 2 / var)), v - mean) for v in x]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(ks=st.lists(st.integers(-1000, 1000), min_size=2, max_size=20)
       .filter(lambda ks: len(set(ks)) > 1),
       exponent=st.integers(-305, 305))
def test_standardising_is_exact_at_every_scale_and_never_overflows(ks, exponent):
    column = np.array([k * 10.0**exponent for k in ks])  # (n,) from 1e-305 to 1e308
    if len(set(column)) < 2:  # underflow made the values equal: a constant column
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow or underflow warning fails the test
        z = Standardiser(column, "a")(column)  # (n,)
    assert np.max(np.abs(z - exact_z(column))) <= 1e-12


def test_a_constant_column_is_only_centred_and_a_test_value_far_outside_is_named():
    A = np.array([[0.1, 0.0, 1e300], [0.1, 0.0, -1e300], [0.1, 0.0, 0.0]])  # (3, 3)
    s = Standardiser(A, ["c", "zero", "big"])
    assert np.array_equal(s(A)[:, :2], np.zeros((3, 2)))
    tiny = Standardiser(np.array([1e-300, -1e-300]), "y")
    with pytest.raises(ValueError, match="^y: a standardised set .* not finite numbers$"):
        tiny(np.array([1e300]))


def test_a_csv_of_values_near_the_float_limit_trains_without_a_warning(tmp_path):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((40, 2))  # (40, 2)
    lines = ["big,small,y"] + [f"{float(1e300 * p)!r},{float(1e-300 * q)!r},{float(p - q)!r}"
                               for p, q in Z]
    path = tmp_path / "edge.csv"
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task = csv_task(path, "y", 0.25, seed=0)
        rows = training.run(data=str(path), target="y", depth=2, width=4, epochs=3, progress=False)
    assert np.allclose(task.X_train.mean(axis=0), 0) and np.allclose(task.X_train.std(axis=0), 1)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]


@pytest.mark.parametrize("name, value", [("width", 2.5), ("depth", True), ("epochs", "3"),
                                         ("samples", math.nan), ("seed", 1e-3),
                                         ("batch_size", math.inf), ("input_dim", 2.000001)])
def test_train_refuses_sizes_that_are_not_whole_numbers(name, value):
    with pytest.raises(UserError, match=f"^--{name.replace('_', '-')} .*: must be a whole number$"):
        training.run(**{**SMALL, name: value})


def test_train_takes_whole_numbers_of_any_type():
    rows = training.run(**{**SMALL, "width": 3.0, "depth": np.int64(2), "samples": np.uint8(16)})
    assert rows[-1]["width"] == 3 and rows[-1]["depth"] == 2
    assert rows[-1]["n_train"] + rows[-1]["n_test"] == 16


@pytest.mark.parametrize("option, value", [("seed", 2.5), ("blas_threads", 1.5), ("seed", True)])
def test_sweep_refuses_options_that_are_not_whole_numbers(tmp_path, option, value):
    with pytest.raises(UserError, match="must be a whole number"):
        sweep(out=tmp_path / "r.csv", depth="1", width="1", **{option: value})
    assert not (tmp_path / "r.csv").exists()


def test_noise_that_overflows_the_teacher_is_one_line():
    code, _, err = gradbench("train", "--noise", "1e308", "--epochs", "1", "--no-progress")
    assert one_line_error(code, err) and "noise 1e+308 makes y overflow to inf: lower it" in err
