"""The command line under hostile input (hypothesis): every command, arguments from the options' own grammars
and from hostile values (empty, huge, negative, non-numeric, unicode, every kind of path).

Whatever the arguments: exit status 0, 1 or 2; no traceback and no warning; a failure is one line;
a refusal (2) changes no file that existed before; no temporary file is left; and nothing
outside the test's folder is touched. The sweep's child process and figures are stand-ins (the property is
the command line's; the sweep's and plot's own tests run the real ones).

The default suite runs a fixed seed and few examples. A longer run, with fresh random examples:

    GRADBENCH_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_robust_cli.py
"""

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path
from unittest import mock

import matplotlib.figure
import pytest
from helpers import FAKE_AGREES
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_robust_support import ROOT, cli, device_node, fill, snapshot, study_rows, tmpfs, write_results

import bench.sweep.launcher as launcher
from bench.plot import figures as plot

EXAMPLES = int(os.environ.get("GRADBENCH_FUZZ_EXAMPLES", "0"))
REPO = Path(__file__).resolve().parents[1]


def fuzz(default):
    """A fixed seed and `default` examples, or GRADBENCH_FUZZ_EXAMPLES fresh ones."""
    return settings(max_examples=EXAMPLES or default, derandomize=not EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


# --- the test's folder: every kind of path ----------------------------------------------------


@pytest.fixture(scope="module")
def mounts():
    """A read-only file system holding a results file, and a full one (root only; otherwise none)."""
    with contextlib.ExitStack() as stack:
        found = {}
        if ROOT:
            with contextlib.suppress(pytest.skip.Exception):
                rows = Path(tempfile.mkdtemp()) / "r.csv"
                found["ro"] = stack.enter_context(tmpfs(read_only=True, files={
                    "results.csv": write_results(rows, study_rows()).read_bytes()}))
                shutil.rmtree(rows.parent)
                found["full"] = stack.enter_context(tmpfs(size="64k"))
                fill(found["full"])
        yield found


@contextlib.contextmanager
def playground(mounts):
    """A fresh folder to run in: work/ (the cwd, where every path points) and outside/ (a canary)."""
    root = Path(tempfile.mkdtemp(prefix="gradbench-fuzz-"))
    work, outside = root / "work", root / "outside"
    outside.mkdir()
    (outside / "canary.csv").write_text("must not change\n")
    work.mkdir()
    write_results(work / "results.csv", study_rows())
    (work / "foreign.txt").write_text("not gradbench's\n")
    (work / "data.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{2 * i}\n" for i in range(12)))
    (work / "dir").mkdir()
    (work / "file").write_text("a file, not a folder\n")
    os.mkfifo(work / "fifo")
    if ROOT:
        device_node(work / "null")
    for name, to in (("link-foreign", "foreign.txt"), ("link-results", "results.csv"), ("link-dir", "dir"),
                     ("dangling", "missing.csv"), *((k, str(v)) for k, v in mounts.items())):
        (work / name).symlink_to(to)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        yield root
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)


FILES = ["new.csv", "sub/new.csv", "results.csv", "foreign.txt", "data.csv", "link-foreign", "link-results",
         "dangling", "dir", "dir/", "link-dir", "fifo", "null", "file/x.csv", "file/", "", ".", "/", "x" * 300,
         "a\nb.csv", "a\x00b.csv", "ünïcödé.csv", "\udcff.csv", "new.png", "new.svg", "new.xyz", "results.fits.csv",
         "ro/x.csv", "ro/results.csv", "full/x.csv", "full/sub/x.csv", "missing.csv"]
FOLDERS = ["plots", "dir", "link-dir", "file", "fifo", "null", "dangling", "", "x" * 300, "a\nb", "ro", "full",
           "new dir/sub"]  # not "/" or "..": a valid plot would rightly draw there
HOSTILE = ["", " ", "0", "-1", "-0", "+1", "x", "2.5", "1e3", "nan", "inf", "-inf", "1e308", "1e-320",
           "99999999999999999999", "٣", "１", "0x10", "1_000", "\n", "1\n2", "\udcff", "\x00"]


