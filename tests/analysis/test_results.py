"""The results reader: numbers checked cell by cell, one line naming the file line and column.

Other files are refused."""

import pytest

from bench.errors import UserError
from bench.results import excluded_rows, ok_rows, read_results
from bench.schema import ADDED_IN_4, NAMES, SCHEMA_VERSION
from bench.sweep.results_file import HEADER, format_row

# round: quoted
TIMES = dict(time_s=1e-6, time_lo_s=1e-6, time_hi_s=2e-6,
             time_median_s=2e-6, time_mean_s=2e-6, time_stdev_s=0.0, time_min_s=1e-6,
             time_max_s=3e-6)


@pytest.fixture
def row(result_row):
    """`row(status, **cells)`: a tiny point's result_row, TIMES when ok, then the cells given."""

    def make(status="ok", **cells):
        times = TIMES if status == "ok" else {}
        return {**result_row("naive", 1, status=status, **times), **cells}

    return make


def write(tmp_path, *rows, extra=""):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(format_row(r) for r in rows) + extra)
    return path


def test_numbers_come_back_as_numbers_and_not_ok_rows_may_lack_times(tmp_path, row):
    df = read_results(write(tmp_path, row(), row("skipped", depth=2, reason="predicted 90 s"),
                            row("timeout", depth=3)))
    assert list(df.columns) == NAMES
    assert len(df) == 3
    assert df["depth"].tolist() == [1, 2, 3]
    assert str(df["ops"].dtype) == "int64"
    assert df.loc[0, "time_median_s"] == 2e-6
    assert df.loc[1:, "time_median_s"].isna().all()


def test_ok_rows_and_excluded_rows_split_a_frame_by_status(tmp_path, row):
    statuses = ["ok", "skipped", "ok", "timeout", "error"]
    df = read_results(write(tmp_path, *(row(s, depth=i + 1) for i, s in enumerate(statuses))))
    assert ok_rows(df)["depth"].tolist() == [1, 3]
    assert excluded_rows(df)["status"].tolist() == ["skipped", "timeout", "error"]


def test_header_only_file_has_no_rows(tmp_path):
    path = write(tmp_path)
    with pytest.raises(UserError, match=r"r.csv: no rows \(only a header\)"):
        read_results(path)
    assert read_results(path, allow_empty=True).empty


@pytest.mark.parametrize("cells, fragment", [
    ({"depth": "abc"}, "line 3, column depth: 'abc': not a number"),
    ({"time_median_s": "fast"}, "line 3, column time_median_s: 'fast': not a number"),
    ({"max_rel_err": "tiny"}, "line 3, column max_rel_err: 'tiny': not a number"),
    ({"ops": 1.5}, "line 3, column ops: '1.5': expected a whole number >= 1"),
    ({"ops": None}, "line 3, column ops: empty: expected a whole number >= 1"),
    ({"width": 0}, "line 3, column width: '0': expected a whole number >= 1"),
    ({"seed": -1}, "line 3, column seed: '-1': expected a whole number >= 0"),
    ({"depth": 1e19},  # beyond int64
     "line 3, column depth: '1e+19': expected a whole number >= 1"),
    ({"time_median_s": 0},
     "line 3, column time_median_s: '0.0': an ok row needs a positive, finite time"),
    ({"time_median_s": None},
     "line 3, column time_median_s: empty: an ok row needs a positive, finite time"),
    ({"time_max_s": float("inf")},
     "line 3, column time_max_s: 'inf': an ok row needs a positive, finite time"),
    ({"time_min_s": 5e-6},
     "line 3, column time_median_s: '2e-06': an ok row needs time_min_s <= time_median_s"),
    ({"time_vs_backprop": -3},
     "line 3, column time_vs_backprop: '-3.0': expected a positive, finite ratio"),
    ({"time_vs_backprop": 0},
     "line 3, column time_vs_backprop: '0.0': expected a positive, finite ratio"),
    ({"time_vs_backprop": float("inf")},
     "line 3, column time_vs_backprop: 'inf': expected a positive, finite ratio"),
    ({"work_mem_bytes": float("inf")}, "column work_mem_bytes: 'inf': expected a finite byte"),
    ({"work_mem_bytes": 1e308}, "column work_mem_bytes: '1e+308': expected a finite byte count"),
    ({"mem_model_bytes": -float("inf")}, "column mem_model_bytes: '-inf': expected a finite byte"),
    ({"llc_bytes": 2.0**63}, "column llc_bytes: '9.223372036854776e+18': expected a finite byte"),
])
def test_bad_cell_is_refused_naming_its_line_and_column(tmp_path, row, cells, fragment):
    path = write(tmp_path, row(), row(**{"depth": 2, **cells}))
    with pytest.raises(UserError) as e:
        read_results(path)
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_line_numbers_count_blank_lines(tmp_path, row):
    path = write(tmp_path, row(), extra="\n\n" + format_row(row(depth=2, ops="many")))
    with pytest.raises(UserError, match="line 5, column ops: 'many'"):
        read_results(path)
    path = write(tmp_path, row(), extra="\n" + format_row(row(depth=2)))
    assert read_results(path)["depth"].tolist() == [1, 2]  # the blank line is not a row


@pytest.mark.parametrize("command, options", [
    ("fit", []), ("plot", ["--out-dir", "p"]), ("report", ["--plots-dir", "p", "--out", "r.md"])])
