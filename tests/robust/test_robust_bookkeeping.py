"""The sweep's bookkeeping: each op count once per point, sizes in closed form, and a sweep whose
counts a results file cannot hold refused before any file."""

import numpy as np
import pytest
from helpers import FAKE_AGREES, gradbench, one_line_error

import bench.sweep.launcher as launcher
import gradients
from bench.errors import UserError
from bench.sweep.loop import sweep
from bench.sweep.points import Point


def test_a_sweep_counts_each_points_operations_once(tmp_path, monkeypatch):
    calls = []
    real = gradients.op_count
    monkeypatch.setattr(gradients, "op_count", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(launcher, "Child", FAKE_AGREES)
    code, _, err = gradbench("sweep", "--depth", "1:10", "--width", "1,2",
                             "--methods", "naive,backprop", "--out",
                       tmp_path / "r.csv")
    assert code == 0, err
    assert len(calls) == 10 * 2 * 2


def test_point_sizes_in_closed_form_match_the_network_over_random_shapes():
    rng = np.random.default_rng(5)
    for _ in range(200):
        p = Point("naive", *(int(v) for v in rng.integers(1, 300, size=4)))
        assert (p.edges, p.nodes) == (gradients.edges(p.widths), gradients.nodes(p.widths))


@pytest.mark.parametrize("options, fragment", [
    (dict(depth="1000001"), "--depth 1000001: 1,000,001 layers, more than 1,000,000"),
    (dict(width="4000000000", methods="backprop"), "more than a results file holds (2^63)"),
    (dict(batch="10000000000000000000", methods="forward"),
     "more than a results file holds (2^63)"),
])
def test_a_sweep_whose_bookkeeping_cannot_be_kept_is_refused_before_any_file(tmp_path, options,
                                                                             fragment):
    pattern = fragment.replace("^", r"\^").replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(UserError, match=pattern):
        sweep(out=tmp_path / "r.csv", **{"depth": "1", "width": "1", **options})
    assert list(tmp_path.iterdir()) == []
    options = [f"--{k}={v}" for k, v in options.items()]
    code, _, err = gradbench("sweep", *options, "--out", tmp_path / "r.csv")
    assert one_line_error(code, err)
