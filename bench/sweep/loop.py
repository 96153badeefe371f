"""gradbench sweep: time every method over depth x width x batch in interleaved rounds, check it
against backprop, append CSV rows. The one sweep loop:

  1. plan the points (smallest first), each with its op count computed once;
  2. --resume: the ok rows already in the file stay, and teach the budget;
  3. the memory a point needs (bench.guard) over what the machine has: a `skipped` row, nothing
     run;
  4. the rest, grouped in series (one per placement: bench.sweep.series), go to an executor: this
     process, one series after another, or a Dask cluster, one task per series
     (bench.sweep.cluster). Rows come back as points finish and are written here, and only here.
A point predicted over --max-seconds is skipped, one running over it is killed (`timeout`), one
that fails is `error`. Ctrl-C, SIGTERM or SIGHUP kills the running child too, and leaves only
complete rows.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import gradients
from bench import guard, output
from bench.errors import UserError, whole_number
from bench.schema import SCHEMA_VERSION
from bench.signals import stop_signals_exit
from bench.sweep import cluster, launcher, series
from bench.sweep.budget import PROFILES, Budget
from bench.sweep.points import plan
from bench.sweep.progress import Progress
from bench.sweep.results_file import open_results
from bench.sweep.series import Setting

# agreement with backprop in float64; other methods: DEFAULT_TOLERANCE
TOLERANCE = {"numerical": 1e-5}
DEFAULT_TOLERANCE = 1e-8
# float32 (24-bit mantissa, about 6e-8 a rounding) ends some 1e-6 from backprop on the sweep's small
# networks; 1e-4 leaves room for deep and wide ones (gradients.backends' tests use the same)
FLOAT32_TOLERANCE = 1e-4
# the least a sweep writes: the header and a row of --out (1 KB), a point's pyperf suite (2 KB)
FIRST_BYTES = 4096
MAX_SECONDS = 365 * 24 * 3600.0  # a point's budget; waits for a child's events hold it with room
# the sweep's defaults, read by the command line's options and help too
DEFAULTS = dict(depth="4", width="16", batch="1", methods="naive,backprop,forward", input_dim=None,
                activation="relu", seed=0, backend="numpy", device="cpu", dtype="float64",
                profile="default", max_seconds=60.0, blas_threads=1,
                worker_wait=cluster.WORKER_WAIT_S)

def base_row(point, ops, profile_name, env_columns):
    """Columns known before anything runs: the point, its graph size and op count, the machine."""
    return {
        "schema_version": SCHEMA_VERSION, **point.__dict__,
        "params": point.edges + 1, "edges": point.edges, "nodes": point.nodes, "ops": ops,
        "mem_model_bytes": mem_model(point),
        "profile": profile_name, **env_columns,
        # a baseline has no gradient
        "agree": None if gradients.record(point.method).is_gradient else True,
    }


def mem_model(point):
    """The working memory gradients.memory_count predicts for the point.

    None where it has no model: the model describes NumPy in float64."""
    if not point.placement.is_default:
        return None
    try:
        return gradients.memory_count(point.method, point.widths, batch=point.batch,
                                      activation=point.activation)
    except ValueError:  # a method without a memory model
        return None


def agreement(point, max_rel_err):
    """The agreement columns from the child's relative error (a baseline's: agrees)."""
    if max_rel_err is None:
        return {"max_rel_err": None, "agree": True}
    tolerance = TOLERANCE.get(point.method, DEFAULT_TOLERANCE)
    if point.dtype == "float32":
        tolerance = max(tolerance, FLOAT32_TOLERANCE)
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


def sweep(*, out, resume=False, force=False, progress=None, workers=None, scheduler=None,
          **options):
    """Run a sweep and append its rows to `out`. Bad input raises UserError before any file changes.

    options: any of DEFAULTS (the others take their default). Returns a SweepResult; its
    `disagreements` are rows whose gradient differs from backprop's. workers: measure the series on
    a local Dask cluster of that many processes; scheduler: on the cluster at that address
    (bench.sweep.cluster); neither: one series after the other, here. progress: draw the bar (True),
    never (False), or where someone watches (None: stderr a terminal, or Jupyter; bench.progress).
    """
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown sweep options: {', '.join(sorted(unknown))}")
    o = {**DEFAULTS, **options}
    profile, max_seconds, blas_threads = o["profile"], o["max_seconds"], o["blas_threads"]
    points = plan(o["depth"], o["width"], o["batch"], o["methods"], o["input_dim"], o["activation"],
                  o["seed"], o["backend"], o["device"], o["dtype"])
    if profile not in PROFILES:
        raise UserError(f"--profile {profile}: choose from {', '.join(PROFILES)}")
    if not 0 < max_seconds <= MAX_SECONDS:  # also NaN
        raise UserError(f"--max-seconds {max_seconds}: must be a positive number of seconds, "
                        f"at most {MAX_SECONDS:g} (a year: a wait of more cannot be timed)")
    if not 0 < o["worker_wait"] <= MAX_SECONDS:
        raise UserError(f"--worker-wait {o['worker_wait']}: must be a positive number of seconds, "
                        f"at most {MAX_SECONDS:g}")
    if whole_number(blas_threads, "--blas-threads") < 1:
        raise UserError(f"--blas-threads {blas_threads}: must be 1 or more")
    ops = op_counts(points)  # once per point: the rows, the budget and the estimate share them
    output.check_name(out, f"--out {out}")
    out = Path(out)
    # a folder: open_results says so
    real = out if out.is_dir() else output.target(out, f"--out {out}")
    started = time.perf_counter()
    budget = Budget(PROFILES[profile], float(max_seconds))
    env_columns = launcher.environment(blas_threads)
    json_dir = real.with_name(real.name + ".pyperf")
    kind = output.kind(json_dir)  # refused before open_results touches --out
    if kind not in (None, "a folder"):
        raise UserError(f"{json_dir}: is not a folder (it is {kind}; pyperf's JSON of --out {out} "
                        "goes there)")
    output.check_size_limit(real, FIRST_BYTES, f"--out {out}")
    # the stop signals first: SIGTERM or SIGHUP while a local cluster starts ends it as Ctrl-C does
    with stop_signals_exit(), cluster.connect(workers, scheduler) as client, \
            open_results(out, [p.key() for p in points], resume=resume, force=force) as results:
        _json_folder(json_dir, force)
        progress = Progress(len(points), progress)
        setting = Setting(budget, launcher.child_env(blas_threads), json_dir, real.name,
                          int(o["seed"]))
        option = f"--scheduler {scheduler}" if scheduler else f"--workers {workers}"
        executor = (cluster.Executor(client, blas_threads, float(o["worker_wait"]), option)
                    if client else Local())
        try:
            rows = _loop(points, ops, results, setting, executor, progress, (profile, env_columns))
        finally:
            progress.finish()  # also on Ctrl-C: the message that follows starts on its own line
    resumed = sum(p.key() in results.done for p in points)
    return SweepResult(rows, out, resumed, time.perf_counter() - started)


def _json_folder(json_dir, force):
    """Make pyperf's JSON folder; --force empties it of the suites of the file it replaces."""
    try:
        json_dir.mkdir(exist_ok=True)
        if force:
            for old in json_dir.glob("*.json"):
                old.unlink()
    except OSError as e:
        raise UserError(f"{json_dir}: cannot make the folder for pyperf's JSON "
                        f"({e.strerror or e})") from None


