"""The command line under hostile input (hypothesis): every command, arguments from the options'
own grammars and from hostile values (empty, huge, negative, non-numeric, unicode, every kind of
path).

Whatever the arguments: exit status 0, 1 or 2; no traceback and no warning; a failure is one line;
a refusal (2) changes no file that existed before; no temporary file is left; and nothing
outside the test's folder is touched. The sweep's child process and figures are stand-ins (the
property is the command line's; the sweep's and plot's own tests run the real ones).

The families of issue 19 too: whole results and fits files damaged (a BOM, CRLF, two files in
one, a cut, a quoted newline, a NUL, a big seed; --resume keeps every row the reader takes), and
--scheduler at any address or at a loopback server that is not a Dask scheduler (one line, exit 2).

Resource limits (ulimit -v, -n, -f) set in the command's own process, and SIGINT, SIGTERM or
SIGHUP at a drawn moment of a --workers sweep (to it or its group): one line, the documented
exit, no process left, every row whole, and --resume finishes without duplicates.

The default suite runs a fixed seed and few examples. A longer run, with fresh random examples:

    GRADBENCH_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/robust/test_robust_cli.py

The limits and signals families take seconds an example (real processes, a real cluster); run
them alone with fewer:

    GRADBENCH_FUZZ_EXAMPLES=150 .venv/bin/python -m pytest tests/robust/test_robust_cli.py \
        -k "resource_limits or workers_sweep"
"""

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from unittest import mock

import matplotlib.figure
import pytest
import test_robust_signals as on_signals
from helpers import (
    FAKE_AGREES,
    ROOT,
    device_node,
    fill,
    gradbench,
    lines_of,
    processes_mentioning,
    snapshot,
    study_rows,
    tmpfs,
    write_results,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_robust_limits import ENV as LIMITED_ENV
from test_robust_limits import limited, one_line

import bench.sweep.launcher as launcher
from bench.plot import figures as plot
from bench.sweep import cluster

EXAMPLES = int(os.environ.get("GRADBENCH_FUZZ_EXAMPLES", "0"))
REPO = Path(__file__).resolve().parents[2]


def fuzz(default):
    """A fixed seed and `default` examples, or GRADBENCH_FUZZ_EXAMPLES fresh ones."""
    return settings(max_examples=EXAMPLES or default, derandomize=not EXAMPLES, deadline=None,
                    database=None, suppress_health_check=list(HealthCheck))


# --- the test's folder: every kind of path ----------------------------------------------------


@pytest.fixture(scope="module")
def mounts():
    """A read-only file system holding a results file, and a full one (root only; else none)."""
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
    """A fresh folder to run in: work/ (the cwd, where all paths point) and outside/ (a canary)."""
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
    for name, to in (("link-foreign", "foreign.txt"), ("link-results", "results.csv"),
                     ("link-dir", "dir"), ("dangling", "missing.csv"),
                     *((k, str(v)) for k, v in mounts.items())):
        (work / name).symlink_to(to)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        yield root
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)


FILES = ["new.csv", "sub/new.csv", "results.csv", "foreign.txt", "data.csv", "link-foreign",
         "link-results", "dangling", "dir", "dir/", "link-dir", "fifo", "null", "file/x.csv",
         "file/", "", ".", "/", "x" * 300, "a\nb.csv", "a\x00b.csv", "ünïcödé.csv", "\udcff.csv",
         "new.png", "new.svg", "new.xyz", "results.fits.csv", "ro/x.csv", "ro/results.csv",
         "full/x.csv", "full/sub/x.csv", "missing.csv"]
FOLDERS = ["plots", "dir", "link-dir", "file", "fifo", "null", "dangling", "", "x" * 300, "a\nb",
           "ro", "full", "new dir/sub"]  # not "/" or "..": a valid plot would rightly draw there
HOSTILE = ["", " ", "0", "-1", "-0", "+1", "x", "2.5", "1e3", "nan", "inf", "-inf", "1e308",
           "1e-320", "99999999999999999999", "٣", "１", "0x10", "1_000", "\n", "1\n2", "\udcff",
           "\x00"]


def mostly(common, rare):
    """`common` nine times in ten, else `rare`: most runs pass the first check and meet the next."""
    return st.integers(0, 9).flatmap(lambda i: rare if i == 0 else common)


hostile = st.sampled_from(HOSTILE)
paths = mostly(st.sampled_from(FILES),
               st.text(min_size=1, max_size=12).map(lambda s: s.replace("/", "_")))
