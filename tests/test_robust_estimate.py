"""The sweep's bookkeeping: each op count once per point, a time-left estimate that matches the per-point sum."""

import numpy as np
import pytest
from helpers import CHECK_AGREES
from hypothesis import given, settings
from hypothesis import strategies as st
from test_robust_support import cli, one_line_error

import bench.sweep.launcher as launcher
import gradients
from bench.errors import UserError
from bench.sweep.budget import PROFILES, STARTUP_S, Budget
from bench.sweep.estimate import Remaining
from bench.sweep.points import Point
from bench.sweep.run import sweep

METHODS = ("naive", "backprop", "forward")
PLACEMENTS = [("numpy", "cpu", "float64"), ("torch", "cpu", "float32"), ("torch", "cuda:0", "float64")]


def random_point(rng):
    """A point of a random method and placement (the estimate keeps one sum per method and placement)."""
    on = PLACEMENTS[int(rng.integers(len(PLACEMENTS)))]
    return Point(str(rng.choice(METHODS)), int(rng.integers(1, 50)), 1, 1, 1, "relu", 0, *on)


def per_point(points, ops, budget, mean_point_s):
    """The estimate as a sum over every point (what Remaining must equal): its predicted run and check."""
    total = 0.0
    for p, o in zip(points, ops):
        predicted = budget.predict(p, o)
        if predicted is None:
            if mean_point_s is None:
                return None
            total += mean_point_s
        elif predicted[0] <= budget.max_seconds:
            total += predicted[0] + 2 * STARTUP_S
    return total


@settings(max_examples=60, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), profile=st.sampled_from(list(PROFILES)),
       max_seconds=st.floats(0.5, 1e4), mean=st.one_of(st.none(), st.floats(0.01, 10)))
def test_the_estimate_is_the_sum_of_every_point_left(seed, profile, max_seconds, mean):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    points = [random_point(rng) for _ in range(n)]
    ops = [int(o) for o in np.exp(rng.uniform(0, 30, n))]  # from 1 to 1e13: every region of the prediction
    budget = Budget(PROFILES[profile], max_seconds)
    for _ in range(int(rng.integers(0, 8))):
        budget.record(random_point(rng), int(rng.integers(1, 10**6)), 10 ** rng.uniform(-7, 1), "test")
    remaining = Remaining(points, ops)
    left = list(range(n))
    for _ in range(3):
        want = per_point([points[i] for i in left], [ops[i] for i in left], budget, mean)
        got = remaining.seconds(budget, mean)
        assert (got is None) == (want is None)
        if want is not None:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
        for i in rng.choice(left, size=len(left) // 2, replace=False):  # points run meanwhile
            remaining.done(points[i], ops[i])
            left.remove(i)


def test_a_sweep_counts_each_points_operations_once(tmp_path, monkeypatch):
    calls = []
    real = gradients.op_count
    monkeypatch.setattr(gradients, "op_count", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(launcher, "run_check", CHECK_AGREES)
    monkeypatch.setattr(launcher, "run_timing", lambda *a: {
        "time_median_s": 1e-5, "time_mean_s": 1e-5, "time_stdev_s": 0.0, "time_min_s": 1e-5, "time_max_s": 1e-5,
        "n_values": 3})
    code, _, err = cli("sweep", "--depth", "1:40", "--width", "1,2", "--methods", "naive,backprop", "--out",
                       tmp_path / "r.csv")
    assert code == 0, err
    assert len(calls) == 40 * 2 * 2


def test_point_sizes_in_closed_form_match_the_network_over_random_shapes():
    rng = np.random.default_rng(5)
    for _ in range(200):
        p = Point("naive", *(int(v) for v in rng.integers(1, 300, size=4)))
        assert (p.edges, p.nodes) == (gradients.edges(p.widths), gradients.nodes(p.widths))


@pytest.mark.parametrize("options, fragment", [
    (dict(depth="1000001"), "--depth 1000001: 1,000,001 layers, more than 1,000,000"),
    (dict(width="4000000000", methods="backprop"), "more than a results file holds (2^63)"),
    (dict(batch="10000000000000000000", methods="forward"), "more than a results file holds (2^63)"),
])
def test_a_sweep_whose_bookkeeping_cannot_be_kept_is_refused_before_any_file(tmp_path, options, fragment):
    with pytest.raises(UserError, match=fragment.replace("^", r"\^").replace("(", r"\(").replace(")", r"\)")):
        sweep(out=tmp_path / "r.csv", **{"depth": "1", "width": "1", **options})
    assert list(tmp_path.iterdir()) == []
    code, _, err = cli("sweep", *[f"--{k}={v}" for k, v in options.items()], "--out", tmp_path / "r.csv")
    assert one_line_error(code, err)
