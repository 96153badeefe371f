"""gradbench sweep: points, budget, the append-only CSV and --resume, the CLI's errors, Ctrl-C and kill."""

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyperf
import pytest

import bench.sweep.launcher as workers
import bench.sweep.run as sweep_mod
from bench.cli import main
from bench.errors import UserError
from bench.results import read_results
from bench.schema import NAMES, POINT_KEY, SCHEMA_VERSION
from bench.sweep.budget import PROFILES, Budget, predict_run_seconds
from bench.sweep.launcher import WorkerFailed, run_worker, worker_env
from bench.sweep.points import Point, plan
from bench.sweep.results_file import HEADER, format_row, open_results
from bench.sweep.run import measure

QUICK = ["--profile", "quick"]


def gradbench(capsys, *args):
    """Run the CLI in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main(["sweep", *args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


def data_lines(path):
    """Every row of a results file, checked to be a complete line of every column."""
    text = Path(path).read_text()
    assert text.startswith(HEADER) and text.endswith("\n")
    rows = list(csv.reader(text.splitlines()[1:]))
    assert all(len(r) == len(NAMES) for r in rows)
    return [dict(zip(NAMES, r)) for r in rows]


def keys(rows):
    return [tuple(r[k] for k in POINT_KEY) for r in rows]


def fake_timing(point, profile, json_path, env, timeout):
    """Stand-in for the pyperf run: instant, proportional to the op count."""
    import gradients

    t = 1e-9 * gradients.op_count(point.method, point.widths, point.batch)
    return {"time_median_s": t, "time_mean_s": t, "time_stdev_s": 0.0, "time_min_s": t, "time_max_s": t,
            "n_values": 3}


# --- points and budget ----------------------------------------------------------------


def test_plan_is_the_product_in_size_order_with_methods_in_given_order():
    points = plan("2,1", "3", "1:2", "backprop,naive")
    assert len(points) == 2 * 1 * 2 * 2
    assert [(p.depth, p.batch, p.method) for p in points[:4]] == [
        (1, 1, "backprop"), (1, 1, "naive"), (1, 2, "backprop"), (1, 2, "naive")]
    assert all(p.input_dim == p.width == 3 for p in points)
    assert points[-1].widths == [3, 3, 3]


def test_plan_runs_the_smallest_network_first_by_edges_then_batch():
    points = plan("1,2", "2,8", "1,3", "naive")
    # edges: depth 1 width 2: 6; depth 2 width 2: 10; depth 1 width 8: 72; depth 2 width 8: 136
    assert [(p.depth, p.width, p.batch) for p in points] == [
        (1, 2, 1), (1, 2, 3), (2, 2, 1), (2, 2, 3), (1, 8, 1), (1, 8, 3), (2, 8, 1), (2, 8, 3)]


def test_point_args_round_trip_through_the_workers_parser():
    import argparse

    parser = argparse.ArgumentParser()
    Point.add_arguments(parser)
    point = Point("naive", 3, 5, 7, 2, "identity", 11)
    assert Point.from_args(parser.parse_args(point.args())) == point


def test_point_from_a_csv_row_of_strings_or_values():
    point = Point("naive", 3, 5, 7, 2, "identity", 11)
    row = {k: str(v) for k, v in point.__dict__.items()}
    assert Point.from_row(row) == point
    assert Point.from_row(point.__dict__) == point


def test_plan_input_dim_range_and_duplicate_methods():
    points = plan("1", "4", "1", "naive,naive", input_dim="2,5")
    assert [(p.method, p.input_dim, tuple(p.widths)) for p in points] == [("naive", 2, (2, 4)), ("naive", 5, (5, 4))]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"methods": "foo"}, "unknown method 'foo'"),
    ({"methods": ","}, "empty list"),
    ({"activation": "tanh"}, "--activation tanh"),
    ({"seed": -1}, "--seed -1"),
    ({"depth": "0"}, "--depth 0"),
])
def test_plan_rejects_bad_input(kwargs, fragment):
    args = {"depth": "1", "width": "2", "batch": "1", "methods": "naive", **kwargs}
    with pytest.raises(UserError, match=fragment):
        plan(args.pop("depth"), args.pop("width"), args.pop("batch"), args.pop("methods"), **args)


def test_predicted_run_grows_with_the_call_and_counts_every_value():
    quick = PROFILES["quick"]
    assert predict_run_seconds(1.0, quick) >= (quick.processes + 1) * (quick.warmups + quick.values) * 1.0
    # below min_time pyperf loops the call until a value lasts min_time: the run no longer shrinks
    assert predict_run_seconds(1e-6, quick) == predict_run_seconds(1e-3, quick) < predict_run_seconds(0.1, quick)
    assert predict_run_seconds(0.1, quick) < predict_run_seconds(1.0, quick)
    assert predict_run_seconds(1.0, PROFILES["rigorous"]) > predict_run_seconds(1.0, PROFILES["default"])


def test_budget_predicts_from_the_largest_measured_point():
    budget = Budget(PROFILES["quick"], max_seconds=60)
    small, large = Point("naive", 1, 2, 2, 1, "relu", 0), Point("naive", 4, 2, 2, 1, "relu", 0)
    assert budget.predict(small, 100) is None  # nothing measured yet
    budget.record(large, 1000, 1e-3, "pyperf")
    budget.record(small, 100, 1.0, "pyperf")  # smaller: ignored
    seconds, why = budget.predict(small, 10**6)
    assert seconds == pytest.approx(predict_run_seconds(1.0, PROFILES["quick"]))
    assert "depth=4" in why
    assert budget.over(seconds, why) is None
    reason = budget.over(1e3, why)
    assert reason.startswith("predicted 1e+03 s > --max-seconds 60")


def test_skipped_before_running_when_predicted_over_budget(monkeypatch):
    budget = Budget(PROFILES["quick"], max_seconds=5)
    point = Point("naive", 8, 8, 8, 1, "relu", 0)
    budget.record(Point("naive", 1, 8, 8, 1, "relu", 0), 100, 0.1, "pyperf")  # 1 ms/op
    monkeypatch.setattr(workers, "run_check", pytest.fail)  # must not run
    columns = measure(point, 10**6, budget, {}, Path("."), "x.csv")
    assert columns["status"] == "skipped" and "predicted" in columns["reason"]


def test_skipped_after_the_check_when_one_call_is_too_slow(monkeypatch):
    monkeypatch.setattr(workers, "run_check",
                        lambda *a: {"seconds": 10.0, "peak_mem_bytes": 123, "max_rel_err": 1e-17})
    monkeypatch.setattr(workers, "run_timing", pytest.fail)
    columns = measure(Point("naive", 8, 8, 8, 1, "relu", 0), 10**6, Budget(PROFILES["quick"], 5), {}, Path("."), "x")
    assert columns["status"] == "skipped" and "one call took 10 s" in columns["reason"]
    assert columns["agree"] is True and columns["peak_mem_bytes"] == 123  # the check's findings are kept


@pytest.mark.parametrize("status", ["timeout", "error"])
def test_worker_failure_becomes_the_row_status(monkeypatch, status):
    def fail(*args):
        raise WorkerFailed(status, "the pyperf run went wrong")

    monkeypatch.setattr(workers, "run_check", lambda *a: {"seconds": 1e-5, "peak_mem_bytes": 1, "max_rel_err": 0.5})
    monkeypatch.setattr(workers, "run_timing", fail)
    columns = measure(Point("naive", 1, 2, 2, 1, "relu", 0), 10, Budget(PROFILES["quick"], 60), {}, Path("."), "x")
    assert (columns["status"], columns["reason"]) == (status, "the pyperf run went wrong")
    assert columns["agree"] is False  # 0.5 relative error: the disagreement is still recorded


def test_real_worker_error_and_timeout_are_reported():
    args = ["--depth", "1", "--width", "2", "--input-dim", "2", "--batch", "1"]
    with pytest.raises(WorkerFailed) as e:
        run_worker(["check", "--method", "bogus", *args], worker_env(1), 30)
    assert e.value.status == "error" and "unknown method 'bogus'" in e.value.reason
    with pytest.raises(WorkerFailed) as e:
        run_worker(["check", "--method", "backprop", *args], worker_env(1), 0.01)
    assert e.value.status == "timeout" and "killed" in e.value.reason


# --- the results file -----------------------------------------------------------------


def row(method, depth, status="ok", **more):
    times = {"time_min_s": 1e-6, "time_median_s": 1e-6, "time_max_s": 1e-6} if status == "ok" else {}
    return {"schema_version": SCHEMA_VERSION, "method": method, "depth": depth, "width": 2, "input_dim": 2,
            "batch": 1, "activation": "relu", "seed": 0, "backend": "numpy", "device": "cpu", "dtype": "float64",
            "status": status, "params": 7, "edges": 6, "nodes": 6, "ops": 10,
            **times, **more}


def key(method, depth):
    return Point(method, depth, 2, 2, 1, "relu", 0).key()


def test_new_file_gets_a_header_and_complete_rows(tmp_path):
    out = tmp_path / "sub" / "r.csv"
    with open_results(out, []) as results:
        results.write(row("naive", 1, reason="a, \"quoted\" reason"))
    assert out.read_text() == HEADER + format_row(row("naive", 1, reason="a, \"quoted\" reason"))
    df = read_results(out)
    assert df.loc[0, "reason"] == 'a, "quoted" reason'


def test_existing_file_is_refused_without_resume_or_force(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(row("naive", 1)))
    before = out.read_bytes()
    with pytest.raises(UserError, match="--resume .* or --force"):
        open_results(out, [])
    with pytest.raises(UserError, match="contradict"):
        open_results(out, [], resume=True, force=True)
    assert out.read_bytes() == before
    open_results(out, [], force=True).close()
    assert out.read_text() == HEADER


def test_resume_keeps_ok_rows_and_drops_the_rest_of_the_planned_points(tmp_path):
    out = tmp_path / "r.csv"
    ok1, skip2, err9, ok3 = (format_row(row("naive", 1)), format_row(row("naive", 2, "skipped")),
                             format_row(row("naive", 9, "error")), format_row(row("naive", 3)))
    out.write_text(HEADER + ok1 + skip2 + err9 + ok3 + ok1 + ok3[:20])  # a duplicate and a torn last line
    planned = [key("naive", d) for d in (1, 2, 3, 4)]
    with open_results(out, planned, resume=True) as results:
        assert set(results.done) == {key("naive", 1), key("naive", 3)}
        results.write(row("naive", 2))
    # depth 9 is not in this sweep: its row stays, byte for byte
    assert out.read_text() == HEADER + ok1 + err9 + ok3 + format_row(row("naive", 2))


def test_resume_of_a_clean_file_does_not_rewrite_it(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(row("naive", 1)))
    inode = out.stat().st_ino
    open_results(out, [key("naive", 1)], resume=True).close()
    assert out.stat().st_ino == inode


def test_resume_of_a_header_only_file_starts_it(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER)  # a sweep killed during its first point
    with open_results(out, [key("naive", 1)], resume=True) as results:
        assert results.done == {}
        results.write(row("naive", 1))
    assert out.read_text() == HEADER + format_row(row("naive", 1))


def test_resume_of_a_file_not_ending_in_a_newline_keeps_rows_on_their_own_lines(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER.rstrip("\n"))  # an editor, or a copy, dropped the last newline
    with open_results(out, [key("naive", 1)], resume=True) as results:
        results.write(row("naive", 1))
    assert out.read_text() == HEADER + format_row(row("naive", 1))
    # a last row without its newline may be a half-written one: it is dropped and run again
    out.write_text(HEADER + format_row(row("naive", 1)).rstrip("\n"))
    with open_results(out, [key("naive", 1)], resume=True) as results:
        assert results.done == {}


def test_plan_refuses_a_product_of_ranges_too_large_to_run():
    with pytest.raises(UserError, match="300,000 points, more than 10,000"):
        plan("1:100", "1:100", "1:10", "naive,backprop,forward")


def test_resumed_rows_hold_python_values(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(row("naive", 1, max_rel_err=0.5, agree=False)))
    with open_results(out, [key("naive", 1)], resume=True) as results:
        [done] = results.done.values()
    assert (done["depth"], done["ops"], done["time_median_s"]) == (1, 10, 1e-6)
    assert done["agree"] is False and done["max_rel_err"] == 0.5 and done["time_mean_s"] is None


def test_resume_refuses_bad_values_untouched(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(row("naive", 1)) + format_row(row("naive", 2, time_median_s=0)))
    before = out.read_bytes()
    with pytest.raises(UserError, match="line 3, column time_median_s"):
        open_results(out, [key("naive", 3)], resume=True)
    assert out.read_bytes() == before


def test_resume_refuses_another_schema_or_column_order(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text(HEADER.replace("schema_version", "version"))
    with pytest.raises(UserError, match="no schema_version column"):
        open_results(out, [], resume=True)
    shuffled = ",".join(NAMES[1:2] + NAMES[:1] + NAMES[2:]) + "\n"
    line = format_row(row("naive", 1))
    fields = next(csv.reader([line]))
    out.write_text(shuffled + ",".join(fields[1:2] + fields[:1] + fields[2:]) + "\n")
    before = out.read_bytes()
    with pytest.raises(UserError, match="columns differ"):
        open_results(out, [], resume=True)
    assert out.read_bytes() == before


# --- the command ----------------------------------------------------------------------


def test_quick_sweep_writes_every_column_and_pyperf_json(tmp_path, capsys):
    out = tmp_path / "r.csv"
    code, stdout, stderr = gradbench(capsys, "--depth", "1:2:x2", "--width", "3", "--methods",
                                     "naive,backprop,forward", "--blas-threads", "2", "--out", str(out), *QUICK)
    assert code == 0, stderr
    rows = data_lines(out)
    assert list(read_results(out).columns) == NAMES
    assert [(r["method"], r["depth"], r["status"], r["agree"]) for r in rows] == [
        (m, d, "ok", "True") for d in ("1", "2") for m in ("naive", "backprop", "forward")]
    for r in rows:
        assert float(r["time_min_s"]) <= float(r["time_median_s"]) <= float(r["time_max_s"])
        assert int(r["n_values"]) == 3 and int(r["peak_mem_bytes"]) > 0 and r["timestamp"]
        assert r["blas_threads"] == "2"  # as the pyperf workers saw it: --inherit-environ works
        bench = pyperf.Benchmark.load(str(tmp_path / r["pyperf_json"]))
        assert bench.median() == pytest.approx(float(r["time_median_s"]))
        assert bench.get_metadata()["gradbench_omp_num_threads"] == "2"
    assert rows[2]["max_rel_err"] == "" and float(rows[0]["max_rel_err"]) < 1e-12
    assert int(rows[0]["ops"]) > int(rows[1]["ops"])  # naive counts more than backprop
    assert "[6/6] forward depth=2" in stderr and "left" in stderr
    assert "naive/backprop at the largest common point (depth=2 width=3" in stdout
    stats = subprocess.run([sys.executable, "-m", "pyperf", "stats", str(tmp_path / rows[0]["pyperf_json"])],
                           capture_output=True, text=True)
    assert stats.returncode == 0 and "Median" in stats.stdout


def test_resume_runs_only_missing_points(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(workers, "run_timing", fake_timing)
    out = tmp_path / "r.csv"
    assert gradbench(capsys, "--depth", "1,2", "--width", "2", "--methods", "backprop", "--out", str(out))[0] == 0
    first = out.read_text()
    checked = []
    monkeypatch.setattr(workers, "run_check",
                        lambda p, *a: checked.append(p.depth)
                        or {"seconds": 1e-5, "peak_mem_bytes": 1, "max_rel_err": 0.0})
    code, stdout, _ = gradbench(capsys, "--depth", "1:3", "--width", "2", "--methods", "backprop", "--out", str(out),
                                "--resume")
    assert code == 0 and checked == [3]
    assert out.read_text().startswith(first)  # old rows untouched
    assert keys(data_lines(out)) == [Point("backprop", d, 2, 2, 1).key() for d in (1, 2, 3)]
    assert "2 from --resume" in stdout


def test_disagreement_is_recorded_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(workers, "run_timing", fake_timing)
    monkeypatch.setattr(sweep_mod, "DEFAULT_TOLERANCE", -1.0)  # nothing can agree
    out = tmp_path / "r.csv"
    code, stdout, _ = gradbench(capsys, "--depth", "1", "--width", "2", "--methods", "naive,forward", "--out", str(out))
    assert code == 1
    assert [(r["method"], r["status"], r["agree"]) for r in data_lines(out)] == [
        ("naive", "ok", "False"), ("forward", "ok", "True")]
    assert "DISAGREEMENT: 1 point(s)" in stdout


def test_worker_over_budget_is_killed_and_recorded(tmp_path, capsys):
    out = tmp_path / "r.csv"
    code, stdout, _ = gradbench(capsys, "--depth", "1", "--width", "2", "--methods", "backprop",
                                "--max-seconds", "0.02", "--out", str(out), *QUICK)
    assert code == 0
    [r] = data_lines(out)
    assert r["status"] == "timeout" and "killed" in r["reason"] and r["time_median_s"] == ""
    assert "timeout: backprop depth=1" in stdout


@pytest.mark.parametrize("args, fragment", [
    (["--depth", "0"], "--depth 0: 0 is below the minimum 1"),
    (["--depth", "abc"], "--depth abc: 'abc' is not an integer"),
    (["--depth", "5:1"], "--depth 5:1: stop 1 is below start 5"),
    (["--depth", "1:8:x1"], "--depth 1:8:x1: factor must be greater than 1"),
    (["--width", "-3"], "--width -3: -3 is below the minimum 1"),
    (["--batch", "0"], "--batch 0: 0 is below the minimum 1"),
    (["--methods", "foo"], "--methods foo: unknown method 'foo'"),
    (["--width", "1:9999999999:x1.0000001"], "--width 1:9999999999:x1.0000001: more than 10,000 values"),
    (["--profile", "slow"], "'slow' is not one of 'quick', 'study', 'default', 'rigorous'"),
    (["--activation", "tanh"], "'tanh' is not one of 'relu', 'identity'"),
    (["--max-seconds", "0"], "--max-seconds 0.0: must be a positive, finite number of seconds"),
    (["--max-seconds", "inf"], "--max-seconds inf: must be a positive, finite number of seconds"),
    (["--max-seconds", "nan"], "--max-seconds nan: must be a positive, finite number of seconds"),
    (["--blas-threads", "0"], "--blas-threads 0: must be 1 or more"),
    (["--seed", "x"], "'x' is not a valid integer"),
])
def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path, capsys, args, fragment):
    out = tmp_path / "r.csv"
    code, stdout, stderr = gradbench(capsys, *args, "--out", str(out))
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("gradbench: error: ") and fragment in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists() and not (tmp_path / "r.csv.pyperf").exists()


def test_unwritable_out_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for out, fragment in [(blocker / "r.csv", "is not a folder"), (blocker / "sub" / "r.csv", "is not a folder"),
                          (tmp_path, "is a directory")]:
        code, _, stderr = gradbench(capsys, "--depth", "1", "--width", "2", "--out", str(out))
        assert code == 2 and stderr.count("\n") == 1 and fragment in stderr and "Traceback" not in stderr
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("content, extra, fragment", [
    ("schema_version,method\n9,naive\n", ["--resume"], "schema version 9"),
    ("a,b\n1,2\n", ["--resume"], "no schema_version column"),
    (HEADER + format_row(row("naive", "x")), ["--resume"], "line 2, column depth: 'x': not a number"),
    (HEADER, [], "add --resume to continue it or --force"),  # our own file, but no --resume
])
def test_existing_or_foreign_out_exits_2_untouched(tmp_path, capsys, content, extra, fragment):
    out = tmp_path / "r.csv"
    out.write_text(content)
    code, _, stderr = gradbench(capsys, "--depth", "1", "--width", "2", "--out", str(out), *extra)
    assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr and fragment in stderr
    assert out.read_text() == content


def test_force_is_refused_before_the_old_file_is_replaced_when_the_json_folder_is_a_file(tmp_path, capsys):
    out = tmp_path / "r.csv"
    content = HEADER + format_row(row("naive", 1))
    out.write_text(content)
    (tmp_path / "r.csv.pyperf").write_text("in the way")
    code, _, stderr = gradbench(capsys, "--depth", "1", "--width", "2", "--out", str(out), "--force")
    assert code == 2 and "r.csv.pyperf: is not a folder" in stderr and stderr.count("\n") == 1
    assert out.read_text() == content


def test_header_only_file_resumes_and_a_resumed_disagreement_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(workers, "run_timing", fake_timing)
    monkeypatch.setattr(workers, "run_check", lambda *a: {"seconds": 1e-5, "peak_mem_bytes": 1, "max_rel_err": 0.0})
    out = tmp_path / "r.csv"
    out.write_text(HEADER)
    args = ["--depth", "1", "--width", "2", "--methods", "naive,backprop", "--out", str(out), "--resume"]
    code, stdout, _ = gradbench(capsys, *args)
    assert code == 0 and [r["status"] for r in data_lines(out)] == ["ok", "ok"]
    # a disagreement already in the file (a resumed row, read back from text) still fails the sweep
    text = out.read_text()
    out.write_text(text.replace(",0.0,True,", ",0.5,False,", 1))
    code, stdout, _ = gradbench(capsys, *args)
    assert code == 1 and "2 from --resume" in stdout
    assert "DISAGREEMENT: 1 point(s)" in stdout
    assert "naive depth=1 width=2 input_dim=2 batch=1: max_rel_err 0.5" in stdout


def test_sweep_exits_on_sigterm_only_while_running_and_restores_the_handler(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(workers, "run_timing", fake_timing)
    monkeypatch.setattr(workers, "run_check", lambda *a: seen.append(signal.getsignal(signal.SIGTERM))
                        or {"seconds": 1e-5, "peak_mem_bytes": 1, "max_rel_err": 0.0})
    before = signal.getsignal(signal.SIGTERM)
    sweep_mod.sweep(depth="1", width="2", methods="backprop", out=tmp_path / "r.csv", progress=_Silent())
    assert signal.getsignal(signal.SIGTERM) is before
    [handler] = seen
    with pytest.raises(SystemExit) as e:
        handler(signal.SIGTERM, None)
    assert e.value.code == 143


class _Silent:
    mean_point_s = None

    def show(self, *args):
        pass

    def finish(self):
        pass


# --- interrupted sweeps ---------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_sweep_leaves_complete_rows_and_resumes_without_duplicates(tmp_path, capsys, sig):
    out = tmp_path / "r.csv"
    args = ["--depth", "1:3", "--width", "3", "--methods", "naive,backprop", "--out", str(out), *QUICK]
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "sweep", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 3:  # the header and two rows
            break
        time.sleep(0.02)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), stderr
    if sig == signal.SIGINT:
        assert "interrupted" in stderr and "Traceback" not in stderr
    partial = data_lines(out)
    assert 2 <= len(partial) < 6
    code, _, _ = gradbench(capsys, *args, "--resume")
    assert code == 0
    rows = data_lines(out)
    assert len(rows) == 6 and len(set(keys(rows))) == 6
    assert all(r["status"] == "ok" for r in rows)
    assert keys(rows[: len(partial)]) == keys(partial)  # the rows written before the signal are kept


def processes_mentioning(text):
    """Pids of the live processes whose command line contains text (Linux /proc)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:  # gone meanwhile
            pass
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_sigterm_kills_the_running_pyperf_run_and_leaves_a_resumable_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "r.csv"
    args = ["--depth", "1", "--width", "2", "--methods", "backprop", "--out", str(out)]
    # the default profile: a pyperf run of several seconds, which the kill must cut short
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "sweep", *args, "--profile", "default"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timing = f"{out}.pyperf"  # only the pyperf run's command line names it (-o)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not processes_mentioning(timing):
        time.sleep(0.02)
    assert processes_mentioning(timing), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    deadline = time.monotonic() + 2  # the kernel's clean-up of the killed group
    while processes_mentioning(timing) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes_mentioning(timing)
    assert out.read_text() == HEADER  # killed during its first point: a header, no row
    monkeypatch.setattr(workers, "run_timing", fake_timing)
    code, _, _ = gradbench(capsys, *args, "--resume", *QUICK)
    assert code == 0 and [r["status"] for r in data_lines(out)] == ["ok"]
