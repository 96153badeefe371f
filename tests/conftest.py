"""Shared test helpers: one CLI runner, one results-row factory, and the study they make.

Test modules use these through fixtures (pytest discourages importing from conftest).
"""

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import gradients
from bench import schema
from bench.cli import main

# synthetic time = overhead + seconds-per-op * ops, like a real call: theory exponents hold
# for the op counts, and the constant flattens small sizes as Python overhead does
OVERHEAD, PER_OP = {"naive": 2e-5, "backprop": 1e-5, "checkpoint": 1.2e-5, "forward": 8e-6, "numerical": 2e-5}, 2e-8
METHODS = ("naive", "backprop", "forward")
# synthetic working memory: what each method stores (backprop every layer, forward one, naive also a w^3 block)
MEMORY = {"backprop": lambda w, b: 16 * b * sum(w), "forward": lambda w, b: 16 * b * max(w),
          "naive": lambda w, b: 16 * b * sum(w) + 8 * b * max(w) ** 3,
          "numerical": lambda w, b: 16 * b * sum(w),
          "checkpoint": lambda w, b: 16 * b * max(w) * (2 * len(w) ** 0.5 + 1)}


# --- the CLI ----------------------------------------------------------------------------


class Result(NamedTuple):
    code: int
    out: str
    err: str


def _main(args):
    """bench.cli.main as the shell runs it, in this process: its exit status."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    return e.value.code


@pytest.fixture
def gradbench(capsys):
    """`gradbench(*args)` runs the command line in this process: Result(code, out, err)."""

    def run(*args):
        code = _main(args)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


# --- results rows -----------------------------------------------------------------------


def result_row(method="naive", depth=1, width=2, *, input_dim=None, batch=1, status="ok", seed=0, noise=0.0,
               rng=None, **more):
    """A results row (dict) with every schema column: counts exact, time from the op count; `more` overrides.

    An ok row's five timed values are (overhead + per-op cost * ops) times log-normal noise; a row
    of another status has no measurements, as the sweep writes it.
    """
    d = width if input_dim is None else input_dim
    w = [d] + [width] * depth  # widths n[1..L+1]
    ops = gradients.op_count(method, w, batch=batch)
    row = {name: "" for name in schema.NAMES}
    row.update(schema_version=schema.SCHEMA_VERSION, method=method, depth=depth, width=width, input_dim=d,
               batch=batch, activation="relu", backend="numpy", device="cpu", dtype="float64",
               params=gradients.edges(w) + 1, edges=gradients.edges(w),
               nodes=gradients.nodes(w), ops=ops, status=status, reason="", seed=seed, profile="quick",
               pyperf_json="", python="3.11.2", numpy="2.4.0", blas="openblas", blas_threads=1, cpu="Test CPU",
               timestamp="2025-01-01T00:00:00+00:00")
    if status == "ok":
        rng = np.random.default_rng(seed) if rng is None else rng
        noise = np.exp(rng.normal(0, noise, 5))  # (5,)
        t = (OVERHEAD[method] + PER_OP * ops) * noise  # (5,) values
        memory = MEMORY[method](w, batch)  # the model; measured with the first value's noise
        row.update(time_median_s=np.median(t), time_mean_s=t.mean(), time_stdev_s=t.std(ddof=1), time_min_s=t.min(),
                   time_max_s=t.max(), n_values=5, max_rel_err=0.0 if method != "forward" else np.nan, agree=True,
                   peak_mem_bytes=1000 + memory, work_mem_bytes=memory * noise[0], mem_model_bytes=memory)
    return {**row, **more}


def results_frame(depths, widths, methods=METHODS, batch=1, seed=0, noise=0.02, input_dim=None):
    """A sweep's results as a DataFrame: one result_row per (depth, width, method), noise seeded by `seed`."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = [result_row(m, depth, width, input_dim=input_dim, batch=batch, seed=seed, noise=noise, rng=rng)
            for depth in depths for width in widths for m in methods]
    return pd.DataFrame(rows, columns=schema.NAMES)


def write_csv(path, df):
    """Write a results frame as the sweep's CSV; return the path."""
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session", name="result_row")
def result_row_fixture():
    """The results-row factory: `result_row(method, depth, width, ..., **columns)` -> dict."""
    return result_row


@pytest.fixture(scope="session", name="results_frame")
def results_frame_fixture():
    """`results_frame(depths, widths, methods, batch, seed, noise, input_dim)` -> DataFrame of result rows."""
    return results_frame


@pytest.fixture(scope="session", name="write_csv")
def write_csv_fixture():
    """`write_csv(path, df)` -> path."""
    return write_csv


# --- files the later stages make ----------------------------------------------------------


@pytest.fixture(scope="session")
def study(tmp_path_factory):
    """A depth and a width results CSV, one skipped point; reported (fitted and plotted) once for the session."""
    root = tmp_path_factory.mktemp("study")
    (root / "results").mkdir()
    depth = results_frame([1, 2, 4, 8, 16, 32], [8])
    skip = (depth["method"] == "naive") & (depth["depth"] == 32)
    depth.loc[skip, ["status", "reason"]] = ["skipped", "predicted 90 s > budget 60 s"]
    write_csv(root / "results" / "depth.csv", depth)
    write_csv(root / "results" / "width.csv", results_frame([2], [4, 8, 16, 32]))
    cwd = os.getcwd()
    os.chdir(root)  # the commands' defaults are relative: plots/, results/
    try:
        assert _main(["report", "results/depth.csv", "results/width.csv"]) == 0
    finally:
        os.chdir(cwd)
    return root


@pytest.fixture
def unwritable(tmp_path):
    """Output folders that cannot be made: under a file, and (on Linux) under /proc."""
    (tmp_path / "file").write_text("")
    return [tmp_path / "file" / "sub"] + [Path("/proc/gradbench-no-such")] * os.path.isdir("/proc/self")
