"""One writer per results file (an advisory lock), and readers that refuse what a later stage
cannot use: rows of the wrong width, two rows of one point, times outside what a sweep measures,
damaged fits."""

import fcntl
import os
import subprocess
import sys
import threading
import time

import pytest
from helpers import (
    REASON,
    STATUS,
    FakeChild,
    gradbench,
    lines_of,
    one_line_error,
    result_row,
    results_text,
    study_rows,
    write_results,
)

import bench.sweep.launcher as launcher
import bench.sweep.results_file as results_file
from bench.errors import UserError
from bench.fit import fit_file, read_fits
from bench.results import read_results
from bench.schema import NAMES, TIME_RANGE
from bench.sweep.points import Point
from bench.sweep.results_file import HEADER, format_row, open_results

KEYS = [Point("backprop", d, 2, 2, 1, "relu", 0).key() for d in (1, 2, 3)]


def test_a_second_writer_is_refused_while_the_first_holds_the_file(tmp_path):
    out = tmp_path / "r.csv"
    with open_results(out, KEYS) as first:
        first.write(result_row("backprop", 1))
        for resume, force in ((True, False), (False, True)):
            with pytest.raises(UserError, match="another gradbench sweep is writing it"):
                open_results(out, KEYS, resume=resume, force=force)
        first.write(result_row("backprop", 2))
    assert [r[2] for r in lines_of(out)] == ["1", "2"]  # the first's rows, all there, in order
    with open_results(out, KEYS, resume=True) as second:  # released: a --resume may follow
        assert len(second.done) == 2


