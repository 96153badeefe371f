"""gradbench sweep: a point's measured columns, the command's rows, output, errors, Ctrl-C, kill."""

import csv
import gc
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyperf
import pyperf.__main__
import pytest
from helpers import FAKE_AGREES, FakeChild, processes_mentioning, signal_a_pyperf_run

import bench.sweep.loop as sweep_mod
from bench.results import read_results
from bench.schema import NAMES, POINT_KEY
from bench.sweep import child, launcher, series
from bench.sweep.budget import MIN_ROUNDS, PROFILES, Budget
from bench.sweep.points import Point
from bench.sweep.results_file import HEADER, format_row
from bench.sweep.series import Setting

QUICK = ["--profile", "quick"]


def data_lines(path):
    """Every row of a results file, checked to be a complete line of every column."""
    text = Path(path).read_text()
    assert text.startswith(HEADER)
    assert text.endswith("\n")
    rows = list(csv.reader(text.splitlines()[1:]))
    assert all(len(r) == len(NAMES) for r in rows)
    return [dict(zip(NAMES, r)) for r in rows]


def keys(rows):
    return [tuple(r[k] for k in POINT_KEY) for r in rows]


def scripted(*events):
    """A `launcher.Child` that hands out `events` in turn.

    None is a block that ran over its time, an exception is the child's end (raised)."""

    class Scripted(FakeChild):
        def __init__(self, spec, env):
            self.proc, self._events = None, list(events)

        def next(self, timeout):
            event = self._events.pop(0)
            if isinstance(event, Exception):
                raise event
            return event

    return Scripted


def child_events(points, ops, budget):
    """The events bench.sweep.child's series emits for `points`, run here on the parent's spec."""
    setting = Setting(budget, {}, Path("."), "x.csv")
    spec = json.loads(json.dumps(series._spec(series._Run(points, ops, setting, None), setting)))
    events = []
    enabled = gc.isenabled()
    try:
        child.series(spec, events.append)
    finally:
        if enabled:  # the child turns collection off for its rounds
            gc.enable()
    return events


def check_event(i=0, seconds=1e-5, max_rel_err=0.0, **more):
    return {"event": "check", "i": i, "seconds": seconds, "loops": 1, "rounds": MIN_ROUNDS,
            "peak_mem_bytes": 123, "work_mem_bytes": 23, "max_rel_err": max_rel_err,
            "framework": "numpy 0", "device_name": "Test CPU", **more}


# --- one point: skipped, killed, failed -----------------------------------------------


def test_skipped_before_running_when_predicted_over_budget(monkeypatch):
    budget = Budget(PROFILES["quick"], max_seconds=5)
    point = Point("naive", 8, 8, 8, 1, "relu", 0)
    budget.record(Point("naive", 1, 8, 8, 1, "relu", 0), 100, 0.1, "pyperf")  # 1 ms/op
    monkeypatch.setattr(child.Checker, "check", pytest.fail)  # must not run
    [skip, done] = child_events([point], [10**6], budget)
    assert (skip["event"], skip["i"], done["event"]) == ("skip", 0, "done")
    assert "predicted" in skip["reason"]


def test_skipped_after_the_check_when_one_call_is_too_slow(monkeypatch):
    columns = {k: v for k, v in check_event(seconds=10.0, max_rel_err=1e-17).items()
               if k not in ("event", "i", "loops", "rounds")}
    monkeypatch.setattr(child.Checker, "check",
                        lambda self, point: (columns, pytest.fail, pytest.fail, 10.0))
    events = child_events([Point("naive", 8, 8, 8, 1, "relu", 0)], [10**6],
                          Budget(PROFILES["quick"], 5))
    # no rounds: nothing called
    assert [e["event"] for e in events] == ["checking", "check", "skip", "done"]
    assert "one call took 10 s" in events[2]["reason"]


def test_the_check_s_findings_are_kept_in_a_skipped_row(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "Child", scripted(
        {"event": "checking", "i": 0}, check_event(seconds=10.0, max_rel_err=1e-17, rounds=0),
        {"event": "skip", "i": 0, "reason": "one call took 10 s"}, {"event": "done"}))
    [row] = sweep_mod.sweep(depth="8", width="8", methods="naive", out=tmp_path / "r.csv",
                            progress=False).rows
    assert (row["status"], row["reason"]) == ("skipped", "one call took 10 s")
    assert row["agree"] is True
    assert row["peak_mem_bytes"] == 123


