"""`gradbench train`'s rows survive a SIGKILL; a killed run's temporaries go with the next run;
a CSV data set with many columns loads in time linear in its size."""

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bench import output
from gradients import data

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
TRAIN = ["train", "--depth", "1", "--width", "2", "--samples", "16", "--no-progress"]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_sigkill_leaves_every_finished_epoch_in_out(tmp_path):
    out = tmp_path / "t.csv"
    args = [sys.executable, "-m", "bench.cli", *TRAIN, "--epochs", "1000000", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and len(_lines(out)) < 4:
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.kill()
        proc.communicate()
    text = out.read_text()
    rows = _rows(out)
    assert len(rows) >= 3
    assert [int(r["epoch"]) for r in rows] == list(range(len(rows)))  # consecutive, from epoch 0
    assert all(r["train_loss"] and r["dtype"] == "float64" for r in rows)  # whole rows
    assert text.endswith("\n")  # one write(2) a row: a kill cannot cut one
    assert not list(tmp_path.glob(".gradbench-*"))  # renamed with the first row


def _lines(path):
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_a_killed_runs_temporary_file_is_removed_by_the_next_run(tmp_path, gradbench):
    stale = tmp_path / f".gradbench-{_dead_pid()}-0123abcd.tmp"
    live = tmp_path / f".gradbench-{os.getpid()}-0123abcd.tmp"  # a running process's: kept
    for path in (stale, live):
        path.write_text("epoch,train_loss\n0,1.0\n")
    code, _, err = gradbench(*TRAIN, "--epochs", "2", "--out", str(tmp_path / "t.csv"))
    assert code == 0, err
    assert not stale.exists()
    assert live.exists()


def test_remove_stale_temporaries_keeps_other_names(tmp_path):
    other = [tmp_path / name for name in (".gradbench-x-0123abcd.tmp", "gradbench-1-0123abcd.tmp",
                                          "t.csv")]
    for path in other:
        path.write_text("")
    output.remove_stale_temporaries(tmp_path)
    assert all(path.exists() for path in other)


def test_a_run_that_ends_writes_every_epoch(tmp_path, gradbench):
    out = tmp_path / "t.csv"
    code, _, err = gradbench(*TRAIN, "--epochs", "5", "--out", str(out))
    assert code == 0, err
    assert [int(r["epoch"]) for r in _rows(out)] == list(range(6))


def test_a_csv_of_100000_columns_loads_in_linear_time(tmp_path):
    columns = 100_000
    path = tmp_path / "wide.csv"
    header = [f"x{j}" for j in range(columns)]
    header.insert(columns // 2, "y")  # the target in the middle: features keep their order
    row = [str(j) for j in range(columns)]
    row.insert(columns // 2, "-1")
    path.write_text(",".join(header) + "\n" + (",".join(row) + "\n") * 2)
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.setitimer(signal.ITIMER_REAL, 30)  # 0.5 s when linear; 50 s and more when quadratic
    try:
        X, y, features = data.load_csv(path, "y")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert features == [f"x{j}" for j in range(columns)]
    assert np.array_equal(X[1], np.arange(columns)) and list(y) == [-1, -1]


def _too_slow(*_):
    pytest.fail("load_csv took over 30 s: quadratic in the columns")


def test_numerical_in_float32_is_refused_before_training(tmp_path, gradbench):
    out = tmp_path / "t.csv"
    code, _, err = gradbench(*TRAIN, "--method", "numerical", "--dtype", "float32",
                             "--out", str(out))
    assert (code, err.count("\n")) == (2, 1)
    assert "--method numerical --dtype float32: numerical needs float64" in err
    assert not out.exists()
