"""The sweep's results file: complete rows only, refused unless --resume or --force.

Resumed, it keeps no duplicates."""

import csv
import os
import subprocess
import sys

import pytest

from bench.errors import UserError
from bench.results import read_results
from bench.schema import NAMES
from bench.sweep.points import Point
from bench.sweep.results_file import HEADER, format_row, open_results


def key(method, depth):
    """The point key of result_row(method, depth): width 2, input_dim 2, batch 1, relu, seed 0."""
    return Point(method, depth, 2, 2, 1, "relu", 0).key()


def test_new_file_gets_a_header_and_complete_rows(tmp_path, result_row):
    out = tmp_path / "sub" / "r.csv"
    with open_results(out, []) as results:
        results.write(result_row("naive", 1, reason="a, \"quoted\" reason"))
    expected = format_row(result_row("naive", 1, reason="a, \"quoted\" reason"))
    assert out.read_text() == HEADER + expected
    df = read_results(out)
    assert df.loc[0, "reason"] == 'a, "quoted" reason'


def test_existing_file_is_refused_without_resume_or_force(tmp_path, result_row):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(result_row("naive", 1)))
    before = out.read_bytes()
    with pytest.raises(UserError, match="--resume .* or --force"):
        open_results(out, [])
    with pytest.raises(UserError, match="contradict"):
        open_results(out, [], resume=True, force=True)
    assert out.read_bytes() == before
    open_results(out, [], force=True).close()
    assert out.read_text() == HEADER


def test_resume_keeps_ok_rows_and_drops_the_rest_of_the_planned_points(tmp_path, result_row):
    out = tmp_path / "r.csv"
    ok1, skip2, err9, ok3 = (format_row(result_row("naive", 1)),
                             format_row(result_row("naive", 2, status="skipped")),
                             format_row(result_row("naive", 9, status="error")),
                             format_row(result_row("naive", 3)))
    # a duplicate and a torn last line
    out.write_text(HEADER + ok1 + skip2 + err9 + ok3 + ok1 + ok3[:20])
    planned = [key("naive", d) for d in (1, 2, 3, 4)]
    with open_results(out, planned, resume=True) as results:
        assert set(results.done) == {key("naive", 1), key("naive", 3)}
        results.write(result_row("naive", 2))
    # depth 9 is not in this sweep: its row stays, byte for byte
    assert out.read_text() == HEADER + ok1 + err9 + ok3 + format_row(result_row("naive", 2))


def test_resume_of_a_clean_file_does_not_rewrite_it(tmp_path, result_row):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(result_row("naive", 1)))
    inode = out.stat().st_ino
    open_results(out, [key("naive", 1)], resume=True).close()
    assert out.stat().st_ino == inode


def test_resume_of_a_header_only_file_starts_it(tmp_path, result_row):
    out = tmp_path / "r.csv"
    out.write_text(HEADER)  # a sweep killed during its first point
    with open_results(out, [key("naive", 1)], resume=True) as results:
        assert results.done == {}
        results.write(result_row("naive", 1))
    assert out.read_text() == HEADER + format_row(result_row("naive", 1))


def test_resume_of_a_file_not_ending_in_a_newline_keeps_rows_on_their_own_lines(tmp_path,
                                                                                result_row):
    out = tmp_path / "r.csv"
    out.write_text(HEADER.rstrip("\n"))  # an editor, or a copy, dropped the last newline
    with open_results(out, [key("naive", 1)], resume=True) as results:
        results.write(result_row("naive", 1))
    assert out.read_text() == HEADER + format_row(result_row("naive", 1))
    # a whole last row without its newline (`truncate -s -1`) is kept, as fit reads it
    last = format_row(result_row("naive", 1))
    out.write_text(HEADER + last.rstrip("\n"))
    with open_results(out, [key("naive", 2)], resume=True) as results:
        assert set(results.done) == {key("naive", 1)}
        results.write(result_row("naive", 2))
    assert out.read_text() == HEADER + last + format_row(result_row("naive", 2))
    # a half-written one (a power cut mid-row: too few fields) is dropped and run again
    out.write_text(HEADER + last + last[:40])
    with open_results(out, [key("naive", 1)], resume=True) as results:
        assert set(results.done) == {key("naive", 1)}
    assert out.read_text() == HEADER + last


