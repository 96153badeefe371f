"""Output files (bench.output) under every command: only regular files of ours, symlinks written
through, names the file system takes, and real faults (a full disk, a read-only one) as one line
with every row whole."""

import csv
import os
import stat
from pathlib import Path

import pytest
from helpers import (
    FAKE_AGREES,
    device_node,
    fill,
    gradbench,
    lines_of,
    needs_root,
    one_line_error,
    result_row,
    study_rows,
    tmpfs,
    write_results,
)

import bench.sweep.launcher as launcher
from bench import output, plot
from bench.errors import UserError
from bench.sweep.results_file import HEADER

SWEEP = ["sweep", "--depth", "1", "--width", "2", "--methods", "backprop"]
TRAIN = ["train", "--epochs", "1", "--samples", "16", "--no-progress"]


@pytest.fixture
def fake_children(monkeypatch):
    """An instant stand-in for the sweep's child process."""
    monkeypatch.setattr(launcher, "Child", FAKE_AGREES)


# --- what may be written ------------------------------------------------------------------


@pytest.mark.parametrize("name, fragment", [
    ("", "empty path"), (".", "names a folder"), ("/", "names a folder"),
    ("new.csv/", "names a folder"), ("..", "names a folder"), ("a\nb.csv", "a control character"),
    ("\udcff.csv", "not valid UTF-8"),
    ("x" * 250 + ".csv", "a name of 254 bytes; this file system takes 255"),
    ("dir", "it is a folder"), ("fifo", "it is a FIFO (named pipe), not a regular file"),
    ("dangling", "it is a symlink to a missing file"), ("file/x.csv", "a parent of it is a file"),
])
def test_target_refuses_what_is_not_a_regular_file_or_a_new_name(tmp_path, monkeypatch, name,
                                                                  fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to("missing.csv")
    with pytest.raises(UserError) as e:
        output.target(name, "--out X")
    assert str(e.value).startswith("--out X") and fragment in str(e.value)
    assert output.target("new.csv") == Path("new.csv")


@needs_root
def test_a_device_node_is_refused_by_every_writer_and_stays_a_device(tmp_path, fake_children):
    null = device_node(tmp_path / "null")
    data = tmp_path / "data.csv"
    data.write_text("a,y\n1,2\n2,3\n3,5\n")
    results = write_results(tmp_path / "r.csv", study_rows())
    for args in ([*SWEEP, "--out", null, "--force"], [*TRAIN, "--out", null, "--force"],
                 [*TRAIN, "--plot", null, "--force"], ["report", results, "--out", null]):
        code, _, err = gradbench(*args)
        assert one_line_error(code, err) and "a character device, not a regular file" in err, err
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_a_fifo_is_refused_without_hanging_and_stays_a_fifo(tmp_path, fake_children):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in ([*SWEEP, "--out", fifo, "--resume"], [*TRAIN, "--out", fifo, "--force"],
                 ["fit", fifo], [*TRAIN, "--data", fifo, "--target", "y"]):
        code, _, err = gradbench(*args)
        assert one_line_error(code, err) and ("FIFO" in err or "not a regular file" in err), err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlinked_out_is_written_through_and_stays_a_link(tmp_path, fake_children):
    real = write_results(tmp_path / "real.csv", [result_row("backprop", 9)])
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    # drops nothing: appends to the file linked to
    code, _, err = gradbench(*SWEEP, "--out", link, "--resume")
    assert code == 0, err
    # replaces the file linked to
    code, _, err = gradbench(*SWEEP, "--depth", "2", "--out", link, "--force")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert [r[2] for r in lines_of(real)] == ["2"] and (tmp_path / "real.csv.pyperf").is_dir()
    fits = tmp_path / "real.fits.csv"
    (tmp_path / "elsewhere.csv").write_text("old fits\n")
    fits.symlink_to("elsewhere.csv")
    write_results(real, study_rows())
    code, _, err = gradbench("fit", real)
    assert code == 0 and fits.is_symlink() and "k_lo" in (tmp_path / "elsewhere.csv").read_text()


def test_train_refuses_an_existing_output_unless_force_and_one_file_for_two_outputs(tmp_path):
    sweep_csv = write_results(tmp_path / "sweep.csv", study_rows())
    before = sweep_csv.read_bytes()
    code, _, err = gradbench(*TRAIN, "--out", sweep_csv)
    assert one_line_error(code, err) and "already exists: add --force" in err
    code, _, err = gradbench(*TRAIN, "--out", tmp_path / "x.png", "--plot", tmp_path / "x.png")
    assert one_line_error(code, err) and "name the same file" in err
    assert not (tmp_path / "x.png").exists()
    data = tmp_path / "data.csv"
    data.write_text("a,y\n1,2\n2,3\n3,5\n4,4\n")
    code, _, err = gradbench(*TRAIN, "--data", data, "--target", "y", "--out", data, "--force")
    assert one_line_error(code, err) and "is the --data file" in err
    assert sweep_csv.read_bytes() == before
    code, _, err = gradbench(*TRAIN, "--out", sweep_csv, "--force")
    assert code == 0, err
    with open(sweep_csv, newline="") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1"]
    # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "sweep.csv"]


def test_report_refuses_to_write_over_what_it_reads(tmp_path):
    results = write_results(tmp_path / "r.csv", study_rows())
    before = results.read_bytes()
    (tmp_path / "link.md").symlink_to("r.csv")
    for out in (results, tmp_path / "r.fits.csv", tmp_path / "link.md"):
        code, _, err = gradbench("report", results, "--out", out)
        assert (one_line_error(code, err)
                and "which the report reads: choose another name" in err), err
    assert results.read_bytes() == before


# --- faults of real file systems ---------------------------------------------------------------


@needs_root
def test_a_full_disk_mid_sweep_is_one_line_and_every_row_whole_then_resume_completes(fake_children):
    with tmpfs(size="64k") as fs:
        out = fs / "r.csv"
        # two pages: the header and a few rows, and the series' pyperf suite, which fills the disk
        # first (it is rewritten whole as each point finishes, and each point's row is written after
        # its suite)
        fill(fs, leave=8192)
        args = ["sweep", "--depth", "1:30", "--width", "1", "--methods", "backprop", "--out", out]
        code, _, err = gradbench(*args)
        assert (one_line_error(code, err) and "No space left on device" in err
                and ".json: cannot write" in err), err
        written = lines_of(out)  # every line whole
        assert 0 < len(written) < 30
        (fs / "filler").unlink()
        code, _, err = gradbench(*args, "--resume")
        assert code == 0, err
        rows = lines_of(out)
        # each depth once, the old rows first
        assert [r[2] for r in rows] == [str(d) for d in range(1, 31)]


@needs_root
def test_a_full_disk_mid_training_keeps_the_finished_epochs_whole():
    with tmpfs(size="64k") as fs:
        out = fs / "t.csv"
        fill(fs, leave=4096)
        code, _, err = gradbench(*TRAIN, "--epochs", "200", "--out", out)
        assert one_line_error(code, err) and "No space left on device" in err
        with open(out, newline="") as f:
            epochs = [r["epoch"] for r in csv.DictReader(f)]
        assert epochs == [str(e) for e in range(len(epochs))] and 0 < len(epochs) < 201
        assert sorted(p.name for p in fs.iterdir()) == ["filler", "t.csv"]


@needs_root
def test_a_full_disk_leaves_every_whole_file_output_untouched(tmp_path, fake_children):
    results = write_results(tmp_path / "r.csv", study_rows()).read_bytes()
    files = {"r.csv": results, "r.fits.csv": b"old fits\n", "t.csv": b"old rows\n"}
    with tmpfs(size="64k", files=files) as fs:
        fill(fs)
        for args in (["fit", fs / "r.csv"], [*TRAIN, "--plot", fs / "t.png"],
                     [*TRAIN, "--out", fs / "t.csv", "--force"], [*SWEEP, "--out", fs / "s.csv"]):
            code, _, err = gradbench(*args)
            assert one_line_error(code, err) and "No space left on device" in err, err
        assert (fs / "r.fits.csv").read_text() == "old fits\n"
        assert (fs / "t.csv").read_text() == "old rows\n"
        assert sorted(p.name for p in fs.iterdir()) == ["filler", "r.csv", "r.fits.csv", "t.csv"]


@needs_root
def test_a_read_only_file_system_is_one_line_for_every_writer(tmp_path, fake_children):
    results = write_results(tmp_path / "r.csv", study_rows())
    with tmpfs(read_only=True, files={"r.csv": results.read_bytes()}) as fs:
        for args in ([*SWEEP, "--out", fs / "r.csv", "--resume"], [*SWEEP, "--out", fs / "new.csv"],
                     [*TRAIN, "--out", fs / "t.csv"], ["fit", fs / "r.csv"],
                     ["plot", results, "--out-dir", fs], ["report", results, "--out", fs / "r.md"]):
            code, _, err = gradbench(*args)
            assert one_line_error(code, err) and "Read-only file system" in err, (args, err)
        assert (fs / "r.csv").read_bytes() == results.read_bytes()


def test_a_short_write_is_cut_back_and_the_file_keeps_its_whole_rows(tmp_path, monkeypatch):
    path = tmp_path / "r.csv"
    path.write_text(HEADER)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    real_write = os.write
    # a full disk
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[: len(data) // 2]))
    with pytest.raises(UserError, match="No space left on device"):
        output.append_line(fd, b"a,whole,row\n", "--out r.csv")
    os.close(fd)
    assert path.read_text() == HEADER


def test_a_results_name_the_sweep_takes_leaves_room_for_every_name_derived_from_it(tmp_path,
                                                                                    monkeypatch,
                                                                                    only_kinds):
    longest = max(plot.KINDS, key=len)
    only_kinds(longest)  # the longest figure name; every other kind's is shorter
    monkeypatch.chdir(tmp_path)
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    # the longest --out a sweep takes
    name = "x" * (name_max - output.RESERVED - len(".csv")) + ".csv"
    assert output.target(name, "--out") == Path(name)
    with pytest.raises(UserError, match="gradbench needs 16 of them"):
        output.target("x" + name, "--out")
    write_results(tmp_path / name, study_rows(methods=("naive", "backprop", "forward")))
    for args in (["fit", name], ["plot", name, "--out-dir", "p"],
                 ["report", name, "--plots-dir", "p"]):
        code, _, err = gradbench(*args)
        assert code == 0, err
    assert len(list((tmp_path / "p").glob(f"*-{longest}.svg"))) == 1


def test_a_file_size_limit_is_named_not_taken_for_a_full_disk(tmp_path):
    import resource
    import subprocess
    import sys

    def limit():  # ulimit -f 8
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    out = tmp_path / "t.csv"
    args = [sys.executable, "-m", "bench.cli", *TRAIN[:2], "200", *TRAIN[3:], "--out", str(out)]
    result = subprocess.run(args, capture_output=True, text=True, preexec_fn=limit, timeout=120,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert one_line_error(result.returncode, result.stderr), result.stderr
    assert ("cannot write (File too large: the file size limit, ulimit -f, is 8192 bytes); "
            "the rows before are complete") in result.stderr
    assert out.read_text().endswith("\n") and 0 < out.stat().st_size <= 8192


def test_a_file_size_limit_below_a_sweeps_first_writes_is_refused_before_any_file(
        tmp_path, monkeypatch, fake_children):
    monkeypatch.setattr(output, "size_limit", lambda: 2048)
    code, _, err = gradbench(*SWEEP, "--out", tmp_path / "r.csv")
    assert one_line_error(code, err), err
    assert "the file size limit, ulimit -f, is 2048 bytes" in err
    assert list(tmp_path.iterdir()) == []


def test_a_dangling_link_at_the_pyperf_folder_is_named_before_any_file(tmp_path, fake_children):
    (tmp_path / "r.csv.pyperf").symlink_to("missing")
    code, _, err = gradbench(*SWEEP, "--out", tmp_path / "r.csv")
    assert one_line_error(code, err), err
    assert "r.csv.pyperf: is not a folder (it is a symlink to a missing file" in err
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv.pyperf"]


def test_a_link_to_a_folder_takes_the_pyperf_json(tmp_path, fake_children):
    (tmp_path / "json").mkdir()
    (tmp_path / "r.csv.pyperf").symlink_to("json")
    code, _, err = gradbench(*SWEEP, "--out", tmp_path / "r.csv")
    assert code == 0, err
    assert len(list((tmp_path / "json").glob("*.json"))) == 1
