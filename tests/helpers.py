"""The tests' one support layer: the one CLI runner (`gradbench`), the one results-row factory
(`result_row`), results files, fake and real child processes, and real file systems.

conftest.py hands the runner and the factory out as fixtures; tests that cannot take fixtures
(hypothesis tests, module-level parameters) import them from here.

Faults come from real file systems where a test can make them: a small tmpfs (ENOSPC) and a
read-only one (EROFS) need root (CI runs as root); FIFOs and device nodes are made in the test's
own folder. Tests that cannot make them are skipped with the reason.
"""

import contextlib
import csv
import functools
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import gradients
from bench import schema
from bench.cli import main
from bench.sweep.results_file import HEADER, format_row

# synthetic time = overhead + seconds-per-op * ops, like a real call: theory exponents hold
# for the op counts, and the constant flattens small sizes as Python overhead does
OVERHEAD, PER_OP = {"naive": 2e-5, "backprop": 1e-5, "checkpoint": 1.2e-5, "forward": 8e-6,
                    "numerical": 2e-5}, 2e-8
METHODS = ("naive", "backprop", "forward")
# synthetic working memory: what each method stores (backprop every layer, forward one, naive also
# a w^3 block)
MEMORY = {"backprop": lambda w, b: 16 * b * sum(w), "forward": lambda w, b: 16 * b * max(w),
          "naive": lambda w, b: 16 * b * sum(w) + 8 * b * max(w) ** 3,
          "numerical": lambda w, b: 16 * b * sum(w),
          "checkpoint": lambda w, b: 16 * b * max(w) * (2 * len(w) ** 0.5 + 1)}


# --- the CLI ----------------------------------------------------------------------------


class Result(NamedTuple):
    code: int
    out: str
    err: str


def gradbench(*args):
    """`gradbench ARGS` as the shell runs it, in this process: Result(code, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            return Result(e.code, out.getvalue(), err.getvalue())
    raise AssertionError("main() returned without exiting")


def one_line_error(code, err):
    """The CLI's failure contract: exit 2, one line of error last on stderr (after any progress),
    no traceback."""
    lines = err.splitlines()
    return (code == 2 and err.endswith("\n") and lines[-1].startswith("gradbench: error: ")
            and sum("error" in line for line in lines) == 1 and "Traceback" not in err)


# --- results rows -----------------------------------------------------------------------


def result_row(method="naive", depth=1, width=2, *, input_dim=None, batch=1, status="ok", seed=0,
               noise=0.0, rng=None, seconds=None, **more):
    """A results row (dict) with every schema column: counts exact, time from the op count; `more`
    overrides.

    An ok row's five timed values (its rounds) are (overhead + per-op cost * ops) times log-normal
    noise; time_s is their fastest, within its interval. `seconds` sets the times instead: three
    values, the fastest `seconds`. A row of another status has no measurements, as the sweep
    writes it.
    """
    d = width if input_dim is None else input_dim
    w = [d] + [width] * depth  # widths n[1..L+1]
    ops = gradients.op_count(method, w, batch=batch)
    row = {name: "" for name in schema.NAMES}
    row.update(schema_version=schema.SCHEMA_VERSION, method=method, depth=depth, width=width,
               input_dim=d, batch=batch, activation="relu", backend="numpy", device="cpu",
               dtype="float64", params=gradients.edges(w) + 1, edges=gradients.edges(w),
               nodes=gradients.nodes(w), ops=ops, status=status, reason="", seed=seed,
               profile="quick", pyperf_json="", python="3.11.2", numpy="2.4.0", blas="openblas",
               blas_threads=1, cpu="Test CPU", timestamp="2025-01-01T00:00:00+00:00")
    if status == "ok":
        rng = np.random.default_rng(seed) if rng is None else rng
        noise = np.exp(rng.normal(0, noise, 5))  # (5,)
        t = (OVERHEAD[method] + PER_OP * ops) * noise  # (5,) values
        memory = MEMORY[method](w, batch)  # the model; measured with the first value's noise
        row.update(time_s=t.min(), time_lo_s=t.min(), time_hi_s=np.median(t),
                   time_median_s=np.median(t), time_mean_s=t.mean(), time_stdev_s=t.std(ddof=1),
                   time_min_s=t.min(), time_max_s=t.max(), n_values=5,
                   max_rel_err=0.0 if gradients.record(method).is_gradient else np.nan, agree=True,
                   peak_mem_bytes=1000 + memory, work_mem_bytes=memory * noise[0],
                   mem_model_bytes=memory)
        if seconds is not None:
            row.update(time_s=seconds, time_lo_s=seconds, time_hi_s=seconds * 1.1,
                       time_min_s=seconds, time_median_s=seconds * 1.1, time_mean_s=seconds * 1.1,
                       time_max_s=seconds * 1.3, time_stdev_s=0.0, n_values=3)
    return {**row, **more}


def results_frame(depths, widths, methods=METHODS, batch=1, seed=0, noise=0.02, input_dim=None,
                  **more):
    """A sweep's results as a DataFrame: one result_row per (depth, width, method).

    The noise is seeded by `seed`; `more` sets columns of every row, e.g. backend="torch",
    device="cuda:0", dtype="float32".
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = [result_row(m, depth, width, input_dim=input_dim, batch=batch, seed=seed, noise=noise,
                       rng=rng, **more)
            for depth in depths for width in widths for m in methods]
    df = pd.DataFrame(rows, columns=schema.NAMES)
    swept = [v for v, values in (("depth", depths), ("width", widths)) if len(values) > 1]
    var = swept[0] if len(swept) == 1 else None
    # a sweep of one variable: each point's local exponent, as the series gives
    if var and "local_k" not in more:
        for column in ("local_k", "local_k_lo", "local_k_hi"):
            df[column] = np.nan
        ok = df[df["status"] == "ok"].sort_values(var)
        for _, s in ok.groupby("method"):
            k = (np.diff(np.log(s["time_s"].to_numpy(float)))
                 / np.diff(np.log(s[var].to_numpy(float))))
            later = s.index[1:]
            df.loc[later, "local_k"] = k
            df.loc[later, "local_k_lo"], df.loc[later, "local_k_hi"] = k - 0.05, k + 0.05
    return df


