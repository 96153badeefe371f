"""gradbench sweep: time every method over depth x width x batch, check it against backprop, append CSV rows.

For each point (method, depth, width, input_dim, batch), in order of size:
  1. predict the pyperf run's time from the method's largest point measured so far (seconds per
     operation times the point's op_count); over --max-seconds: a `skipped` row, nothing is run;
  2. `bench.worker check` in a subprocess: one timed call, one call under tracemalloc (peak memory),
     and the relative error from backprop on the same seeded network and batch (agreement);
  3. predict again from that call's time; over budget: `skipped`;
  4. `bench.worker time`, a pyperf script, in a subprocess writing <out>.pyperf/<point>.json;
     its statistics make the `ok` row.
A subprocess running over --max-seconds is killed (`timeout`); one that fails gives `error`.
"""

import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import product
from pathlib import Path

from bench.errors import UserError
from bench.ranges import parse_range
from bench.schema import SCHEMA_VERSION
from bench.sweep_csv import key_of, open_results


@dataclass(frozen=True)
class Profile:
    """pyperf's knobs: worker processes, values per process, warmups, minimum seconds per value."""

    processes: int
    values: int
    warmups: int
    min_time: float

    def args(self):
        return ["-p", str(self.processes), "-n", str(self.values), "-w", str(self.warmups),
                "--min-time", str(self.min_time)]


PROFILES = {
    "quick": Profile(processes=1, values=3, warmups=1, min_time=0.002),  # tests, smoke runs
    "default": Profile(processes=10, values=3, warmups=1, min_time=0.05),  # the study
    "rigorous": Profile(processes=20, values=5, warmups=2, min_time=0.1),  # numbers to publish
}
STARTUP_S = 0.2  # one Python process importing numpy, pyperf and gradients (0.15 s measured), with margin
TOLERANCE = {"numerical": 1e-5}  # agreement with backprop; other methods: DEFAULT_TOLERANCE
DEFAULT_TOLERANCE = 1e-8
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Point:
    """One row of the sweep: a method on one network shape and batch."""

    method: str
    depth: int
    width: int
    input_dim: int
    batch: int
    activation: str
    seed: int

    @property
    def widths(self):
        return [self.input_dim] + [self.width] * self.depth

    @property
    def label(self):
        return f"{self.method} depth={self.depth} width={self.width} input_dim={self.input_dim} batch={self.batch}"

    @property
    def slug(self):
        """File name of the point's pyperf JSON."""
        return (f"{self.method}-d{self.depth}-w{self.width}-i{self.input_dim}-b{self.batch}"
                f"-{self.activation}-s{self.seed}")

    def key(self):
        return key_of(self.__dict__)

    def worker_args(self):
        return ["--method", self.method, "--depth", str(self.depth), "--width", str(self.width),
                "--input-dim", str(self.input_dim), "--batch", str(self.batch),
                "--activation", self.activation, "--seed", str(self.seed)]


def parse_methods(text):
    """--methods: comma-separated registered gradient methods and `forward`, in the given order."""
    import gradients

    known = list(gradients.METHODS) + ["forward"]
    methods = [m.strip() for m in str(text).split(",") if m.strip()]
    if not methods:
        raise UserError(f"--methods: empty list (choose from {', '.join(known)})")
    for m in methods:
        if m not in known:
            raise UserError(f"--methods {text}: unknown method {m!r} (choose from {', '.join(known)})")
    return list(dict.fromkeys(methods))


def plan(depth, width, batch, methods, input_dim=None, activation="relu", seed=0):
    """Every point of the sweep: shapes in increasing size, each shape for every method."""
    import gradients

    depths = parse_range(depth, "--depth")
    widths = parse_range(width, "--width")
    batches = parse_range(batch, "--batch")
    input_dims = None if input_dim in (None, "") else parse_range(input_dim, "--input-dim")
    methods = parse_methods(methods)
    activations = getattr(gradients, "ACTIVATIONS", ("relu", "identity"))
    if activation not in activations:
        raise UserError(f"--activation {activation}: choose from {', '.join(activations)}")
    if int(seed) < 0:
        raise UserError(f"--seed {seed}: must be 0 or more")
    points = []
    for d, w, b in product(depths, widths, batches):
        for i in input_dims or [w]:
            points += [Point(m, d, w, i, b, activation, int(seed)) for m in methods]
    return sorted(points, key=lambda p: (p.depth, p.width, p.input_dim, p.batch))  # stable: methods keep order


