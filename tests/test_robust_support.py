"""Helpers of the robustness tests (test_robust_*.py): the CLI in this process, results files, real file systems.

Faults come from real file systems where the test can make them: a small tmpfs (ENOSPC) and a
read-only one (EROFS) need root (CI runs as root); FIFOs and device nodes are made in the test's
own folder. Tests that cannot make them are skipped with the reason.
"""

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import result_row, run_cli

from bench.schema import NAMES
from bench.sweep.results_file import HEADER, format_row

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mount and mknod need root (CI runs as root)")


cli = run_cli  # the tests' one CLI runner: (exit status, stdout, stderr)


def one_line_error(code, err):
    """The CLI's failure contract: exit 2, one line of error last on stderr (after any progress), no traceback."""
    lines = err.splitlines()
    return (code == 2 and err.endswith("\n") and lines[-1].startswith("gradbench: error: ")
            and sum("error" in line for line in lines) == 1 and "Traceback" not in err)


def row(method="backprop", depth=1, width=2, batch=1, status="ok", seconds=1e-6, **more):
    """A complete results row of a tiny point (the tests' one row factory), its time and fastest `seconds`."""
    times = {}
    if status == "ok":
        times = dict(time_s=seconds, time_lo_s=seconds, time_hi_s=seconds * 1.1, time_min_s=seconds,
                     time_median_s=seconds * 1.1, time_mean_s=seconds * 1.1,
                     time_max_s=seconds * 1.3, time_stdev_s=0.0, n_values=3)
    return result_row(method, depth, width, batch=batch, status=status, **{**times, **more})


def study_rows(depths=(1, 2, 4, 8), methods=("naive", "backprop", "forward")):
    """A depth sweep whose times follow the op counts: fit, plot and report all have work to do."""
    return [dict(r) for r in _study_rows(tuple(depths), tuple(methods))]  # copies: callers may change them


@functools.cache
def _study_rows(depths, methods):
    rows = []
    for depth in depths:
        for m in methods:
            r = row(m, depth, width=3)
            rows.append(row(m, depth, width=3, seconds=1e-6 + 1e-9 * r["ops"]))
    return rows


def results_text(rows):
    return HEADER + "".join(format_row(r) for r in rows)


def write_results(path, rows):
    Path(path).write_text(results_text(rows))
    return Path(path)


def lines_of(path):
    """The data lines of a results file, each checked to hold every column."""
    import csv

    text = Path(path).read_text()
    assert text.startswith(HEADER) and text.endswith("\n")
    rows = list(csv.reader(text.splitlines()[1:]))
    assert all(len(r) == len(NAMES) for r in rows)
    return rows


@contextlib.contextmanager
def tmpfs(size="64k", read_only=False, files=None):
    """A fresh tmpfs of `size` (root only), holding `files` {name: bytes}, remounted read-only on request."""
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

    content=False: a file's size and modification time in nanoseconds instead of its bytes, which any write
    changes (for large folders that only must stay untouched)."""
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
                seen[str(path)] = ("file", path.read_bytes() if content else (st.st_size, st.st_mtime_ns))
            elif path.is_dir():
                seen[str(path)] = ("dir", None)
            else:
                seen[str(path)] = ("special", st.st_mode, st.st_rdev)
    return seen