def write_csv(path, df):
    """Write a results frame as the sweep's CSV; return the path."""
    df.to_csv(path, index=False)
    return path


def study_rows(depths=(1, 2, 4, 8), methods=("naive", "backprop", "forward")):
    """A depth sweep whose times follow the op counts: fit, plot and report all have work to do."""
    # copies: callers may change them
    return [dict(r) for r in _study_rows(tuple(depths), tuple(methods))]


@functools.cache
def _study_rows(depths, methods):
    rows = []
    for depth in depths:
        for m in methods:
            ops = gradients.op_count(m, [3] + [3] * depth)
            rows.append(result_row(m, depth, 3, seconds=1e-6 + 1e-9 * ops))
    return rows


def results_text(rows):
    return HEADER + "".join(format_row(r) for r in rows)


def write_results(path, rows):
    """Write rows as the sweep writes them; return the path."""
    Path(path).write_text(results_text(rows))
    return Path(path)


def lines_of(path):
    """The data lines of a results file, each checked to hold every column."""
    text = Path(path).read_text()
    assert text.startswith(HEADER) and text.endswith("\n")
    rows = list(csv.reader(text.splitlines()[1:]))
    assert all(len(r) == len(schema.NAMES) for r in rows)
    return rows


def rows_of(path):
    """The rows of a results file as {column: text}, each line checked to hold every column."""
    return [dict(zip(schema.NAMES, r)) for r in lines_of(path)]


class FakeChild:
    """`launcher.Child`'s stand-in for an instant series: for each point of its spec a check (a call
    of 1e-5 s, relative error `max_rel_err`, none for forward), then MIN_ROUNDS rounds of every
    point, its blocks `block_s` a call (1% more each round), then done. A later process's spec (its
    `plan`): the plan's points warmed and timed alike, no check.

    monkeypatch.setattr(launcher, "Child", FakeChild) (or FakeChild.of(max_rel_err=0.5)); `specs`
    keeps every spec it was handed.
    """

    max_rel_err, block_s = 0.0, 1e-5
    specs = []

    def __init__(self, spec, env):
        from bench.sweep.budget import MIN_ROUNDS

        self.proc = None
        type(self).specs.append(spec)
        points = range(len(spec["points"]))
        check = {"event": "check", "seconds": 1e-5, "loops": 1, "rounds": MIN_ROUNDS,
                 "peak_mem_bytes": 1, "work_mem_bytes": 1, "max_rel_err": self.max_rel_err,
                 "framework": "numpy 0", "device_name": "Test CPU"}
        self._events = []
        plan = spec.get("plan")
        points = range(len(spec["points"])) if plan is None else [int(i) for i in plan]
        for i, point in enumerate(spec["points"]):
            # the loss alone has no gradient
            gradient = gradients.record(point["method"]).is_gradient
            error = self.max_rel_err if gradient else None
            if plan is None:
                self._events += [{"event": "checking", "i": i},
                                 {**check, "i": i, "max_rel_err": error}]
            elif i in points:
                self._events.append({"event": "checking", "i": i})
        for r in range(MIN_ROUNDS):
            self._events.append({"event": "order", "round": r, "order": list(points)})
            block_s = self.block_s * (1 + 0.01 * r)
            self._events += [{"event": "block", "i": i, "s": block_s} for i in points]
        self._events.append({"event": "done"})

    @classmethod
    def of(cls, **attributes):
        """A FakeChild class with other `attributes` (max_rel_err=..., block_s=...), own `specs`."""
        return type("FakeChild", (cls,), {**attributes, "specs": []})

    def next(self, timeout):
        return self._events.pop(0)

    def kill(self):
        pass


