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
Ctrl-C or SIGTERM kills the running subprocess too, and leaves only complete rows.
"""

import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import product
from pathlib import Path

from bench import sweep_workers as workers
from bench.errors import UserError
from bench.ranges import MAX_VALUES, parse_range
from bench.schema import SCHEMA_VERSION
from bench.sweep_budget import PROFILES, STARTUP_S, Budget, predict_run_seconds
from bench.sweep_csv import key_of, open_results
from bench.sweep_workers import WorkerFailed

TOLERANCE = {"numerical": 1e-5}  # agreement with backprop; other methods: DEFAULT_TOLERANCE
DEFAULT_TOLERANCE = 1e-8

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
    """Every point of the sweep, smallest network first (fewest edges, then smallest batch), each for every method."""
    import gradients

    depths = parse_range(depth, "--depth")
    widths = parse_range(width, "--width")
    batches = parse_range(batch, "--batch")
    input_dims = None if input_dim in (None, "") else parse_range(input_dim, "--input-dim")
    methods = parse_methods(methods)
    if activation not in gradients.ACTIVATIONS:
        raise UserError(f"--activation {activation}: choose from {', '.join(gradients.ACTIVATIONS)}")
    if int(seed) < 0:
        raise UserError(f"--seed {seed}: must be 0 or more")
    count = len(depths) * len(widths) * len(batches) * len(input_dims or [1]) * len(methods)
    if count > MAX_VALUES:
        raise UserError(f"--depth x --width x --batch x --input-dim x --methods: {count:,} points, "
                        f"more than {MAX_VALUES:,}")
    points = []
    for d, w, b in product(depths, widths, batches):
        for i in input_dims or [w]:
            points += [Point(m, d, w, i, b, activation, int(seed)) for m in methods]
    # stable: each shape's methods keep their order
    return sorted(points, key=lambda p: (gradients.edges(p.widths), p.batch, p.depth, p.width, p.input_dim))


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
        return [r for r in self.rows if r.get("agree") is False]


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
    if not 0 < max_seconds < math.inf:  # also NaN
        raise UserError(f"--max-seconds {max_seconds}: must be a positive, finite number of seconds")
    if int(blas_threads) < 1:
        raise UserError(f"--blas-threads {blas_threads}: must be 1 or more")
    out = Path(out)
    started = time.perf_counter()
    budget = Budget(PROFILES[profile], float(max_seconds))
    env, env_columns = workers.worker_env(blas_threads), workers.environment(blas_threads)
    json_dir = out.with_name(out.name + ".pyperf")
    if json_dir.exists() and not json_dir.is_dir():  # refused before open_results touches --out
        raise UserError(f"{json_dir}: is not a folder (pyperf's JSON of --out {out} goes there)")
    rows = []
    with open_results(out, [p.key() for p in points], resume=resume, force=force) as results, _sigterm_exits():
        try:
            json_dir.mkdir(exist_ok=True)
        except OSError as e:
            raise UserError(f"{json_dir}: cannot make the folder for pyperf's JSON ({e.strerror or e})") from None
        progress = progress or Progress(len(points))
        try:
            for index, point in enumerate(points):
                if point.key() in results.done:  # --resume: an ok row already in the file
                    row = results.done[point.key()]
                    budget.record(point, row["ops"], row["time_median_s"], "pyperf")  # checked by read_results
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


@contextmanager
def _sigterm_exits():
    """SIGTERM (`kill`, a batch system's stop) exits with status 143, killing the running worker as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def measure(point, ops, budget, env, json_dir, out_name):
    """The measured columns of one point: ok, skipped, timeout or error, with the reason."""
    predicted = budget.predict(point, ops)
    reason = predicted and budget.over(*predicted)
    if reason:
        return {"status": "skipped", "reason": reason}
    columns = {}
    try:
        check = workers.run_check(point, env, budget.max_seconds)
        columns.update(agreement(point, check["max_rel_err"]), peak_mem_bytes=check["peak_mem_bytes"])
        budget.record(point, ops, check["seconds"], "one call")
        reason = budget.over(predict_run_seconds(check["seconds"], budget.profile),
                             f"one call took {check['seconds']:.3g} s")
        if reason:
            return {**columns, "status": "skipped", "reason": reason}
        json_path = json_dir / f"{point.slug}.json"
        columns.update(workers.run_timing(point, budget.profile, json_path, env, budget.max_seconds))
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