def test_every_reader_refuses_a_bad_cell_in_one_line(tmp_path, gradbench, row, command, options):
    path = write(tmp_path, row(), row(depth=2, time_median_s=0))
    args = (str(tmp_path / o) if o in ("p", "r.md") else o for o in options)
    code, _, err = gradbench(command, str(path), *args)
    assert code == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "line 3, column time_median_s: '0.0'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]  # nothing written


@pytest.mark.parametrize("command", ["plot", "report"])
@pytest.mark.parametrize("content, message", [
    ("a,b\n1,2\n", "not a gradbench results file"),
    ("schema_version,method\n7,naive\n", "schema version 7"),
    ("\x00\x01 binary", "not a"),
])
def test_readers_refuse_other_files(tmp_path, gradbench, command, content, message):
    path = tmp_path / "x.csv"
    path.write_text(content)
    out_dir = "--plots-dir" if command == "report" else "--out-dir"
    code, _, err = gradbench(command, str(path), out_dir, str(tmp_path / "p"))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "p").exists()
    assert not (tmp_path / "x.md").exists()


# the columns of schema version 3, before the rounds: each point timed by its own pyperf run
V3_NAMES = [n for n in NAMES if n not in ADDED_IN_4]
# the columns of schema version 1, the layout results/*.csv were first written in
V1_NAMES = [n for n in V3_NAMES
            if n not in ("backend", "device", "dtype", "work_mem_bytes", "mem_model_bytes",
                         "framework", "device_name", "l2_bytes", "llc_bytes", "time_vs_backprop")]
# the layout of the first backends and memory study
V2_NAMES = [n for n in V3_NAMES if n != "time_vs_backprop"]


def older(path, names, version, rows):
    """A results file of an older schema: its columns only, its version number."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({**r, "schema_version": version} for r in rows)
    path.write_text(buffer.getvalue())
    return path


def test_a_version_1_file_reads_as_numpy_on_the_cpu_without_memory(tmp_path, row):
    df = read_results(older(tmp_path / "v1.csv", V1_NAMES, 1, [row()]))
    assert list(df.columns[: len(V1_NAMES)]) == V1_NAMES
    assert set(NAMES) <= set(df.columns)
    assert df.loc[0, "backend"] == "numpy"
    assert df.loc[0, "device"] == "cpu"
    assert df.loc[0, "dtype"] == "float64"
    assert df["work_mem_bytes"].isna().all()
    assert df.loc[0, "time_min_s"] == df.loc[0, "time_s"] == 1e-6


def test_a_version_2_file_reads_with_its_placements_and_no_interleaved_ratio(tmp_path, row):
    rows = [row(), row(method="checkpoint", backend="torch", device="cpu", dtype="float32")]
    df = read_results(older(tmp_path / "v2.csv", V2_NAMES, 2, rows))
    assert list(df.columns[: len(V2_NAMES)]) == V2_NAMES
    assert set(NAMES) <= set(df.columns)
    assert list(df["backend"]) == ["numpy", "torch"]
    assert list(df["dtype"]) == ["float64", "float32"]
    assert df["time_vs_backprop"].isna().all()
    assert (df["schema_version"] == SCHEMA_VERSION).all()


def test_a_version_3_file_reads_with_time_s_its_fastest_value_and_no_rounds(tmp_path, row):
    rows = [row(time_min_s=1e-6, time_s=""),
            row(depth=2, time_min_s=4e-6, time_median_s=5e-6, time_max_s=6e-6, time_s="")]
    df = read_results(older(tmp_path / "v3.csv", V3_NAMES, 3, rows))
    assert list(df.columns[: len(V3_NAMES)]) == V3_NAMES
    assert set(NAMES) <= set(df.columns)
    assert list(df["time_s"]) == [1e-6, 4e-6]  # what version 3 fitted and drew
    for column in ADDED_IN_4 - {"time_s"}:
        assert df[column].isna().all() or (df[column] == "").all(), column
    assert (df["schema_version"] == SCHEMA_VERSION).all()


def test_a_file_of_mixed_or_unknown_versions_is_refused(tmp_path, row):
    with pytest.raises(UserError,
                       match=r"schema version 1, 4, this gradbench reads versions 1, 2, 3 and 4"):
        read_results(write(tmp_path, row(), row(depth=2, schema_version=1)))


def test_a_version_2_header_alone_reads_as_an_empty_file_and_resume_says_start_anew(tmp_path, row,
                                                                                    gradbench):
    # a version 2 sweep stopped in its first point
    path = older(tmp_path / "v2.csv", V2_NAMES, 2, [])
    assert read_results(path, allow_empty=True).empty
    with pytest.raises(UserError, match=r"v2.csv: no rows \(only a header\)"):
        read_results(path)
    result = gradbench("sweep", "--depth", "1", "--width", "2", "--methods", "backprop",
                       "--profile", "quick", "--resume", "--out", path)
    assert result.code == 2
    assert "its columns differ from this gradbench's; start a new file" in result.err


@pytest.mark.filterwarnings("error")
def test_a_memory_model_of_zero_is_no_ratio_and_no_warning(tmp_path, gradbench, results_frame,
                                                           write_csv, only_kinds):
    only_kinds("memory", "tradeoff")  # the figures that read the model
    df = results_frame([1, 2, 4, 8], [8], methods=("backprop", "checkpoint"))
    df["mem_model_bytes"] = 0
    path = write_csv(tmp_path / "d.csv", df)
    code, _, err = gradbench("report", str(path), "--plots-dir", str(tmp_path / "p"))
    assert (code, err) == (0, "")