FAKE_AGREES = FakeChild.of(max_rel_err=0.0)
# fields of a results line
STATUS, REASON = schema.NAMES.index("status"), schema.NAMES.index("reason")


def processes_mentioning(text):
    """Pids of the live processes whose command line or environment contains text (Linux /proc; NUL
    separates their entries)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and any(text in (proc / f).read_bytes().decode(errors="replace")
                                           for f in ("cmdline", "environ")):
                pids.append(int(proc.name))
        except OSError:  # gone meanwhile
            pass
    return pids


def signal_a_pyperf_run(out, sig, env=None):
    """Start `gradbench sweep` of 16 backprop points into `out` with the default profile (a series
    of seconds, whose points all finish in its last rounds), send `sig` once its child process
    (bench.sweep.child) is going, and give the kernel 2 s to clean up the killed group.

    Returns (exit status, stderr, what only the environment of that sweep's children holds: the
    sweep's pid as bench.sweep.launcher.PARENT_PID).
    """
    from bench.sweep.launcher import PARENT_PID

    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "sweep", "--depth", "1:16",
                             "--width", "2", "--methods", "backprop", "--profile", "default",
                             "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    timing = f"{PARENT_PID}={proc.pid}\0"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not processes_mentioning(timing):
        time.sleep(0.02)
    assert processes_mentioning(timing), proc.communicate()
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    deadline = time.monotonic() + 2
    while processes_mentioning(timing) and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc.returncode, stderr, timing


def svg_texts(svg):
    """The text of every <text> element of an SVG (figures keep text as text: svg.fonttype none)."""
    import xml.etree.ElementTree as ET

    return ["".join(e.itertext()).strip() for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


# --- real file systems ----------------------------------------------------------------------

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mount and mknod need root (CI runs as root)")


@contextlib.contextmanager
def tmpfs(size="64k", read_only=False, files=None):
    """A fresh tmpfs of `size` (root only), holding `files` {name: bytes}, remounted read-only on
    request."""
    folder = Path(tempfile.mkdtemp(prefix="gradbench-fs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        for name, data in (files or {}).items():
            (folder / name).write_bytes(data)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def fill(folder, leave=0):
    """Fill a file system until at most `leave` bytes are free (a filler file of whole blocks)."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(Path(folder) / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave))
        with contextlib.suppress(OSError):
            f.flush()


def device_node(path):
    """A copy of /dev/null at path (mknod: root only)."""
    os.mknod(path, 0o666 | 0o020000, os.makedev(1, 3))
    return Path(path)


def snapshot(*roots, content=True):
    """{path: (kind, content or link target)} of everything under roots (links not followed).

    content=False: a file's size and modification time in nanoseconds instead of its bytes, which
    any write changes (for large folders that only must stay untouched)."""
    seen = {}
    for root in map(Path, roots):
        paths = [root]
        if root.is_dir() and not root.is_symlink():
            for folder, dirs, files in os.walk(root):
                paths += [Path(folder, name) for name in dirs + files]
        for path in paths:
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                stat = (st.st_size, st.st_mtime_ns)
                seen[str(path)] = ("file", path.read_bytes() if content else stat)
            elif path.is_dir():
                seen[str(path)] = ("dir", None)
            else:
                seen[str(path)] = ("special", st.st_mode, st.st_rdev)
    return seen


# --- optional array libraries, faked: find_spec and a torch with CUDA devices ---

NO_TORCH = "PyTorch is optional (pip install 'gradbench[torch]'); make test does not install it"
REAL_FIND_SPEC = importlib.util.find_spec


def installed(*names):
    """A find_spec that reports the named modules installed (a spec), others as they are."""
    return lambda name, *a: (types.SimpleNamespace(name=name) if name in names
                             else REAL_FIND_SPEC(name, *a))


def missing(*names):
    """A find_spec that reports the named modules absent (None), others as they are."""
    return lambda name, *a: None if name in names else REAL_FIND_SPEC(name, *a)


def fake_torch(count):
    """A stand-in for the torch module with `count` CUDA devices."""
    cuda = types.SimpleNamespace(is_available=lambda: count > 0, device_count=lambda: count,
                                 get_device_name=lambda i: f"Fake GPU {i}")
    return types.SimpleNamespace(cuda=cuda,
                                 version=types.SimpleNamespace(cuda="12.8" if count else None),
                                 __version__="9.9.9")
