"""The parent side of the sweep's child process (bench.sweep.child): its environment, starting it,
reading its events, killing its process group."""

import contextlib
import json
import os
import platform
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from gradients.backends import cpu_name

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# glibc hands arrays of 128 KiB and more back to the kernel when they are freed, so without a pad
# every call pays page faults for its fresh arrays (backprop at width 256, batch 1: 1.1 ms instead
# of 0.35 ms); the pad keeps freed memory for the next call, for every method alike.
MALLOC_ENV = {"MALLOC_TOP_PAD_": str(64 * 2**20)}
# the process that starts the child: it dies with it (bench.sweep.child)
PARENT_PID = "GRADBENCH_PARENT_PID"


class Running:
    """The process groups of the child processes running now, by the sweep they belong to.

    A cluster worker runs a series in a thread that Dask cannot interrupt (bench.sweep.cluster);
    when its sweep stops, `stop(sweep)` kills that sweep's groups and, at once, any it starts later.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._procs = []  # (sweep, Popen)
        self._stopped = set()
        self._thread = threading.local()  # .sweep: the sweep whose shape this thread runs

    @contextlib.contextmanager
    def of(self, sweep):
        """The subprocesses this thread starts inside belong to `sweep`."""
        self._thread.sweep = sweep
        try:
            yield
        finally:
            self._thread.sweep = None

    def add(self, proc):
        sweep = getattr(self._thread, "sweep", None)  # None: this process's own, sequential sweep
        with self._lock:
            # forget the reaped
            self._procs = [(s, p) for s, p in self._procs if p.returncode is None]
            if sweep not in self._stopped:
                self._procs.append((sweep, proc))
                return
        _signal_group(proc)  # started as its sweep stopped

    def stop(self, sweep):
        """Kill the sweep's running groups and refuse its later ones; returns how many it killed."""
        with self._lock:
            self._stopped.add(sweep)
            doomed = [p for s, p in self._procs if s == sweep and p.returncode is None]
        for proc in doomed:
            _signal_group(proc)
        return len(doomed)

    def stopped(self, sweep):
        return sweep in self._stopped


RUNNING = Running()


class ChildDied(Exception):
    """The child process ended before its series did; the message is its stderr's telling line."""


class Child:
    """A running `python -m bench.sweep.child`, its spec on stdin, its events read line by line.

    It runs in its own process group, killed whole on a timeout, a stop or Ctrl-C, and registered
    with RUNNING so that a cluster worker's stop reaches it too.
    """

    def __init__(self, spec, env):
        self._err = tempfile.TemporaryFile()  # noqa: SIM115  closed by kill(); a file, not a pipe: a chatty child cannot block
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.sweep.child"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True, start_new_session=True)
        RUNNING.add(self.proc)
        self._events = queue.Queue()
        try:
            threading.Thread(target=self._read, daemon=True).start()
        except BaseException:  # no thread (a limit, Ctrl-C): the child must not outlive this
            self.kill()
            raise
        try:
            self.proc.stdin.write(json.dumps(spec))
            self.proc.stdin.close()
        except OSError:  # it died at once: its stderr says why
            pass

    def _read(self):
        for line in self.proc.stdout:
            self._events.put(line)
        self._events.put(None)

    def next(self, timeout):
        """The next event; None when none came within `timeout` seconds. ChildDied at its end."""
        try:
            line = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self.proc.wait()
            raise ChildDied(self.why())
        try:
            return json.loads(line)
        except ValueError:
            raise ChildDied(f"it printed {line[:80]!r}") from None

    def why(self):
        self._err.seek(0)
        return _first_line(self._err.read().decode(errors="replace"))

    def kill(self):
        _signal_group(self.proc)
        self.proc.wait()
        self._err.close()


def _signal_group(proc):
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


def _first_line(stderr):
    """The line that names the failure: a traceback's first exception line, else the first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    return (exceptions or lines or ["no message"])[0]


def environment(blas_threads):
    """Columns describing the machine and the libraries, the same for every row."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy, or a build without the record
        blas = "unknown"
    return {"python": platform.python_version(), "numpy": np.__version__, "blas": blas,
            "blas_threads": blas_threads, "cpu": cpu_name(), **_caches()}


def _caches():
    """The level 2 and last-level data caches of cpu0 in bytes, from Linux's /sys (else empty)."""
    sizes = {}
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()  # e.g. 512K, 32768K
        except (OSError, ValueError):
            continue
        number, unit = (size, "") if size.isdigit() else (size[:-1], size[-1])
        if kind != "Instruction" and number.isdigit():
            sizes[level] = int(number) * {"K": 2**10, "M": 2**20, "G": 2**30}.get(unit, 1)
    return {"l2_bytes": sizes.get(2), "llc_bytes": sizes[max(sizes)] if sizes else None}


def child_env(blas_threads):
    """The sweep's environment with BLAS threads pinned and this project importable."""
    env = dict(os.environ)
    for name in BLAS_ENV:
        env[name] = str(blas_threads)
    env.update(MALLOC_ENV)
    env[PARENT_PID] = str(os.getpid())  # the process that will start the children: this one
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env