@pytest.mark.parametrize("status, end, reason", [
    ("timeout", None, "ran over --max-seconds 60 and was killed"),
    ("error", launcher.ChildDied("MemoryError"), "the series' child process died: MemoryError"),
])
def test_a_child_killed_or_dead_becomes_the_row_status(tmp_path, monkeypatch, status, end, reason):
    monkeypatch.setattr(launcher, "Child", scripted(
        {"event": "checking", "i": 0}, check_event(max_rel_err=0.5),
        {"event": "order", "round": 0, "order": [0]}, end))
    [row] = sweep_mod.sweep(depth="1", width="2", methods="naive", out=tmp_path / "r.csv",
                            progress=False).rows
    assert (row["status"], row["reason"]) == (status, reason)
    assert row["agree"] is False  # 0.5 relative error: the disagreement is still recorded
    assert row.get("time_s") in (None, "")  # nothing timed


# --- the command ----------------------------------------------------------------------


def test_quick_sweep_writes_every_column_and_pyperf_json(tmp_path, gradbench, monkeypatch, capsys):
    out = tmp_path / "r.csv"
    # one network, every kind of method (the plan's order over sizes is test_sweep_points'): one
    # series
    code, stdout, stderr = gradbench("sweep", "--depth", "2", "--width", "3", "--methods",
                                     "naive,backprop,forward", "--blas-threads", "2",
                                     "--out", str(out), "--progress", *QUICK)
    assert code == 0, stderr
    rows = data_lines(out)
    assert list(read_results(out).columns) == NAMES
    assert [(r["method"], r["depth"], r["status"], r["agree"]) for r in rows] == [
        (m, "2", "ok", "True") for m in ("naive", "backprop", "forward")]
    assert len({r["series"] for r in rows}) == 1 and rows[0]["series"]  # timed in the same rounds
    assert len({r["pyperf_json"] for r in rows}) == 1  # one suite
    for r in rows:
        assert (float(r["time_min_s"]) <= float(r["time_s"]) <= float(r["time_median_s"])
                <= float(r["time_max_s"]))
        assert float(r["time_lo_s"]) <= float(r["time_s"]) <= float(r["time_hi_s"])
        assert int(r["n_values"]) == PROFILES["quick"].rounds
        assert int(r["peak_mem_bytes"]) > 0
        assert r["timestamp"]
        assert r["blas_threads"] == "2"
        assert r["local_k"] == ""  # one depth: no neighbour
        suite = pyperf.BenchmarkSuite.load(str(tmp_path / r["pyperf_json"]))
        bench = suite.get_benchmark(Point.from_row(r).slug)
        assert bench.get_nvalue() == PROFILES["quick"].rounds
        assert bench.median() == pytest.approx(float(r["time_median_s"]))
    assert float(rows[0]["time_vs_backprop"]) > 0  # naive, from the rounds it shared with backprop
    assert rows[1]["time_vs_backprop"] == rows[2]["time_vs_backprop"] == ""
    assert rows[2]["max_rel_err"] == ""
    assert float(rows[0]["max_rel_err"]) < 1e-12
    assert int(rows[0]["ops"]) > int(rows[1]["ops"])  # naive counts more than backprop
    # the last round's order: random
    assert re.search(r"3/3 points \[.*(naive|backprop|forward) depth=2", stderr)
    assert "left" in stderr
    assert "naive/backprop at the largest common point (depth=2 width=3" in stdout
    monkeypatch.setattr(sys, "argv", ["pyperf", "stats", str(tmp_path / rows[0]["pyperf_json"])])
    capsys.readouterr()
    pyperf.__main__.main()  # `python -m pyperf stats`, in this process: it reads the JSON back
    assert "Median" in capsys.readouterr().out


def test_the_child_runs_with_the_blas_threads_pinned():
    env = launcher.child_env(2)
    assert all(env[name] == "2" for name in launcher.BLAS_ENV)


def test_resume_runs_only_missing_points(tmp_path, gradbench, monkeypatch):
    monkeypatch.setattr(launcher, "Child", FakeChild.of())
    out = tmp_path / "r.csv"
    assert gradbench("sweep", "--depth", "1,2", "--width", "2", "--methods", "backprop",
                     "--out", str(out)).code == 0
    first = out.read_text()
    fake = FakeChild.of()
    monkeypatch.setattr(launcher, "Child", fake)
    code, stdout, _ = gradbench("sweep", "--depth", "1:3", "--width", "2", "--methods", "backprop",
                                "--out", str(out), "--resume")
    assert code == 0
    depths = {tuple(p["depth"] for p in spec["points"]) for spec in fake.specs}  # each process's
    assert depths == {(3,)}
    assert out.read_text().startswith(first)  # old rows untouched
    assert keys(data_lines(out)) == [Point("backprop", d, 2, 2, 1).key() for d in (1, 2, 3)]
    assert "2 from --resume" in stdout


