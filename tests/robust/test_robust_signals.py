"""Signals, with real processes: SIGHUP (the terminal closed) ends a sweep as SIGTERM does, killing
its timing child; a Ctrl-C at any moment once gradbench's code runs (its imports included) is one
line, never a traceback.

Not covered, because no program can cover it: a Ctrl-C in Python's own start-up (its site
module and import system, before the first line of bench.cli runs), some tens of milliseconds.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import pytest
from helpers import (
    FAKE_AGREES,
    gradbench,
    lines_of,
    processes_mentioning,
    signal_a_pyperf_run,
    study_rows,
    write_results,
)

import bench.sweep.launcher as launcher
from bench.cli import INTERRUPTED
from bench.signals import Stopped
from bench.sweep.results_file import HEADER

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
linux = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")


@linux
def test_sighup_kills_the_running_timing_child_and_leaves_only_whole_rows(tmp_path):
    out = tmp_path / "r.csv"
    # the default profile: a series of several seconds, which the hang-up must cut short
    code, stderr, timing = signal_a_pyperf_run(out, signal.SIGHUP, ENV)
    assert code == 128 + signal.SIGHUP and "Traceback" not in stderr, stderr
    assert not processes_mentioning(timing)  # no orphan keeps timing
    # hung up before its points had their rounds: a header, no torn row
    assert out.read_text() == HEADER
    assert not list(Path(f"{out}.pyperf").glob("*"))  # no half-written JSON either


def numpy_loaded(pid):
    """The process has mapped numpy's core library: bench.cli's own code, which imports it, runs."""
    try:
        return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@linux
def test_ctrl_c_at_any_moment_of_a_command_is_one_line(tmp_path):
    results = write_results(tmp_path / "r.csv", study_rows())
    # report: its imports, fitting and drawing last seconds; each process is interrupted at another
    # moment after its code started (numpy loading), the first in the middle of the command line's
    # imports
    delays = [0.0, 0.1, 0.4, 1.0]
    procs = [subprocess.Popen([sys.executable, "-m", "bench.cli", "report", str(results), "--out",
                               str(tmp_path / f"r{i}.md"), "--plots-dir", str(tmp_path / f"p{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
             for i in range(len(delays))]
    for proc, delay in zip(procs, delays):
        deadline = time.monotonic() + 60
        while not numpy_loaded(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
    interrupted = 0
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert "Traceback" not in stderr, stderr
        if proc.returncode == 0:  # a fast machine finished first: nothing to interrupt
            continue
        # 130, or killed by SIGINT itself: CPython ends so when the Ctrl-C landed in code a C
        # extension ran while importing (Cython's), even though gradbench caught it; click adds a
        # blank line before
        assert proc.returncode in (130, -signal.SIGINT), stderr
        assert stderr.strip() == "gradbench: interrupted; results already written are kept", stderr
        interrupted += 1
    assert interrupted >= 3
    assert lines_of(results)  # the input untouched and whole
    assert not list(tmp_path.rglob(".gradbench-*"))  # no temporary file left


def test_ctrl_c_while_the_command_line_is_still_importing_is_one_line():
    # a Ctrl-C exactly while bench.cli imports numpy (through gradients): the window a real one hits
    # first
    script = ("import builtins, os, signal\n"
              "real = builtins.__import__\n"
              "def hit(name, *args, **kwargs):\n"
              "    if name == 'gradients':\n"
              "        os.kill(os.getpid(), signal.SIGINT)\n"
              "    return real(name, *args, **kwargs)\n"
              "builtins.__import__ = hit\n"
              "import bench.cli\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV,
                          timeout=60)
    assert (done.returncode == 130
            and done.stderr == "gradbench: interrupted; results already written are kept\n")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_while_the_command_line_is_still_importing_is_one_line(sig):
    # the property test's find: before its handlers were set, SIGTERM killed the process silently
    script = ("import builtins, os, signal\n"
              "real = builtins.__import__\n"
              "def hit(name, *args, **kwargs):\n"
              "    if name == 'gradients':\n"
              f"        os.kill(os.getpid(), {int(sig)})\n"
              "    return real(name, *args, **kwargs)\n"
              "builtins.__import__ = hit\n"
              "import bench.cli\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV,
                          timeout=60)
    assert done.returncode == 128 + sig and done.stderr == Stopped(sig).line() + "\n", done.stderr


def wrapped_interrupt(*args, **kwargs):
    """What a pybind11 module's init does with a Ctrl-C that comes while it runs."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as e:
        raise ImportError("initialization failed") from e