results = mostly(st.sampled_from(["results.csv", "link-results", "ro/results.csv"]), paths)
folders = st.sampled_from(FOLDERS)
value = lambda *valid: mostly(st.sampled_from(valid), hostile)  # noqa: E731
BAD_RANGES = [":", "1:", ":5", "5:1", "1:8:x1", "1:8:0", "1:3:-1", "1,,2", "1::",
              "1:9999999999:x1.0000001", "1:100000", "10000000", "1000000000", "1000000000000000"]
ranges = mostly(st.sampled_from(["1", "2", "1,2", "1:3", "1:4:x2", "3,1"]),
                st.one_of(hostile, st.sampled_from(BAD_RANGES)))


def options(table):
    """Some of a command's options, each with a value from its strategy, in any order."""
    names = st.dictionaries(st.sampled_from(sorted(table)), st.just(None), max_size=len(table))
    return names.flatmap(
        lambda chosen: st.tuples(*[table[name] for name in chosen]).map(lambda values: [
            arg for name, value in zip(chosen, values) for arg in (name, value)]))


def flags(names):
    return st.lists(st.sampled_from(names), max_size=2)


SWEEP = {"--depth": ranges, "--width": ranges, "--batch": ranges, "--input-dim": ranges,
         "--methods": value("naive", "backprop", "forward", "naive,backprop,forward", "numerical",
                            ",", "naive,naive", "foo"),
         "--activation": value("relu", "identity", "tanh"), "--seed": value("0", "7"),
         "--profile": value("quick", "default", "slow"), "--max-seconds": value("60", "0.001"),
         "--blas-threads": value("1")}
# sizes: small valid ones, and hostile ones that are invalid or too large to fit (never merely slow)
size = mostly(st.sampled_from(["1", "2", "3"]),
              st.one_of(st.sampled_from(["10000000", "10000000000000"]),
                        hostile.filter(lambda v: v not in ("1e308", "9" * 20))))
TRAIN = {"--method": value("backprop", "naive", "numerical"),
         "--optimizer": value("sgd", "adam", "adagrad"), "--lr": value("0.01", "1e6"),
         "--epochs": st.sampled_from(["0", "1", "2", "-1", "x", "2.5", ""]),
         "--batch-size": value("1", "4", "99999999999999999999"), "--depth": size, "--width": size,
         "--input-dim": size, "--activation": value("relu", "identity"), "--seed": value("0", "3"),
         "--samples": mostly(st.sampled_from(["2", "16"]),
                             st.one_of(st.just("10000000000000"), hostile)),
         "--noise": value("0", "0.5", "1e308"), "--test-fraction": value("0", "0.25", "0.99", "1"),
         "--data": mostly(st.sampled_from(["data.csv"]), paths), "--target": value("y", "a", "zz"),
         "--out": paths, "--plot": paths}
RULES = value("upper:8", "top:3", "all", "offset", "ratio:2", "upper:0", "top:x", "upper:nan",
              "upper:1e308", "top:99999999999999999999", "bogus:1")


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
            code, out, err = gradbench(*argv)
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
    # whatever happened: folders, FIFOs, devices and links keep their kind
    for path, kind in before.items():
        if kind[0] != "file":
            assert after.get(path) == kind, (path, err)
    temporary = [p for p in after if Path(p).name.startswith(".gradbench-")]
    assert not temporary, "a temporary file was left"
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
        # small runs unless a drawn option says otherwise (the last of an option given twice counts)
        check_contract(root, ["train", "--epochs", "1", "--samples", "16", *args, *extra])


@fuzz(25)
@given(results=st.lists(results, min_size=1, max_size=2),
       rules=options({"--time-rule": RULES, "--ops-rule": RULES}))
def test_fit_keeps_the_contract(mounts, results, rules):
    with playground(mounts) as root:
        check_contract(root, ["fit", *results, *rules])


@fuzz(12)
@given(results=st.lists(results, min_size=1, max_size=2), out_dir=folders)
def test_plot_keeps_the_contract(mounts, results, out_dir):
    with playground(mounts) as root:
        check_contract(root, ["plot", *results, "--out-dir", out_dir])


@fuzz(12)
@given(results=st.lists(results, min_size=1, max_size=2), out=st.one_of(st.none(), paths),
       plots_dir=folders)
def test_report_keeps_the_contract(mounts, results, out, plots_dir):
    with playground(mounts) as root:
        check_contract(root, ["report", *results, *(["--out", out] if out is not None else []),
                              "--plots-dir", plots_dir])