def test_disagreement_is_recorded_and_exits_1(tmp_path, gradbench, monkeypatch):
    monkeypatch.setattr(launcher, "Child", FAKE_AGREES)
    monkeypatch.setattr(sweep_mod, "DEFAULT_TOLERANCE", -1.0)  # nothing can agree
    out = tmp_path / "r.csv"
    code, stdout, _ = gradbench("sweep", "--depth", "1", "--width", "2",
                                "--methods", "naive,forward", "--out", str(out))
    assert code == 1
    assert [(r["method"], r["status"], r["agree"]) for r in data_lines(out)] == [
        ("naive", "ok", "False"), ("forward", "ok", "True")]
    assert "DISAGREEMENT: 1 point(s)" in stdout


def test_a_check_over_budget_is_killed_and_recorded(tmp_path, gradbench):
    out = tmp_path / "r.csv"
    # one call of numerical at depth 8, width 16 takes most of a second: its check runs far over
    # 0.02 s
    code, stdout, _ = gradbench("sweep", "--depth", "8", "--width", "16", "--methods", "numerical",
                                "--max-seconds", "0.02", "--out", str(out), *QUICK)
    assert code == 0
    [r] = data_lines(out)
    assert r["status"] == "timeout"
    assert "killed" in r["reason"]
    assert r["time_s"] == r["time_median_s"] == ""
    assert "timeout: numerical depth=8" in stdout


@pytest.mark.parametrize("args, fragment", [
    (["--depth", "0"], "--depth 0: 0 is below the minimum 1"),
    (["--depth", "abc"], "--depth abc: 'abc' is not an integer"),
    (["--depth", "5:1"], "--depth 5:1: stop 1 is below start 5"),
    (["--depth", "1:8:x1"], "--depth 1:8:x1: factor must be greater than 1"),
    (["--width", "-3"], "--width -3: -3 is below the minimum 1"),
    (["--batch", "0"], "--batch 0: 0 is below the minimum 1"),
    (["--methods", "foo"], "--methods foo: unknown method 'foo'"),
    (["--width", "1:9999999999:x1.0000001"],
     "--width 1:9999999999:x1.0000001: more than 10,000 values"),
    (["--profile", "slow"], "'slow' is not one of 'quick', 'study', 'default', 'rigorous'"),
    (["--activation", "tanh"], "'tanh' is not one of 'relu', 'identity'"),
    (["--max-seconds", "0"],
     "--max-seconds 0.0: must be a positive number of seconds, at most 3.1536e+07"),
    (["--max-seconds", "inf"],
     "--max-seconds inf: must be a positive number of seconds, at most 3.1536e+07"),
    (["--max-seconds", "nan"],
     "--max-seconds nan: must be a positive number of seconds, at most 3.1536e+07"),
    (["--max-seconds", "1e12"],
     "--max-seconds 1000000000000.0: must be a positive number of seconds, at most 3.1536e+07"),
    (["--blas-threads", "0"], "--blas-threads 0: must be 1 or more"),
    (["--seed", "x"], "'x' is not a valid integer"),
])
def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path, gradbench, args, fragment):
    out = tmp_path / "r.csv"
    code, stdout, stderr = gradbench("sweep", *args, "--out", str(out))
    assert code == 2
    assert stderr.count("\n") == 1
    assert stderr.startswith("gradbench: error: ")
    assert fragment in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert not out.exists()
    assert not (tmp_path / "r.csv.pyperf").exists()


def test_unwritable_out_exits_2(tmp_path, gradbench):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for out, fragment in [(blocker / "r.csv", "is not a folder"),
                          (blocker / "sub" / "r.csv", "is not a folder"),
                          (tmp_path, "is a directory")]:
        code, _, stderr = gradbench("sweep", "--depth", "1", "--width", "2", "--out", str(out))
        assert code == 2
        assert stderr.count("\n") == 1
        assert fragment in stderr
        assert "Traceback" not in stderr
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("content, extra, fragment", [
    ("schema_version,method\n9,naive\n", ["--resume"], "schema version 9"),
    ("a,b\n1,2\n", ["--resume"], "no schema_version column"),
    # our header, a row with this cell
    ({"depth": "x"}, ["--resume"], "line 2, column depth: 'x': not a number"),
    (HEADER, [], "add --resume to continue it or --force"),  # our own file, but no --resume
])
def test_existing_or_foreign_out_exits_2_untouched(tmp_path, gradbench, result_row, content, extra,
                                                   fragment):
    if isinstance(content, dict):
        content = HEADER + format_row({**result_row("naive", 1), **content})
    out = tmp_path / "r.csv"
    out.write_text(content)
    code, _, stderr = gradbench("sweep", "--depth", "1", "--width", "2", "--out", str(out), *extra)
    assert code == 2
    assert stderr.count("\n") == 1
    assert "Traceback" not in stderr
    assert fragment in stderr
    assert out.read_text() == content