def mostly(common, rare):
    """Nine times in ten `common`, else `rare`: most runs get past the first check and meet the next."""
    return st.integers(0, 9).flatmap(lambda i: rare if i == 0 else common)


hostile = st.sampled_from(HOSTILE)
paths = mostly(st.sampled_from(FILES), st.text(min_size=1, max_size=12).map(lambda s: s.replace("/", "_")))
results = mostly(st.sampled_from(["results.csv", "link-results", "ro/results.csv"]), paths)
folders = st.sampled_from(FOLDERS)
value = lambda *valid: mostly(st.sampled_from(valid), hostile)  # noqa: E731
ranges = mostly(st.sampled_from(["1", "2", "1,2", "1:3", "1:4:x2", "3,1"]), st.one_of(hostile, st.sampled_from([
    ":", "1:", ":5", "5:1", "1:8:x1", "1:8:0", "1:3:-1", "1,,2", "1::", "1:9999999999:x1.0000001", "1:100000",
    "10000000", "1000000000", "1000000000000000"])))


def options(table):
    """Some of a command's options, each with a value from its strategy, in any order."""
    return st.dictionaries(st.sampled_from(sorted(table)), st.just(None), max_size=len(table)).flatmap(
        lambda chosen: st.tuples(*[table[name] for name in chosen]).map(lambda values: [
            arg for name, value in zip(chosen, values) for arg in (name, value)]))


def flags(names):
    return st.lists(st.sampled_from(names), max_size=2)


SWEEP = {"--depth": ranges, "--width": ranges, "--batch": ranges, "--input-dim": ranges,
         "--methods": value("naive", "backprop", "forward", "naive,backprop,forward", "numerical", ",",
                            "naive,naive", "foo"),
         "--activation": value("relu", "identity", "tanh"), "--seed": value("0", "7"),
         "--profile": value("quick", "default", "slow"), "--max-seconds": value("60", "0.001"),
         "--blas-threads": value("1")}
# sizes: small valid ones, and hostile ones that are invalid or too large to fit (never merely slow)
size = mostly(st.sampled_from(["1", "2", "3"]), st.one_of(st.sampled_from(["10000000", "10000000000000"]),
                                                         hostile.filter(lambda v: v not in ("1e308", "9" * 20))))
TRAIN = {"--method": value("backprop", "naive", "numerical"), "--optimizer": value("sgd", "adam", "adagrad"),
         "--lr": value("0.01", "1e6"), "--epochs": st.sampled_from(["0", "1", "2", "-1", "x", "2.5", ""]),
         "--batch-size": value("1", "4", "99999999999999999999"), "--depth": size, "--width": size,
         "--input-dim": size, "--activation": value("relu", "identity"), "--seed": value("0", "3"),
         "--samples": mostly(st.sampled_from(["2", "16"]), st.one_of(st.just("10000000000000"), hostile)),
         "--noise": value("0", "0.5", "1e308"), "--test-fraction": value("0", "0.25", "0.99", "1"),
         "--data": mostly(st.sampled_from(["data.csv"]), paths), "--target": value("y", "a", "zz"),
         "--out": paths, "--plot": paths}
RULES = value("upper:8", "top:3", "all", "offset", "ratio:2", "upper:0", "top:x", "upper:nan", "upper:1e308",
              "top:99999999999999999999", "bogus:1")


# --- the contract ------------------------------------------------------------------------------


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung("the command hung (a FIFO opened, or a loop that never ends)")


def fake_figure(*args, **kwargs):
    """An empty figure: drawing the panels is plot's own tests' (and takes a second per call)."""
    from matplotlib.figure import Figure

    return Figure()


def fake_savefig(figure, fname, **kwargs):
    """Figures are written, not rendered."""
    Path(fname).write_bytes(b"figure\n")