def test_a_lock_let_go_within_the_wait_is_taken_not_refused(tmp_path):
    # a kill -9 as the sweep started a child: the child held a copy of the locked descriptor until
    # it closed it, and a --resume right after the kill was refused (seen under load)
    out = write_results(tmp_path / "r.csv", [result_row("backprop", 1)])
    held = os.open(out, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    threading.Timer(results_file.LOCK_WAIT_S / 3, os.close, [held]).start()
    started = time.monotonic()
    with open_results(out, KEYS, resume=True) as results:
        assert len(results.done) == 1
    assert time.monotonic() - started < results_file.LOCK_WAIT_S


def test_the_lock_goes_with_the_name_when_a_resume_or_force_replaces_the_file(tmp_path):
    out = tmp_path / "r.csv"
    write_results(out, [result_row("backprop", 1, status="error"), result_row("backprop", 9)])
    inode = out.stat().st_ino
    with open_results(out, KEYS, resume=True):  # drops the error row: a new file takes the name
        assert out.stat().st_ino != inode
        with pytest.raises(UserError, match="another gradbench sweep"):
            open_results(out, KEYS, force=True)
    with (open_results(out, KEYS, force=True),
          pytest.raises(UserError, match="another gradbench sweep")):
        open_results(out, KEYS, resume=True)
    assert out.read_text() == HEADER


HOLDER = """
import sys
from bench.sweep.results_file import open_results
from helpers import result_row
with open_results(sys.argv[1], []) as results:
    print("locked", flush=True)
    sys.stdin.readline()  # until the parent has tried
    for depth in (1, 2, 3):
        results.write(result_row("backprop", depth))
"""


def test_a_sweep_while_another_process_writes_the_file_is_refused_and_the_rows_all_kept(
        tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    first = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert first.stdout.readline() == "locked\n"
    monkeypatch.setattr(launcher, "Child", pytest.fail)  # the second must not run anything
    for flag in ("--resume", "--force"):
        code, _, err = gradbench("sweep", "--depth", "1", "--width", "2", "--methods", "backprop",
                                 "--out", out, flag)
        assert (one_line_error(code, err)
                and f"--out {out}: another gradbench sweep is writing it" in err)
    first.communicate("go\n", timeout=60)
    assert first.returncode == 0
    assert [r[2] for r in lines_of(out)] == ["1", "2", "3"]


def test_readers_refuse_two_rows_of_one_point_and_resume_repairs_the_file(tmp_path):
    rows = [result_row("backprop", 1), result_row("backprop", 2), result_row("backprop", 1)]
    path = write_results(tmp_path / "r.csv", rows)
    for args in (["fit", path], ["plot", path, "--out-dir", tmp_path / "p"], ["report", path]):
        code, _, err = gradbench(*args)
        assert (one_line_error(code, err)
                and "lines 2 and 4 hold the same point (method=backprop depth=1" in err)
    with open_results(path, [], resume=True):
        pass
    assert len(read_results(path)) == 2 and not list(tmp_path.glob("p/*"))


@pytest.mark.parametrize("line, fragment", [
    (format_row(result_row("backprop", 2)).replace(",relu,", ",relu,extra,", 1),
     f"line 3 has {len(NAMES) + 1} fields, the header has {len(NAMES)}"),
    (",".join(format_row(result_row("backprop", 2)).split(",")[:20]) + "\n",
     f"line 3 has 20 fields, the header has {len(NAMES)}"),
    (format_row(result_row("backprop", 2, status="done")),
     "line 3, column status: 'done': expected one of ok, skipped"),
])
def test_readers_refuse_a_row_of_the_wrong_shape(tmp_path, line, fragment):
    path = tmp_path / "r.csv"
    path.write_text(results_text([result_row("backprop", 1)]) + line)
    with pytest.raises(UserError) as e:
        read_results(path)
    assert fragment in str(e.value)


@pytest.mark.parametrize("seconds", [TIME_RANGE[0] / 10, TIME_RANGE[1] * 10, 1e-300, 1e300])
def test_readers_refuse_times_no_sweep_can_measure(tmp_path, seconds):
    rows = [result_row("backprop", 1), result_row("backprop", 2, seconds=seconds)]
    path = write_results(tmp_path / "r.csv", rows)
    with pytest.raises(UserError,
                       match="line 3, column time_s: .*: an ok row's time must lie between"):
        read_results(path)


def test_times_at_both_ends_of_the_range_are_fitted_and_plotted(tmp_path):
    lo, hi = TIME_RANGE
    rows = [result_row("backprop", d, width=3, seconds=t)
            for d, t in ((1, lo), (2, 1e-9), (4, 1e3), (8, hi / 1.3))]
    path = write_results(tmp_path / "edge.csv", rows)
    code, _, err = gradbench("plot", path, "--out-dir", tmp_path / "p")
    assert code == 0 and err == "", err
    # time, ops, rate, memory, tradeoff: a lone method
    assert len(list((tmp_path / "p").glob("edge-*.png"))) == 5


@pytest.mark.parametrize("column, value, fragment", [
    ("k", "abc", "column k: 'abc': expected a number from -1000 to 1000"),
    ("n_min", "0", "column n_min: "), ("c", "inf", "column c: 'inf'"),
    ("k_hi", "1e308", "column k_hi"),
    ("covers_theory", "maybe", "column covers_theory: 'maybe': expected True or False"),
    ("sweep", "width=8", "column sweep: 'width=8': not a sweep's key"),
])
def test_a_damaged_fits_file_is_one_line_for_plot_and_report(tmp_path, column, value, fragment):
    path = write_results(tmp_path / "d.csv", study_rows())
    fits_path, fits, _ = fit_file(path)
    fits = fits.astype(object)
    fits.loc[1, column] = value
    fits.to_csv(fits_path, index=False)
    with pytest.raises(UserError, match=fragment):
        read_fits(fits_path)
    for args in (["plot", path, "--out-dir", tmp_path / "p"],
                 ["report", path, "--plots-dir", tmp_path / "p"]):
        code, _, err = gradbench(*args)
        assert one_line_error(code, err) and "line 3, " + fragment in err, err
    assert not list(tmp_path.glob("p/*"))  # no figure drawn


def test_a_block_time_no_reader_would_take_is_an_error_row_not_an_ok_one(tmp_path, monkeypatch):
    # a clock that said 0.1 femtoseconds
    monkeypatch.setattr(launcher, "Child", FakeChild.of(block_s=1e-16))
    out = tmp_path / "r.csv"
    code, _, err = gradbench("sweep", "--depth", "1", "--width", "2", "--methods", "backprop",
                             "--out", out)
    assert code == 0, err
    [r] = lines_of(out)
    assert r[STATUS] == "error"
    assert "a block timed 1e-16 s a call" in r[REASON]
    assert len(read_results(out)) == 1  # the file stays readable
