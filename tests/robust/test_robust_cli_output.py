"""The command line's own streams and environment: SIGTERM and SIGHUP print their one line; a
closed or full stderr, a full stdout and a bad MPLBACKEND end without a traceback."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import study_rows, write_results

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
GRADBENCH = [sys.executable, "-m", "bench.cli"]
TRAIN = ["train", "--depth", "1", "--width", "2", "--samples", "16"]
full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")


@pytest.mark.parametrize("sig, line", [
    (signal.SIGTERM, "gradbench: terminated (SIGTERM); results already written are kept"),
    (signal.SIGHUP,
     "gradbench: hung up (SIGHUP: the terminal closed); results already written are kept"),
])
def test_a_stop_signal_prints_its_one_line(tmp_path, sig, line):
    out = tmp_path / "t.csv"
    args = [*GRADBENCH, *TRAIN, "--no-progress", "--epochs", "1000000", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV)
    deadline = time.monotonic() + 60
    started = lambda: out.exists() and out.stat().st_size  # noqa: E731  a row: the loop runs
    while proc.poll() is None and time.monotonic() < deadline and not started():
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert err == line + "\n"


def _run(args, **streams):
    return subprocess.run([*GRADBENCH, *map(str, args)], env=ENV, timeout=120, **streams)


USAGE_ERROR = ["fit", "--no-such-option"]  # an error before any import of pandas: 0.2 s, not 1.3


def test_an_error_with_stderr_closed_is_still_exit_2():
    assert _run(USAGE_ERROR, stderr=subprocess.DEVNULL,
                preexec_fn=lambda: os.close(2)).returncode == 2


def test_a_run_with_stderr_closed_writes_its_rows_and_nothing_else_into_them(tmp_path):
    out = tmp_path / "t.csv"
    result = _run([*TRAIN, "--epochs", "3", "--out", out], stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL, text=True, preexec_fn=lambda: os.close(2))
    assert result.returncode == 0
    assert result.stdout.startswith("backprop/sgd")  # the progress label did not move to stdout
    assert len(out.read_text().splitlines()) == 1 + 4


@full
def test_an_error_with_stderr_full_is_still_exit_2():
    with open("/dev/full", "w") as dev_full:
        assert _run(USAGE_ERROR, stderr=dev_full).returncode == 2


@full
def test_stdout_full_is_one_line_and_exit_2(tmp_path):
    path = write_results(tmp_path / "r.csv", study_rows())
    with open("/dev/full", "w") as dev_full:
        result = _run(["fit", path], stdout=dev_full, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("gradbench: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_a_bad_mplbackend_does_not_stop_the_figures(tmp_path):
    path = write_results(tmp_path / "r.csv", study_rows(methods=("backprop",)))
    env = {**ENV, "MPLBACKEND": "no-such-backend"}
    result = subprocess.run([*GRADBENCH, "plot", str(path), "--format", "png",
                             "--out-dir", str(tmp_path / "p")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert list((tmp_path / "p").glob("r-*.png"))