def test_force_is_refused_before_the_old_file_is_replaced_when_the_json_folder_is_a_file(
        tmp_path, gradbench, result_row):
    out = tmp_path / "r.csv"
    content = HEADER + format_row(result_row("naive", 1))
    out.write_text(content)
    (tmp_path / "r.csv.pyperf").write_text("in the way")
    code, _, stderr = gradbench("sweep", "--depth", "1", "--width", "2", "--out", str(out),
                                "--force")
    assert code == 2
    assert "r.csv.pyperf: is not a folder" in stderr
    assert stderr.count("\n") == 1
    assert out.read_text() == content


def test_header_only_file_resumes_and_a_resumed_disagreement_exits_1(tmp_path, gradbench,
                                                                     monkeypatch):
    monkeypatch.setattr(launcher, "Child", FAKE_AGREES)
    out = tmp_path / "r.csv"
    out.write_text(HEADER)
    args = ["sweep", "--depth", "1", "--width", "2", "--methods", "naive,backprop",
            "--out", str(out), "--resume"]
    code, stdout, _ = gradbench(*args)
    assert code == 0
    assert [r["status"] for r in data_lines(out)] == ["ok", "ok"]
    # a disagreement already in the file (a resumed row, read back from text) still fails the sweep
    text = out.read_text()
    out.write_text(text.replace(",0.0,True,", ",0.5,False,", 1))
    code, stdout, _ = gradbench(*args)
    assert code == 1
    assert "2 from --resume" in stdout
    assert "DISAGREEMENT: 1 point(s)" in stdout
    assert "naive depth=1 width=2 input_dim=2 batch=1: max_rel_err 0.5" in stdout


def test_sweep_exits_on_sigterm_only_while_running_and_restores_the_handler(tmp_path, monkeypatch):
    seen = []

    class Seeing(FakeChild):
        def __init__(self, spec, env):
            seen.append(signal.getsignal(signal.SIGTERM))
            super().__init__(spec, env)

    monkeypatch.setattr(launcher, "Child", Seeing)
    before = signal.getsignal(signal.SIGTERM)
    sweep_mod.sweep(depth="1", width="2", methods="backprop", out=tmp_path / "r.csv",
                    progress=False)
    assert signal.getsignal(signal.SIGTERM) is before
    [handler] = set(seen)  # the same handler while each of the series' processes runs
    with pytest.raises(SystemExit) as e:
        handler(signal.SIGTERM, None)
    assert e.value.code == 143


# --- interrupted sweeps ---------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_sweep_leaves_complete_rows_and_resumes_without_duplicates(
        tmp_path, gradbench, monkeypatch, sig):
    out = tmp_path / "r.csv"
    # two placements, two series one after the other: the first one's rows are written while the
    # second runs
    args = ["--depth", "1,2", "--width", "3", "--methods", "naive,backprop",
            "--dtype", "float64,float32", "--out", str(out), *QUICK]
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "sweep", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        # the header and the first row: signal at once
        if out.exists() and out.read_text().count("\n") >= 2:
            break
        time.sleep(0.01)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), stderr
    if sig == signal.SIGINT:
        assert "interrupted" in stderr
        assert "Traceback" not in stderr
    partial = data_lines(out)
    assert 1 <= len(partial) < 8
    # the resume is about the file, not the timing: its series are stand-ins
    monkeypatch.setattr(launcher, "Child", FAKE_AGREES)
    code, _, err = gradbench("sweep", *args, "--resume")
    assert code == 0, err
    rows = data_lines(out)
    assert len(rows) == 8
    assert len(set(keys(rows))) == 8
    assert all(r["status"] == "ok" for r in rows)
    # the rows written before the signal are kept
    assert keys(rows[: len(partial)]) == keys(partial)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_sigterm_kills_the_running_series_and_leaves_a_resumable_file(tmp_path, gradbench,
                                                                      monkeypatch):
    out = tmp_path / "r.csv"
    args = ["--depth", "1", "--width", "2", "--methods", "backprop", "--out", str(out)]
    # the default profile: a series of several seconds, which the kill must cut short
    code, stderr, timing = signal_a_pyperf_run(out, signal.SIGTERM)
    assert code == 143, stderr
    assert not processes_mentioning(timing)
    assert out.read_text() == HEADER  # killed before its points had their rounds: a header, no row
    monkeypatch.setattr(launcher, "Child", FAKE_AGREES)
    code, _, _ = gradbench("sweep", *args, "--resume", *QUICK)
    assert code == 0
    assert [r["status"] for r in data_lines(out)] == ["ok"]