# --- the files the commands read: any cell of a results file damaged ---------------------------

CELLS = ["", "x", "nan", "inf", "-inf", "0", "-1", "1e-320", "1e308", "1e19", "2.5", "True", "ok",
         "skipped", "\"", ",", "naive", "relu", "99999999999999999999"]


@fuzz(30)
@given(line=st.integers(1, len(study_rows())), column=st.integers(0, 36),
       cell=st.sampled_from(CELLS), command=st.sampled_from(["fit", "plot", "report"]))
def test_a_damaged_results_cell_keeps_the_contract(mounts, line, column, cell, command):
    with playground(mounts) as root:
        lines = (root / "work" / "results.csv").read_text().splitlines(keepends=True)
        fields = lines[line].rstrip("\n").split(",")
        fields[min(column, len(fields) - 1)] = cell
        lines[line] = ",".join(fields) + "\n"
        (root / "work" / "results.csv").write_text("".join(lines))
        check_contract(root, [command, "results.csv"])


# --- whole results and fits files damaged: every command that reads them ----------------------


def _cut(data, at):
    return data[:max(1, at % len(data))]


def _quoted_newline(data, at):
    lines = data.split(b"\n")
    if len(lines) < 3:  # no row to quote in
        return data
    i = 1 + at % (len(lines) - 2)
    lines[i] = lines[i].replace(b",relu,", b',"re\nlu",', 1)
    return b"\n".join(lines)


def _big_seed(data, at):
    return data.replace(b",ok,,0,", b",ok,,9007199254740993,", 1 + at % 3)


# each turns a whole file (bytes) into a hostile one; `at` picks a place where one is needed
DAMAGE = {
    "bom": lambda d, at: b"\xef\xbb\xbf" + d, "crlf": lambda d, at: d.replace(b"\n", b"\r\n"),
    "twice": lambda d, at: d + d, "no last newline": lambda d, at: d[:-1], "cut": _cut,
    "a duplicated line": lambda d, at: d + d.split(b"\n")[at % len(d.split(b"\n"))] + b"\n",
    "a NUL": lambda d, at: d[:at % len(d)] + b"\x00" + d[at % len(d):],
    "latin-1": lambda d, at: d[:at % len(d)] + b"\xff" + d[at % len(d):],
    "a quoted newline": _quoted_newline, "a big seed": _big_seed, "empty": lambda d, at: b"",
    "header only": lambda d, at: d.split(b"\n")[0] + b"\n",
    "a blank line": lambda d, at: d.replace(b"\n", b"\n\n", 1 + at % 2),
    "a short header": lambda d, at: d.replace(b"schema_version,", b"", 1),
}
damage = st.lists(st.tuples(st.sampled_from(sorted(DAMAGE)), st.integers(0, 10**6)), min_size=1,
                  max_size=2)


def damaged(data, steps):
    for name, at in steps:
        data = DAMAGE[name](data, at) if data else data
    event(f"damage: {' + '.join(name for name, _ in steps)}")
    return data


def ok_points(path):
    """The ok rows' point keys that fit's reader takes from `path` (None: it refuses the file)."""
    from bench.errors import UserError
    from bench.results import read_results
    from bench.schema import POINT_KEY

    try:
        df = read_results(path, allow_empty=True)
    except UserError:
        return None
    ok = df[df["status"] == "ok"]
    return set(map(tuple, ok[POINT_KEY].astype(str).values))


RESUME = ["sweep", "--resume", "--out", "results.csv", "--depth", "1:4", "--width", "3",
          "--methods", "naive,backprop", "--profile", "quick"]


@fuzz(30)
@given(steps=damage, command=st.sampled_from(["fit", "plot", "report", "resume"]))
def test_a_damaged_results_file_keeps_the_contract(mounts, steps, command):
    with playground(mounts) as root:
        results = root / "work" / "results.csv"
        results.write_bytes(damaged(results.read_bytes(), steps))
        before = ok_points(results)
        check_contract(root, RESUME if command == "resume" else [command, "results.csv"])
        if command == "resume" and before is not None and ok_points(results) is not None:
            assert before <= ok_points(results), "--resume lost a row the reader takes"


@pytest.fixture(scope="module")
def fits_bytes():
    """The fits file of the playground's results.csv, as `fit` writes it."""
    with tempfile.TemporaryDirectory() as folder:
        results = write_results(Path(folder) / "results.csv", study_rows())
        code, _, err = gradbench("fit", results)
        assert code == 0, err
        return (Path(folder) / "results.fits.csv").read_bytes()