def _loop(points, ops, results, setting, executor, progress, row_setting):
    """The one sweep loop (module docstring); every point's row, in the order of `points`."""
    profile, env_columns = row_setting
    rows, todo = {}, []

    def write(point, n, columns):
        row = {**base_row(point, n, profile, env_columns), **columns}
        if "max_rel_err" in columns:  # the check ran
            row.update(agreement(point, columns["max_rel_err"]))
        row["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
        results.write(row)
        rows[point] = row

    for point, n in zip(points, ops):
        if point.key() in results.done:  # --resume: an ok row already in the file
            rows[point] = results.done[point.key()]
            setting.budget.record(point, n, rows[point]["time_min_s"], "an earlier run")
            continue
        need = guard.point_bytes(point.method, point.widths, point.batch, point.activation)
        reason = guard.refusal(need, "this point", point.backend, point.device)
        if reason:  # refused before a child allocates what cannot fit
            write(point, n, {"status": "skipped", "reason": reason})
        else:
            todo.append((point, n))
    base = len(rows)
    executor.run(_series(todo), setting, write,
                 lambda done, label, eta: progress.show(base + done, label, eta))
    return [rows[point] for point in points]


def _series(todo):
    """The points to run grouped by placement, each group in plan order: [(points, ops), ...]."""
    groups = {}
    for point, n in todo:
        groups.setdefault(point.placement, []).append((point, n))
    return [([p for p, _ in g], [n for _, n in g]) for g in groups.values()]


class Local:
    """The executor without a cluster: each series in turn, in a child of this process."""

    def run(self, series_list, setting, write, show):
        done = 0
        for points, ops in series_list:
            series.run(points, ops, setting,
                       lambda i, columns, p=points, o=ops: write(p[i], o[i], columns),
                       lambda d, label, eta, base=done: show(base + d, label, eta))
            done += len(points)


def op_counts(points):
    """Each point's op count, once; a count the results file cannot hold (int64) is refused."""
    ops = [gradients.op_count(p.method, p.widths, batch=p.batch, activation=p.activation)
           for p in points]
    for p, o in zip(points, ops):
        if max(o, p.edges + 1, p.nodes) >= 2**63:
            raise UserError(f"{p.label}: {max(o, p.edges + 1):.3g} multiplications or parameters, "
                            "more than a results file holds (2^63); "
                            "choose smaller --depth, --width, --input-dim or --batch")
    return ops