def predict_run_seconds(call_s, profile):
    """Wall time of a pyperf run whose calls take call_s: process start-ups plus every timed value.

    pyperf starts a manager, one calibration worker and `processes` workers, each running
    warmups + values values; a value is one call, or enough loops of it to last min_time.
    """
    value_s = call_s if call_s >= profile.min_time else 1.5 * profile.min_time  # loops overshoot
    values = (profile.processes + 1) * (profile.warmups + profile.values)
    return (profile.processes + 2) * STARTUP_S + values * value_s


class Budget:
    """Seconds-per-operation of each method's largest measured point, to predict the next ones."""

    def __init__(self, profile, max_seconds):
        self.profile, self.max_seconds = profile, max_seconds
        self.measured = {}  # method -> (ops, seconds per call, where it was measured)

    def record(self, point, ops, call_s, source):
        if ops > 0 and call_s > 0 and ops >= self.measured.get(point.method, (0,))[0]:
            self.measured[point.method] = (ops, call_s, f"{source} of {point.label}")

    def predict(self, point, ops):
        """(seconds of the pyperf run, explanation), or None before the method's first point."""
        if point.method not in self.measured or ops <= 0:
            return None
        ref_ops, ref_s, source = self.measured[point.method]
        call_s = ref_s / ref_ops * ops
        return predict_run_seconds(call_s, self.profile), f"{ref_s / ref_ops:.3g} s/op from {source}"

    def over(self, predicted_s, why):
        """The skip reason when a prediction is over budget, else None."""
        if predicted_s > self.max_seconds:
            return f"predicted {predicted_s:.3g} s > --max-seconds {self.max_seconds:g} ({why})"
        return None


class WorkerFailed(Exception):
    """A worker subprocess failed (status error) or ran over the budget (status timeout)."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status, self.reason = status, reason


STEP = {"check": "the one-call check", "time": "the pyperf run"}


def run_worker(args, env, timeout):
    """Run `python -m bench.worker ARGS` in its own process group; kill the whole group on timeout or Ctrl-C."""
    cmd = [sys.executable, "-m", "bench.worker", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # pyperf's own workers share the group
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
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    proc.communicate()


def _first_line(stderr):
    """The line that names the failure: a traceback's first exception line, otherwise the first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    return (exceptions or lines or ["no message"])[0]


def run_check(point, env, timeout):
    """One call of the method in a worker: {seconds, peak_mem_bytes, max_rel_err}."""
    import json

    out = run_worker(["check", *point.worker_args()], env, timeout)
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise WorkerFailed("error", f"the one-call check printed no result: {out[:80]!r}") from None


