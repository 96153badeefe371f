"""The parent side of the sweep's subprocesses: starts `python -m bench.sweep.worker check|time` for one point,
kills it when over budget, and reads back what it measured (bench.sweep.worker is the child side)."""

import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from bench.output import write_atomic
from bench.schema import TIME_RANGE

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# glibc hands arrays of 128 KiB and more back to the kernel when they are freed, so without a pad
# every call pays page faults for its fresh arrays (backprop at width 256, batch 1: 1.1 ms instead
# of 0.35 ms); the pad keeps freed memory for the next call, for every method alike.
MALLOC_ENV = {"MALLOC_TOP_PAD_": str(64 * 2**20)}
WORKER_ENV = BLAS_ENV + tuple(MALLOC_ENV)  # what pyperf's workers must inherit
PARENT_PID = "GRADBENCH_PARENT_PID"  # the process that starts a worker: it dies with it (bench.sweep.worker)


class WorkerFailed(Exception):
    """A worker subprocess failed (status error) or ran over the budget (status timeout)."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status, self.reason = status, reason


STEP = {"check": "the one-call check", "time": "the pyperf run"}


class Running:
    """The process groups of the worker subprocesses running now, by the sweep they belong to.

    A cluster worker runs a shape in a thread that Dask cannot interrupt (bench.sweep.shape); when
    its sweep stops, `stop(sweep)` kills that sweep's groups and, at once, any it starts later.
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
            self._procs = [(s, p) for s, p in self._procs if p.returncode is None]  # forget the reaped
            if sweep not in self._stopped:
                self._procs.append((sweep, proc))
                return
        _signal_group(proc)  # started as its sweep stopped

    def stop(self, sweep):
        """Kill the sweep's running groups and refuse its later ones; returns how many were killed."""
        with self._lock:
            self._stopped.add(sweep)
            doomed = [p for s, p in self._procs if s == sweep and p.returncode is None]
        for proc in doomed:
            _signal_group(proc)
        return len(doomed)

    def stopped(self, sweep):
        return sweep in self._stopped


RUNNING = Running()


def run_worker(args, env, timeout):
    """Run `python -m bench.sweep.worker ARGS` in its own process group; kill the whole group on timeout or Ctrl-C."""
    cmd = [sys.executable, "-m", "bench.sweep.worker", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # pyperf's own workers share the group
    RUNNING.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise WorkerFailed("timeout", f"{STEP[args[0]]} ran over --max-seconds {timeout:g} and was killed") from None
    except BaseException:  # Ctrl-C: no orphan keeps timing after the sweep stops
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        raise WorkerFailed("error", f"{STEP[args[0]]} failed: {_first_line(err)}")
    return out


def _kill_group(proc):
    _signal_group(proc)
    proc.communicate()


def _signal_group(proc):
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


def _first_line(stderr):
    """The line that names the failure: a traceback's first exception line, otherwise the first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    return (exceptions or lines or ["no message"])[0]


def run_check(point, env, timeout):
    """One call of the method in a worker: {seconds, peak_mem_bytes, max_rel_err}."""
    out = run_worker(["check", *point.args()], env, timeout)
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise WorkerFailed("error", f"the one-call check printed no result: {out[:80]!r}") from None


def run_timing(point, profile, json_path, env, timeout, call_s):
    """The point's pyperf run, calls of about call_s seconds; returns the timing columns read back from its JSON."""
    import pyperf

    # pyperf writes to a name of this process's own, renamed once complete: a worker orphaned by a
    # killed sweep cannot clobber the file of a --resume'd run (it leaves a stray .tmp at worst)
    write_atomic(json_path, lambda tmp: run_worker(["time", *point.args(), *profile.args(call_s), "-q", "-o", str(tmp),
                                                    "--inherit-environ", ",".join(WORKER_ENV)], env, timeout))
    bench = pyperf.Benchmark.load(str(json_path))
    values = bench.get_values()
    lo, hi = TIME_RANGE
    if not values or not all(lo <= v <= hi for v in values):  # an ok row of them would make readers refuse the file
        raise WorkerFailed("error", f"the pyperf run reported {len(values)} values from {min(values, default=0):.3g} "
                                    f"to {max(values, default=0):.3g} s, outside {lo:g} .. {hi:g} s")
    meta = bench.get_metadata()
    return {
        "time_median_s": bench.median(), "time_mean_s": bench.mean(),
        "time_stdev_s": bench.stdev() if len(values) > 1 else 0.0,
        "time_min_s": min(values), "time_max_s": max(values), "n_values": len(values),
        "loops": meta.get("loops", ""), "pyperf": meta.get("perf_version", ""),
        "hostname": meta.get("hostname", ""), "platform": meta.get("platform", ""),
        "cpu_count": meta.get("cpu_count", ""),
        "blas_threads": meta.get("gradbench_openblas_num_threads", ""),  # as the timing workers saw it
    }


def environment(blas_threads):
    """Columns describing the machine and the libraries, the same for every row."""
    import numpy as np

    from gradients.backends import cpu_name

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy, or a build without the record
        blas = "unknown"
    return {"python": platform.python_version(), "numpy": np.__version__, "blas": blas,
            "blas_threads": blas_threads, "cpu": cpu_name(), **_caches()}


def _caches():
    """The level 2 and last-level data caches of cpu0 in bytes, from Linux's /sys (empty elsewhere)."""
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


def worker_env(blas_threads):
    """The sweep's environment with BLAS threads pinned and this project importable."""
    env = dict(os.environ)
    for name in BLAS_ENV:
        env[name] = str(blas_threads)
    env.update(MALLOC_ENV)
    env[PARENT_PID] = str(os.getpid())  # the process that will start the workers: this one
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env