def check_contract(root, argv):
    """Run argv in the playground and check every promise of the command line."""
    watched = [root / "outside", REPO / "results", REPO / "plots"]
    before = snapshot(root / "work")
    outside = snapshot(*watched, content=False)  # the repository's results and plots: megabytes
    top = sorted(os.listdir("/"))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        with mock.patch.object(launcher, "Child", FAKE_AGREES), \
                mock.patch.object(plot, "figure", fake_figure), \
                mock.patch.object(matplotlib.figure.Figure, "savefig", fake_savefig):
            code, out, err = cli(*argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    event(f"exit {code}: {err.strip().splitlines()[-1][:60] if err.strip() else ''}")
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "Warning" not in err, err
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) <= 1, err
    after = snapshot(root / "work")
    if code == 2:
        assert err.endswith("\n") and err.splitlines()[-1].startswith("gradbench: error: "), err
        changed = [p for p in before if after.get(p) != before[p]]
        assert not changed, (err, changed)  # a refusal changes nothing that was there
    for path, kind in before.items():  # whatever happened: folders, FIFOs, devices and links keep their kind
        if kind[0] != "file":
            assert after.get(path) == kind, (path, err)
    assert not [p for p in after if Path(p).name.startswith(".gradbench-")], "a temporary file was left"
    assert snapshot(*watched, content=False) == outside and sorted(os.listdir("/")) == top


@fuzz(40)
@given(args=options(SWEEP), out=mostly(paths, st.none()), extra=flags(["--resume", "--force"]))
def test_sweep_keeps_the_contract(mounts, args, out, extra):
    with playground(mounts) as root:
        check_contract(root, ["sweep", *args, *extra, *(["--out", out] if out is not None else [])])


@fuzz(40)
@given(args=options(TRAIN), extra=flags(["--force", "--no-progress"]))
def test_train_keeps_the_contract(mounts, args, extra):
    with playground(mounts) as root:
        # small runs unless an option drawn says otherwise (the last of an option given twice counts)
        check_contract(root, ["train", "--epochs", "1", "--samples", "16", *args, *extra])


@fuzz(25)
@given(results=st.lists(results, min_size=1, max_size=2), rules=options({"--time-rule": RULES, "--ops-rule": RULES}))
def test_fit_keeps_the_contract(mounts, results, rules):
    with playground(mounts) as root:
        check_contract(root, ["fit", *results, *rules])


@fuzz(12)
@given(results=st.lists(results, min_size=1, max_size=2), out_dir=folders)
def test_plot_keeps_the_contract(mounts, results, out_dir):
    with playground(mounts) as root:
        check_contract(root, ["plot", *results, "--out-dir", out_dir])


@fuzz(12)
@given(results=st.lists(results, min_size=1, max_size=2), out=st.one_of(st.none(), paths), plots_dir=folders)
def test_report_keeps_the_contract(mounts, results, out, plots_dir):
    with playground(mounts) as root:
        check_contract(root, ["report", *results, *(["--out", out] if out is not None else []),
                              "--plots-dir", plots_dir])


# --- the files the commands read: any cell of a results file damaged ---------------------------

CELLS = ["", "x", "nan", "inf", "-inf", "0", "-1", "1e-320", "1e308", "1e19", "2.5", "True", "ok", "skipped",
         "\"", ",", "naive", "relu", "99999999999999999999"]


@fuzz(30)
@given(line=st.integers(1, len(study_rows())), column=st.integers(0, 36), cell=st.sampled_from(CELLS),
       command=st.sampled_from(["fit", "plot", "report"]))
def test_a_damaged_results_cell_keeps_the_contract(mounts, line, column, cell, command):
    with playground(mounts) as root:
        lines = (root / "work" / "results.csv").read_text().splitlines(keepends=True)
        fields = lines[line].rstrip("\n").split(",")
        fields[min(column, len(fields) - 1)] = cell
        lines[line] = ",".join(fields) + "\n"
        (root / "work" / "results.csv").write_text("".join(lines))
        check_contract(root, [command, "results.csv"])