def test_resumed_rows_hold_python_values(tmp_path, result_row):
    out = tmp_path / "r.csv"
    written = result_row("naive", 1, max_rel_err=0.5, agree=False, time_mean_s=None)
    out.write_text(HEADER + format_row(written))
    with open_results(out, [key("naive", 1)], resume=True) as results:
        [done] = results.done.values()
    assert ((done["depth"], done["ops"], done["time_median_s"])
            == (1, written["ops"], written["time_median_s"]))
    assert done["agree"] is False
    assert done["max_rel_err"] == 0.5
    assert done["time_mean_s"] is None


def test_resume_refuses_bad_values_untouched(tmp_path, result_row):
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(result_row("naive", 1))
                   + format_row(result_row("naive", 2, time_median_s=0)))
    before = out.read_bytes()
    with pytest.raises(UserError, match="line 3, column time_median_s"):
        open_results(out, [key("naive", 3)], resume=True)
    assert out.read_bytes() == before


def test_resume_refuses_another_schema_or_column_order(tmp_path, result_row):
    out = tmp_path / "r.csv"
    out.write_text(HEADER.replace("schema_version", "version"))
    with pytest.raises(UserError, match="no schema_version column"):
        open_results(out, [], resume=True)
    shuffled = ",".join(NAMES[1:2] + NAMES[:1] + NAMES[2:]) + "\n"
    line = format_row(result_row("naive", 1))
    fields = next(csv.reader([line]))
    out.write_text(shuffled + ",".join(fields[1:2] + fields[:1] + fields[2:]) + "\n")
    before = out.read_bytes()
    with pytest.raises(UserError, match="columns differ"):
        open_results(out, [], resume=True)
    assert out.read_bytes() == before


def test_resume_reads_a_seed_past_2_to_the_53_exactly(tmp_path, result_row):
    seed = 2**53 + 1  # 9007199254740993: a float would read it as 2**53
    out = tmp_path / "r.csv"
    out.write_text(HEADER + format_row(result_row("naive", 1, seed=seed)))
    planned = Point("naive", 1, 2, 2, 1, "relu", seed).key()
    with open_results(out, [planned], resume=True) as results:
        assert set(results.done) == {planned}  # measured already: not run again
        assert results.done[planned]["seed"] == seed
    assert read_results(out).loc[0, "seed"] == seed


@pytest.mark.parametrize("damage", ["bom", "crlf", "bom+crlf"])
def test_resume_takes_a_bom_or_crlf_file_as_fit_does_and_rewrites_it_plain(tmp_path, result_row,
                                                                           damage):
    out = tmp_path / "r.csv"
    text = HEADER + format_row(result_row("naive", 1))
    raw = text.replace("\n", "\r\n") if "crlf" in damage else text
    out.write_bytes(("\ufeff" if "bom" in damage else "").encode() + raw.encode())
    assert read_results(out).loc[0, "depth"] == 1  # what fit reads
    with open_results(out, [key("naive", 1), key("naive", 2)], resume=True) as results:
        assert set(results.done) == {key("naive", 1)}
        results.write(result_row("naive", 2))
    assert out.read_text() == text + format_row(result_row("naive", 2))


def test_resume_keeps_a_row_whose_quoted_cell_spans_lines(tmp_path, result_row):
    out = tmp_path / "r.csv"
    row = format_row(result_row("naive", 1, status="skipped", reason="two\nlines"))
    out.write_text(HEADER + row)
    assert row.count("\n") == 2
    with open_results(out, [key("naive", 2)], resume=True) as results:
        results.write(result_row("naive", 2))
    assert out.read_text() == HEADER + row + format_row(result_row("naive", 2))


def test_two_joined_files_are_named_as_such(tmp_path, result_row):
    out = tmp_path / "r.csv"
    out.write_text((HEADER + format_row(result_row("naive", 1))) * 2)
    with pytest.raises(UserError, match="line 3 repeats the header"):
        read_results(out)
    with pytest.raises(UserError, match="line 3 repeats the header"):
        open_results(out, [], resume=True)


def test_a_killed_processs_temporary_file_beside_the_results_goes_with_the_next_sweep(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()  # its pid is free: the process that made the file is gone
    stale = tmp_path / f".gradbench-{proc.pid}-0123abcd.tmp"
    live = tmp_path / f".gradbench-{os.getpid()}-0123abcd.tmp"
    stale.write_text(HEADER), live.write_text(HEADER)
    open_results(tmp_path / "r.csv", []).close()
    assert not stale.exists() and live.exists()