FITS_CELLS = [*CELLS, "-1e308", "1e-308", "t", "f", "upper:8", "top:x", "results.csv", "0" * 64]


@fuzz(25)
@given(line=st.integers(0, 40), column=st.integers(0, 30), cell=st.sampled_from(FITS_CELLS),
       steps=st.one_of(st.just([]), damage), command=st.sampled_from(["plot", "report"]))
def test_a_damaged_fits_file_keeps_the_contract(mounts, fits_bytes, line, column, cell, steps,
                                                command):
    with playground(mounts) as root:
        lines = fits_bytes.decode().splitlines(keepends=True)
        fields = lines[line % len(lines)].rstrip("\n").split(",")
        fields[column % len(fields)] = cell
        lines[line % len(lines)] = ",".join(fields) + "\n"
        fits = root / "work" / "results.fits.csv"
        text = "".join(lines).encode()
        fits.write_bytes(damaged(text, steps) if steps else text)
        check_contract(root, [command, "results.csv"])


# --- scheduler addresses and servers on loopback that are not Dask schedulers -------------------

SCHEMES = ["tcp://", "tls://", "", "ws://", "ucx://", "inproc://", "http://", "tcp:/", "TCP://",
           "tcp://tcp://"]
HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1", "", "0.0.0.0", "256.0.0.1", "127.1", "x" * 300,
         " ", "ünï", "a b", "-1", "\n"]
PORTS = ["{closed}", "{silent}", "0", "65535", "65536", "99999", "", "x", "-1", "1e3", "00080"]
SUFFIXES = ["", "/", "/x", ":1", "?", " "]
address = mostly(st.builds(lambda *parts: "".join(parts), st.sampled_from(SCHEMES),
                           st.sampled_from(HOSTS), st.sampled_from([":", ""]),
                           st.sampled_from(PORTS), st.sampled_from(SUFFIXES)),
                 st.text(max_size=30))


class Server:
    """A loopback TCP server that is not a Dask scheduler: each connection gets `reply` (None:
    nothing, held open) and is then closed or, where `hold`, held open."""

    def __init__(self):
        self.reply, self.hold, self.socket = None, True, socket.create_server(("127.0.0.1", 0))
        self.port, self.open = self.socket.getsockname()[1], []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.socket.accept()
                threading.Thread(target=self._answer, args=(conn, self.reply, self.hold),
                                 daemon=True).start()

    def _answer(self, conn, reply, hold):
        with contextlib.suppress(OSError):
            if reply is not None:
                conn.sendall(reply)
            if hold:
                self.open.append(conn)
                return
            conn.close()

    def close(self):
        self.socket.close()
        for conn in self.open:
            conn.close()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def quick_connect(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.2)
    monkeypatch.setattr(cluster, "CONNECT_GRACE_S", 0.2)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_scheduler_refused(root, scheduler):
    """A --scheduler that is no Dask scheduler: one line, exit 2, no file."""
    code, out, err = gradbench("sweep", "--depth", "1", "--width", "2", "--out", "new.csv",
                         "--scheduler", scheduler)
    event(f"exit {code}: {err.strip().splitlines()[-1][:50] if err.strip() else ''}")
    assert code == 2 and out == "", (code, err)
    assert err.count("\n") == 1 and err.startswith("gradbench: error: "), err
    assert not (root / "work" / "new.csv").exists()


@fuzz(20)
@given(scheduler=address)
def test_a_scheduler_address_is_refused_in_one_line(mounts, server, quick_connect, scheduler):
    server.reply, server.hold = None, True
    with playground(mounts) as root:
        check_scheduler_refused(root, scheduler.replace("{closed}", str(closed_port())).replace(
            "{silent}", str(server.port)))


replies = st.one_of(st.none(), st.binary(max_size=64), st.sampled_from([
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", b"\xff" * 8 + b"\x00" * 8,
    b"\x01\x00\x00\x00\x00\x00\x00\x00" + b"\xff" * 8, b"SSH-2.0-OpenSSH_9.6\r\n"]))


@fuzz(8)
@given(reply=replies, hold=st.booleans())
def test_a_tcp_server_that_is_not_a_scheduler_is_refused_in_one_line(mounts, server, quick_connect,
                                                                     reply, hold):
    server.reply, server.hold = reply, hold
    with playground(mounts) as root:
        check_scheduler_refused(root, f"tcp://127.0.0.1:{server.port}")


