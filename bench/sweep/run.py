"""gradbench sweep: time every method over depth x width x batch, check it against backprop, append CSV rows.

For each point (method, depth, width, input_dim, batch, and backend, device, dtype), in order of size (its op
count computed once):
  0. the memory it needs (bench.memory) over what the machine has (on a CUDA device: what the device has free):
     a `skipped` row, nothing is run;
  1. predict the pyperf run's time from the method's largest point measured so far (seconds per
     operation times the point's op_count); over --max-seconds: a `skipped` row, nothing is run;
  2. `bench.sweep.worker check` in a subprocess: one timed call, one call under tracemalloc (peak memory;
     torch.cuda's counter on a CUDA device), and the relative error from backprop on the same seeded network
     and batch, backend, device and dtype (agreement);
  3. predict again from that call's time; over budget: `skipped`;
  4. `bench.sweep.worker time`, a pyperf script, in a subprocess writing <out>.pyperf/<point>.json;
     its statistics make the `ok` row.
A subprocess running over --max-seconds is killed (`timeout`); one that fails gives `error`.
Ctrl-C, SIGTERM or SIGHUP kills the running subprocess too, and leaves only complete rows.
With --workers or --scheduler, bench.sweep.cluster sends each shape to a Dask worker, which runs
steps 1 to 4 for its methods (bench.sweep.shape), and writes the rows here as they come back.
"""

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import memory, output
from bench.errors import UserError, whole_number
from bench.schema import SCHEMA_VERSION
from bench.signals import stop_signals_exit
from bench.sweep import cluster, launcher
from bench.sweep.budget import PROFILES, Budget, predict_run_seconds
from bench.sweep.estimate import Remaining
from bench.sweep.launcher import WorkerFailed
from bench.sweep.points import plan
from bench.sweep.results_file import open_results

TOLERANCE = {"numerical": 1e-5}  # agreement with backprop in float64; other methods: DEFAULT_TOLERANCE
DEFAULT_TOLERANCE = 1e-8
# float32 (24-bit mantissa, about 6e-8 a rounding) ends some 1e-6 from backprop on the sweep's small
# networks; 1e-4 leaves room for deep and wide ones (gradients.backends' tests use the same)
FLOAT32_TOLERANCE = 1e-4
# the sweep's defaults, read by the command line's options and help too
DEFAULTS = dict(depth="4", width="16", batch="1", methods="naive,backprop,forward", input_dim=None,
                activation="relu", seed=0, backend="numpy", device="cpu", dtype="float64", profile="default",
                max_seconds=60.0, blas_threads=1)

def base_row(point, ops, profile_name, env_columns):
    """Columns known before anything runs: the point, its graph size and op count, the machine."""
    return {
        "schema_version": SCHEMA_VERSION, **point.__dict__,
        "params": point.edges + 1, "edges": point.edges, "nodes": point.nodes, "ops": ops,
        "mem_model_bytes": mem_model(point),
        "profile": profile_name, **env_columns,
        "agree": True if point.method == "forward" else None,
    }


def mem_model(point):
    """The working memory gradients.memory_count predicts for the point (None where it has no model: the model
    describes NumPy in float64)."""
    import gradients

    if (point.backend, point.dtype) != ("numpy", "float64"):
        return None
    try:
        return gradients.memory_count(point.method, point.widths, batch=point.batch, activation=point.activation)
    except ValueError:  # a method without a memory model
        return None


def agreement(point, max_rel_err):
    """The agreement columns from the worker's relative error (forward has no gradient: agrees)."""
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


