"""Fixtures of the tests: helpers.py's one CLI runner and one results-row factory, and the
session's files that several tests read (the study, made once).

Test modules use these through fixtures (pytest discourages importing from conftest).
"""

import fcntl
import gc
import os
import shutil
import signal
from pathlib import Path

import helpers
import pytest
from helpers import result_row, results_frame, write_csv

from bench import plot
from bench.plot import figures


def pytest_configure(config):
    """Ctrl-C back for the tests' child processes: pytest-xdist's worker processes ignore SIGINT
    (their controller takes it), and a child inherits that, so no sweep it starts would stop."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_finish(session):
    """Move what collection imported out of the collector's reach: the sweep's child collects
    between rounds, and in this process that would walk every module loaded (seconds a test)."""
    gc.freeze()


@pytest.fixture(scope="session")
def gradbench():
    """helpers.gradbench: `gradbench(*args)` runs the command line in this process."""
    return helpers.gradbench


@pytest.fixture(scope="session", name="result_row")
def result_row_fixture():
    """The results-row factory: `result_row(method, depth, width, ..., **columns)` -> dict."""
    return result_row


@pytest.fixture(scope="session", name="results_frame")
def results_frame_fixture():
    """`results_frame(depths, widths, methods, batch, seed, noise, input_dim)` -> DataFrame.

    The DataFrame holds result rows."""
    return results_frame


@pytest.fixture(scope="session", name="write_csv")
def write_csv_fixture():
    """`write_csv(path, df)` -> path."""
    return write_csv


# --- files the later stages make ----------------------------------------------------------


@pytest.fixture(scope="session")
def study(tmp_path_factory):
    """A depth and a width results CSV, one skipped point; reported (fitted, plotted) per run.

    depth.csv supports every figure kind and the report's every section (checkpoint against
    backprop: caches small enough that backprop's synthetic working memory is in L2 at depth 4 and
    beyond the LLC at 32); width.csv, one method without working memory, only time, ops and rate:
    figures take most of a report's time. Read-only: the first pytest-xdist process to need it
    makes it under a lock in the run's shared temporary folder, the other reads it (7 s a copy)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # one process: its own folder
        root = tmp_path_factory.mktemp("study")
        _make_study(root)
        return root
    root = tmp_path_factory.getbasetemp().parent / "study"  # this run's, beside popen-gw0, -gw1
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            shutil.rmtree(root, ignore_errors=True)  # a process that failed half-way
            _make_study(root)
            (root / "done").touch()
    return root


def _make_study(root):
    (root / "results").mkdir(parents=True, exist_ok=True)
    depth = results_frame([1, 2, 4, 8, 16, 32], [8],
                          methods=("naive", "backprop", "checkpoint", "forward"))
    depth["l2_bytes"], depth["llc_bytes"] = 2**10, 4 * 2**10
    skip = (depth["method"] == "naive") & (depth["depth"] == 32)
    depth.loc[skip, ["status", "reason"]] = ["skipped", "predicted 90 s > budget 60 s"]
    write_csv(root / "results" / "depth.csv", depth)
    width = results_frame([2], [4, 8, 16, 32], methods=("backprop",))
    width["work_mem_bytes"] = ""  # not measured: no memory figures
    write_csv(root / "results" / "width.csv", width)
    cwd = os.getcwd()
    os.chdir(root)  # the commands' defaults are relative: plots/, results/
    try:
        assert helpers.gradbench("report", "results/depth.csv", "results/width.csv").code == 0
    finally:
        os.chdir(cwd)


@pytest.fixture
def only_kinds(monkeypatch):
    """`only_kinds(*kinds)`: plot and report draw these kinds alone, for a test that reads tables or
    one figure (a figure is a second; the session's `study` draws every kind)."""
    def only(*kinds):
        for module in (figures, plot):
            monkeypatch.setattr(module, "KINDS", kinds)
    return only


@pytest.fixture
def unwritable(tmp_path):
    """Output folders that cannot be made: under a file, and (on Linux) under /proc."""
    (tmp_path / "file").write_text("")
    under_proc = [Path("/proc/gradbench-no-such")] * os.path.isdir("/proc/self")
    return [tmp_path / "file" / "sub"] + under_proc