def test_a_ctrl_c_that_a_module_wrapped_as_it_loaded_is_the_interrupted_line(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr("bench.fit.fit_file", wrapped_interrupt)  # as fit loads its libraries
    results = write_results(tmp_path / "r.csv", study_rows())
    code, _, err = gradbench("fit", results)
    assert (code, err) == (130, INTERRUPTED + "\n")


def test_an_import_error_without_a_ctrl_c_is_still_one_line(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ImportError("initialization failed", name="matplotlib._path")

    monkeypatch.setattr("bench.fit.fit_file", broken)
    results = write_results(tmp_path / "r.csv", study_rows())
    code, _, err = gradbench("fit", results)
    assert code == 2 and err.startswith("gradbench: error: cannot load matplotlib._path"), err


# --- a local Dask cluster that is starting ------------------------------------------------------

LINES = {signal.SIGINT: INTERRUPTED,
         **{sig: Stopped(sig).line() for sig in (signal.SIGTERM, signal.SIGHUP)}}
CLUSTER_SWEEP = ["sweep", "--depth", "1:3", "--width", "2", "--methods", "backprop",
                 "--profile", "quick"]


def started_sweep(out, *args):
    """`gradbench ARGS` in a session of its own (a terminal's group), and the environment entry its
    descendants inherit: processes_mentioning finds them, even once their parent is gone."""
    tag = f"GRADBENCH_TEST_SWEEP={uuid.uuid4().hex}\0"
    env = {**ENV, tag.split("=")[0]: tag.split("=")[1].rstrip("\0")}
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", *map(str, args)],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    return proc, tag


def send(proc, sig, group):
    """`sig` to the sweep alone (kill PID), or to its group as a terminal sends Ctrl-C, SIGHUP."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)


def workers(tag):
    """The local cluster's worker processes (multiprocessing spawned them) among the tagged."""
    found = []
    for pid in processes_mentioning(tag):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def ended_alone(proc, tag):
    """The sweep's stderr once it and every process it started have ended (SIGKILLed after 10 s)."""
    _, stderr = proc.communicate(timeout=120)
    deadline = time.monotonic() + 10
    while ((left := [p for p in processes_mentioning(tag) if p != proc.pid])
           and time.monotonic() < deadline):
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"
    return stderr


def resumed_whole(out, before, planned):
    """The rows kept whole (the file begins with what it held before), then --resume finishes it
    with each planned point once."""
    assert out.read_text().startswith(before)
    lines_of(out)
    with mock.patch.object(launcher, "Child", FAKE_AGREES):
        code, _, err = gradbench(*CLUSTER_SWEEP, "--resume", "--out", out)
    assert code == 0, err
    rows = lines_of(out)
    assert len(rows) == planned and len({tuple(r[:8]) for r in rows}) == planned, rows


@linux
@pytest.mark.parametrize("sig, group, delay", [(signal.SIGINT, True, 0.0),
                                               (signal.SIGINT, False, 0.3),
                                               (signal.SIGTERM, True, 0.2),
                                               (signal.SIGHUP, True, 0.4)])
def test_a_signal_while_the_local_cluster_starts_is_one_line_and_leaves_no_process(tmp_path, sig,
                                                                                   group, delay):
    out = tmp_path / "r.csv"
    with mock.patch.object(launcher, "Child", FAKE_AGREES):  # the first point's row, already there
        assert gradbench(*CLUSTER_SWEEP[:2], "1", *CLUSTER_SWEEP[3:], "--out", out).code == 0
    before = out.read_text()
    proc, tag = started_sweep(out, *CLUSTER_SWEEP, "--resume", "--workers", "2", "--out", out)
    # once both workers are spawned, they take a second or more to import Dask: the signal lands
    # while they do, the cluster still starting
    deadline = time.monotonic() + 60
    while proc.poll() is None and len(workers(tag)) < 2:
        assert time.monotonic() < deadline, "the cluster never started"
        time.sleep(0.01)
    time.sleep(delay)
    send(proc, sig, group)
    stderr = ended_alone(proc, tag)
    assert proc.returncode == 128 + sig, stderr
    assert stderr.strip() == LINES[sig], stderr  # click ends a Ctrl-C's ^C line first
    resumed_whole(out, before, planned=3)