def sweep(*, out, resume=False, force=False, progress=None, workers=None, scheduler=None, **options):
    """Run a sweep and append its rows to `out`. Bad input raises UserError before any file changes.

    options: any of DEFAULTS (the others take their default). Returns a SweepResult; its
    `disagreements` are rows whose gradient differs from backprop's. workers: measure the shapes on
    a local Dask cluster of that many processes; scheduler: on the cluster at that address
    (bench.sweep.cluster); neither: one point after the other, here.
    """
    from bench.sweep.progress import Progress

    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown sweep options: {', '.join(sorted(unknown))}")
    o = {**DEFAULTS, **options}
    profile, max_seconds, blas_threads = o["profile"], o["max_seconds"], o["blas_threads"]
    points = plan(o["depth"], o["width"], o["batch"], o["methods"], o["input_dim"], o["activation"], o["seed"],
                  o["backend"], o["device"], o["dtype"])
    if profile not in PROFILES:
        raise UserError(f"--profile {profile}: choose from {', '.join(PROFILES)}")
    if not 0 < max_seconds < math.inf:  # also NaN
        raise UserError(f"--max-seconds {max_seconds}: must be a positive, finite number of seconds")
    if whole_number(blas_threads, "--blas-threads") < 1:
        raise UserError(f"--blas-threads {blas_threads}: must be 1 or more")
    ops = op_counts(points)  # once per point: the rows, the budget and the estimate share them
    output.check_name(out, f"--out {out}")
    out = Path(out)
    real = out if out.is_dir() else output.target(out, f"--out {out}")  # a folder: open_results says so
    started = time.perf_counter()
    budget = Budget(PROFILES[profile], float(max_seconds))
    env, env_columns = launcher.worker_env(blas_threads), launcher.environment(blas_threads)
    json_dir = real.with_name(real.name + ".pyperf")
    if json_dir.exists() and not json_dir.is_dir():  # refused before open_results touches --out
        raise UserError(f"{json_dir}: is not a folder (pyperf's JSON of --out {out} goes there)")
    with cluster.connect(workers, scheduler) as client, stop_signals_exit(), \
            open_results(out, [p.key() for p in points], resume=resume, force=force) as results:
        try:
            json_dir.mkdir(exist_ok=True)
        except OSError as e:
            raise UserError(f"{json_dir}: cannot make the folder for pyperf's JSON ({e.strerror or e})") from None
        progress = progress or Progress(len(points))
        try:
            if client is not None:  # the cluster's workers measure the shapes; their rows are written here
                rows = cluster.run_shapes(client, points, ops, results, budget, progress, profile=profile,
                                          env_columns=env_columns, blas_threads=blas_threads, json_dir=json_dir,
                                          out_name=real.name)
            else:
                rows = _one_by_one(points, ops, results, budget, progress, (profile, env, env_columns),
                                   json_dir, real.name)
        finally:
            progress.finish()  # also on Ctrl-C: the message that follows starts on its own line
    resumed = sum(p.key() in results.done for p in points)
    return SweepResult(rows, out, resumed, time.perf_counter() - started)


def _one_by_one(points, ops, results, budget, progress, setting, json_dir, out_name):
    """The sequential sweep: measure each point not already ok in `results` here, writing its row at once."""
    profile, env, env_columns = setting
    left = [i for i, p in enumerate(points) if p.key() not in results.done]
    remaining = Remaining([points[i] for i in left], [ops[i] for i in left])
    rows = []
    for index, point in enumerate(points):
        if point.key() in results.done:  # --resume: an ok row already in the file
            row = results.done[point.key()]
            budget.record(point, row["ops"], row["time_median_s"], "pyperf")  # checked by read_results
        else:
            row = base_row(point, ops[index], profile, env_columns)
            progress.show(index, point.label, remaining.seconds(budget, progress.mean_point_s))
            row.update(measure(point, ops[index], budget, env, json_dir, out_name))
            row["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
            results.write(row)
            remaining.done(point, ops[index])
        rows.append(row)
    return rows


def op_counts(points):
    """Each point's op count, once; a count the results file cannot hold (int64) is refused."""
    import gradients

    ops = [gradients.op_count(p.method, p.widths, batch=p.batch, activation=p.activation) for p in points]
    for p, o in zip(points, ops):
        if max(o, p.edges + 1, p.nodes) >= 2**63:
            raise UserError(f"{p.label}: {max(o, p.edges + 1):.3g} multiplications or parameters, more than a "
                            "results file holds (2^63); choose smaller --depth, --width, --input-dim or --batch")
    return ops


def measure(point, ops, budget, env, json_dir, out_name):
    """The measured columns of one point: ok, skipped, timeout or error, with the reason."""
    reason = memory.refusal(memory.point_bytes(point.method, point.widths, point.batch, point.activation),
                            "this point", point.backend, point.device)
    if reason:  # refused before a worker allocates what cannot fit
        return {"status": "skipped", "reason": reason}
    predicted = budget.predict(point, ops)
    reason = predicted and budget.over(*predicted)
    if reason:
        return {"status": "skipped", "reason": reason}
    columns = {}
    try:
        check = launcher.run_check(point, env, budget.max_seconds)
        columns.update(agreement(point, check["max_rel_err"]), peak_mem_bytes=check["peak_mem_bytes"],
                       work_mem_bytes=check["work_mem_bytes"], time_vs_backprop=check.get("time_vs_backprop"),
                       framework=check.get("framework"),
                       device_name=check.get("device_name"))
        budget.record(point, ops, check["seconds"], "one call")
        reason = budget.over(predict_run_seconds(check["seconds"], budget.profile),
                             f"one call took {check['seconds']:.3g} s")
        if reason:
            return {**columns, "status": "skipped", "reason": reason}
        json_path = json_dir / f"{point.slug}.json"
        columns.update(launcher.run_timing(point, budget.profile, json_path, env, budget.max_seconds, check["seconds"]))
        budget.record(point, ops, columns["time_median_s"], "pyperf")
        return {**columns, "status": "ok", "reason": "", "pyperf_json": f"{out_name}.pyperf/{json_path.name}"}
    except WorkerFailed as e:
        return {**columns, "status": e.status, "reason": e.reason}
