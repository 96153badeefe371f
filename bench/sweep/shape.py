"""The cluster worker's side of a sweep: one shape (every method of one network and batch) measured point by point,
as the sequential sweep measures a point (bench.sweep.run.measure), and handed back as plain data.

The worker writes nothing of the sweep's: pyperf's JSON goes to a temporary folder of its own and comes back as
text, so the `gradbench sweep` process is the one writer of the CSV and the JSON, and no shared file system is needed.
"""

import platform
import tempfile
from pathlib import Path

from bench.sweep import launcher


def run_shape(sweep, points, ops, budget, blas_threads, out_name):
    """Measure the points of one shape in turn on this worker; `budget` is the sweep's, as it was when sent.

    Returns {"env": this machine's environment columns, "points": [(measured columns, pyperf JSON text or
    None), ...] in the order of `points`, "budget": the measurements, for the sweep's next predictions}.
    """
    from bench.sweep.run import measure  # the sweep's own measurement, on this machine

    env = launcher.worker_env(blas_threads)  # this process starts the subprocesses: they die with it
    env_columns = {**launcher.environment(blas_threads), "hostname": platform.node()}
    measured = []
    with launcher.RUNNING.of(sweep), tempfile.TemporaryDirectory(prefix="gradbench-shape-") as tmp:
        for point, n in zip(points, ops):
            if launcher.RUNNING.stopped(sweep):  # the sweep is over: its result is thrown away
                break
            columns = measure(point, n, budget, env, Path(tmp), out_name)
            json_text = (Path(tmp) / f"{point.slug}.json").read_text() if columns["status"] == "ok" else None
            measured.append((columns, json_text))
    return {"env": env_columns, "points": measured, "budget": budget.measured}


def stop(sweep):
    """Run on every worker (Client.run) when a sweep stops: kill its running subprocesses and start no more."""
    return launcher.RUNNING.stop(sweep)