# --- resource limits and signals: the command line in a process of its own -------------------

MIB = 2**20
# address space at each stage that needs some (numpy's start, a thread, scipy and pandas, points);
# not 260-340 MiB, where scipy's start hangs: refused all the same, after bench.limits.PROBE_S
LIMIT_VALUES = {"as": [24 * MIB, 64 * MIB, 100 * MIB, 140 * MIB, 160 * MIB, 200 * MIB, 400 * MIB,
                       500 * MIB, 800 * MIB, 2048 * MIB],
                "nofile": [8, 16, 24, 32, 40, 48, 64, 128],
                "fsize": [0, 512, 4096, 8192, 65536, 2**20]}
SMALL_SWEEP = on_signals.CLUSTER_SWEEP  # three quick points
LIMITED = [[*SMALL_SWEEP, "--out", "r.csv"], [*SMALL_SWEEP, "--out", "r.csv", "--workers", "1"],
           [*SMALL_SWEEP, "--out", "results.csv", "--resume"], ["fit", "results.csv"],
           ["report", "results.csv", "--out", "r.md", "--plots-dir", "p"]]


@fuzz(4)
@given(limits=st.dictionaries(st.sampled_from(sorted(LIMIT_VALUES)), st.integers(0, 99),
                              min_size=1), args=st.sampled_from(LIMITED))
def test_under_resource_limits_a_command_works_or_says_so_in_one_line(limits, args):
    limits = {name: LIMIT_VALUES[name][i % len(LIMIT_VALUES[name])] for name, i in limits.items()}
    event(f"{args[0]} {' '.join(sorted(limits))}")
    with tempfile.TemporaryDirectory(prefix="gradbench-limits-") as folder:
        folder = Path(folder)
        before = write_results(folder / "results.csv", study_rows(depths=(1, 2, 4))).read_text()
        tag = f"GRADBENCH_TEST_LIMITS={uuid.uuid4().hex}"
        code, err = limited(folder, args, env={**LIMITED_ENV, **dict([tag.split("=")])}, **limits)
        event(f"exit {code}: {err.strip().splitlines()[-1][:50] if err.strip() else ''}")
        assert one_line(code, err), (limits, err)
        assert not processes_mentioning(tag + "\0"), "a process was left behind"
        for name in ("r.csv", "results.csv"):
            if (folder / name).exists() and (folder / name).stat().st_size:
                lines_of(folder / name)  # every row whole
        if args[0] != "sweep":
            assert (folder / "results.csv").read_text() == before
        assert not list(folder.rglob(".gradbench-*"))


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
@fuzz(3)
@given(sig=st.sampled_from([signal.SIGINT, signal.SIGTERM, signal.SIGHUP]), group=st.booleans(),
       workers=st.integers(1, 2), delay=st.floats(0, 6))
def test_a_signal_at_any_moment_of_a_workers_sweep_keeps_every_row_whole(sig, group, workers,
                                                                         delay):
    if workers > (os.cpu_count() or 1):
        workers = 1
    with tempfile.TemporaryDirectory(prefix="gradbench-signal-") as folder:
        out = Path(folder) / "r.csv"
        with mock.patch.object(launcher, "Child", FAKE_AGREES):  # the first point's row is there
            assert gradbench(*SMALL_SWEEP[:2], "1", *SMALL_SWEEP[3:], "--out", out).code == 0
        before = out.read_text()
        proc, tag = on_signals.started_sweep(out, *SMALL_SWEEP, "--resume", "--workers", workers,
                                             "--out", out)
        while proc.poll() is None and not on_signals.numpy_loaded(proc.pid):  # its own code runs
            time.sleep(0.001)
        time.sleep(delay)  # its imports, the cluster's start, the series, the cluster's close
        on_signals.send(proc, sig, group)
        stderr = on_signals.ended_alone(proc, tag)
        event(f"{signal.Signals(sig).name}: exit {proc.returncode}")
        if proc.returncode != 0:  # 0: it had finished
            # or killed by SIGINT itself, where a C extension's import took the Ctrl-C (documented)
            killed = -signal.SIGINT if sig == signal.SIGINT else 0
            assert proc.returncode in (128 + sig, killed), stderr
            assert stderr.strip() == on_signals.LINES[sig], stderr
        on_signals.resumed_whole(out, before, planned=3)