def run_timing(point, profile, json_path, env, timeout):
    """The point's pyperf run; returns the timing columns read back from its JSON."""
    import pyperf

    # pyperf writes to a name of this process's own, renamed once complete: a worker orphaned by a
    # killed sweep cannot clobber the file of a --resume'd run (it leaves a stray .tmp at worst)
    tmp = json_path.with_name(f"{json_path.name}.tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)  # pyperf refuses to overwrite
    try:
        run_worker(["time", *point.worker_args(), *profile.args(), "-q", "-o", str(tmp),
                    "--inherit-environ", ",".join(BLAS_ENV)], env, timeout)
        os.replace(tmp, json_path)
    finally:
        tmp.unlink(missing_ok=True)
    bench = pyperf.Benchmark.load(str(json_path))
    values = bench.get_values()
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

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy, or a build without the record
        blas = "unknown"
    return {"python": platform.python_version(), "numpy": np.__version__, "blas": blas,
            "blas_threads": blas_threads, "cpu": _cpu_model()}


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def worker_env(blas_threads):
    """The sweep's environment with BLAS threads pinned and this project importable."""
    env = dict(os.environ)
    for name in BLAS_ENV:
        env[name] = str(blas_threads)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def base_row(point, profile_name, env_columns):
    """Columns known before anything runs: the point, its graph size and op count, the machine."""
    import gradients

    edges = gradients.edges(point.widths)
    return {
        "schema_version": SCHEMA_VERSION, **point.__dict__,
        "params": edges + 1, "edges": edges, "nodes": gradients.nodes(point.widths),
        "ops": gradients.op_count(point.method, point.widths, batch=point.batch, activation=point.activation),
        "profile": profile_name, **env_columns,
        "agree": True if point.method == "forward" else None,
    }


def agreement(point, max_rel_err):
    """The agreement columns from the worker's relative error (forward has no gradient: agrees)."""
    if max_rel_err is None:
        return {"max_rel_err": None, "agree": True}
    tolerance = TOLERANCE.get(point.method, DEFAULT_TOLERANCE)
    return {"max_rel_err": max_rel_err, "agree": bool(max_rel_err <= tolerance)}  # NaN disagrees


@dataclass
class SweepResult:
    """What the sweep did: every row of its points (resumed ones too), and where it wrote them."""

    rows: list
    out: Path
    resumed: int
    seconds: float

    @property
    def disagreements(self):
        return [r for r in self.rows if str(r.get("agree")) == "False"]


def sweep(*, depth="4", width="16", batch="1", methods="naive,backprop,forward", input_dim=None,
          activation="relu", seed=0, profile="default", max_seconds=60.0, blas_threads=1, out,
          resume=False, force=False, progress=None):
    """Run a sweep and append its rows to `out`. Bad input raises UserError before any file changes.

    Returns a SweepResult; its `disagreements` are rows whose gradient differs from backprop's.
    """
    from bench.sweep_summary import Progress

    points = plan(depth, width, batch, methods, input_dim, activation, seed)
    if profile not in PROFILES:
        raise UserError(f"--profile {profile}: choose from {', '.join(PROFILES)}")
    if not max_seconds > 0:
        raise UserError(f"--max-seconds {max_seconds}: must be positive")
    if int(blas_threads) < 1:
        raise UserError(f"--blas-threads {blas_threads}: must be 1 or more")
    out = Path(out)
    started = time.perf_counter()
    budget = Budget(PROFILES[profile], float(max_seconds))
    env, env_columns = worker_env(blas_threads), environment(blas_threads)
    json_dir = out.with_name(out.name + ".pyperf")
    rows = []
    with open_results(out, [p.key() for p in points], resume=resume, force=force) as results:
        try:
            json_dir.mkdir(exist_ok=True)
        except OSError as e:
            raise UserError(f"{json_dir}: cannot make the folder for pyperf's JSON ({e.strerror or e})") from None
        progress = progress or Progress(len(points))
        try:
            for index, point in enumerate(points):
                if point.key() in results.done:  # --resume: an ok row already in the file
                    row = results.done[point.key()]
                    _record_resumed(budget, point, row)
                else:
                    row = base_row(point, profile, env_columns)
                    progress.show(index, point.label, _eta(points[index:], budget, progress))
                    row.update(measure(point, row["ops"], budget, env, json_dir, out.name))
                    row["timestamp"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                    results.write(row)
                rows.append(row)
        finally:
            progress.finish()  # also on Ctrl-C: the message that follows starts on its own line
    resumed = sum(p.key() in results.done for p in points)
    return SweepResult(rows, out, resumed, time.perf_counter() - started)


def _record_resumed(budget, point, row):
    """A resumed ok row informs the budget like a fresh one (a hand-edited row is ignored)."""
    try:
        budget.record(point, int(row["ops"]), float(row["time_median_s"]), "pyperf")
    except (KeyError, ValueError):
        pass


def measure(point, ops, budget, env, json_dir, out_name):
    """The measured columns of one point: ok, skipped, timeout or error, with the reason."""
    predicted = budget.predict(point, ops)
    reason = predicted and budget.over(*predicted)
    if reason:
        return {"status": "skipped", "reason": reason}
    columns = {}
    try:
        check = run_check(point, env, budget.max_seconds)
        columns.update(agreement(point, check["max_rel_err"]), peak_mem_bytes=check["peak_mem_bytes"])
        budget.record(point, ops, check["seconds"], "one call")
        reason = budget.over(predict_run_seconds(check["seconds"], budget.profile),
                             f"one call took {check['seconds']:.3g} s")
        if reason:
            return {**columns, "status": "skipped", "reason": reason}
        json_path = json_dir / f"{point.slug}.json"
        columns.update(run_timing(point, budget.profile, json_path, env, budget.max_seconds))
        budget.record(point, ops, columns["time_median_s"], "pyperf")
        return {**columns, "status": "ok", "reason": "", "pyperf_json": f"{out_name}.pyperf/{json_path.name}"}
    except WorkerFailed as e:
        return {**columns, "status": e.status, "reason": e.reason}


def _eta(remaining, budget, progress):
    """Seconds left: each remaining point's predicted run, capped by the budget; None if unknown."""
    import gradients

    total = 0.0
    for p in remaining:
        predicted = budget.predict(p, gradients.op_count(p.method, p.widths, p.batch, p.activation))
        if predicted is None:
            if progress.mean_point_s is None:
                return None
            total += progress.mean_point_s
        elif predicted[0] <= budget.max_seconds:
            total += predicted[0] + 2 * STARTUP_S  # plus the check
    return total
