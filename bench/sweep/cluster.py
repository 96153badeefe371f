"""gradbench sweep on a Dask cluster: each series (bench.sweep.series) is one task, timed on one
worker in one child process, so the points of a fit are always compared in the same rounds on the
same host; this process writes every row.

--workers N starts a local cluster of N single-threaded worker processes for the sweep and closes it at the end;
--scheduler ADDRESS uses a running one, whose workers hold the resource RESOURCE=1 (one series at a time each):
    dask worker ADDRESS --nthreads 1 --resources bench=1
A series is sent only when a worker is free, so its budget uses every result back by then. A worker
that dies mid-series has its series run again elsewhere (distributed.scheduler.allowed-failures
times, then its points are `error` rows); a lost attempt's rows never reach the CSV.
Ctrl-C or SIGTERM: the running subprocesses on the workers are killed and the outstanding shapes cancelled.
"""

import contextlib
import copy
import logging
import platform
import signal
import tempfile
import threading
import uuid
from collections import deque
from pathlib import Path

from bench.errors import UserError
from bench.output import write_text
from bench.sweep import launcher, series

RESOURCE = "bench"  # the abstract resource a shape holds: one per worker
CONNECT_TIMEOUT_S = 10.0  # an unreachable --scheduler is an error after this long
EXTRA = "pip install 'gradbench[cluster]'"


@contextlib.contextmanager
def connect(workers=None, scheduler=None):
    """A distributed Client of a fresh local cluster (`workers` processes) or of a running `scheduler`; None for
    neither. Bad options, a missing extra or an unreachable scheduler raise UserError before anything starts."""
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise UserError("--workers and --scheduler contradict each other: choose one")
    option = f"--workers {workers}" if scheduler is None else f"--scheduler {scheduler}"
    if workers is not None and int(workers) < 1:
        raise UserError(f"{option}: must be 1 or more")
    try:
        import distributed
    except ImportError:
        raise UserError(f"{option} needs Dask's distributed, the cluster extra: {EXTRA}") from None
    with _quiet():
        if scheduler is None:
            # the scheduler lives in this process, the workers are its children; loopback only
            cluster = distributed.LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                               resources={RESOURCE: 1}, host="127.0.0.1",
                                               dashboard_address="127.0.0.1:0",  # HTTP endpoints only, no 8787
                                               silence_logs=logging.ERROR)
            client = distributed.Client(cluster)
            client.register_plugin(_local_worker_plugin(distributed))
        else:
            cluster, client = None, _client(distributed, scheduler)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


class Executor:
    """Series on a Dask cluster, one task each, sent as workers free up; rows written as tasks end."""

    def __init__(self, client, blas_threads):
        self.client, self.blas_threads = client, blas_threads
        self.sweep = uuid.uuid4().hex  # names this sweep's tasks, and its children on the workers

    def run(self, series_list, setting, write, show):
        from distributed import as_completed

        queue, pending, back = deque(series_list), {}, as_completed()
        done = 0
        try:
            while queue or pending:
                while queue and len(pending) < max(1, _capacity(self.client)):
                    points, ops = queue.popleft()
                    budget = copy.deepcopy(setting.budget)  # as it is now: Dask may serialize it later
                    key = f"gradbench-series-{points[0].slug}-{self.sweep}"
                    future = self.client.submit(run_series, self.sweep, points, ops, budget, self.blas_threads,
                                                setting.out_name, setting.seed, resources={RESOURCE: 1},
                                                pure=False, key=key)
                    pending[future] = (points, ops)
                    back.add(future)
                    where = f"{points[0].backend} {points[0].device} {points[0].dtype}"
                    show(done, f"sent {len(points)} points on {where}; "
                               f"{len(pending)} of {_capacity(self.client)} workers busy", None)
                future = next(back)
                points, ops = pending.pop(future)
                for i, columns in _rows_back(future, points, setting):
                    write(points[i], ops[i], columns)
                done += len(points)
                show(done, f"back: {len(points)} points on {points[0].backend} {points[0].device} {points[0].dtype}",
                     None)
        finally:
            if pending:  # Ctrl-C, SIGTERM or a failure here: nothing of this sweep goes on running
                self.client.run(stop, self.sweep, on_error="ignore")
                self.client.cancel(list(pending), force=True)


def run_series(sweep, points, ops, budget, blas_threads, out_name, seed):
    """On a cluster worker: time one series as the sequential sweep does (bench.sweep.series), and
    hand back its rows, its pyperf suites as text and the budget's measurements. This worker
    writes nothing of the sweep's: the `gradbench sweep` process is the one writer."""
    env = launcher.child_env(blas_threads)  # this process starts the child: it dies with it
    env_columns = {**launcher.environment(blas_threads), "hostname": platform.node()}
    rows = []
    with launcher.RUNNING.of(sweep), tempfile.TemporaryDirectory(prefix="gradbench-series-") as tmp:
        setting = series.Setting(budget, env, Path(tmp), out_name, seed)
        series.run(points, ops, setting, lambda i, columns: rows.append((i, {**env_columns, **columns})))
        files = {p.name: p.read_text() for p in Path(tmp).glob("*.json")}
    return {"rows": rows, "files": files, "budget": budget.measured}


def stop(sweep):
    """Run on every worker (Client.run) when a sweep stops: kill its running children, start no more."""
    return launcher.RUNNING.stop(sweep)


def _rows_back(future, points, setting):
    """(index, columns) of a series whose task is over: measured (its JSON written first), or
    `error` with why not."""
    from distributed import KilledWorker

    try:
        result = future.result()
    except KilledWorker as e:
        reason = (f"the series killed {e.allowed_failures + 1} workers, the last "
                  f"{getattr(e.last_worker, 'address', '')} (distributed.scheduler.allowed-failures "
                  f"{e.allowed_failures})")
        return [(i, {"status": "error", "reason": reason}) for i in range(len(points))]
    except Exception as e:  # the task raised: the worker's installation, most likely
        reason = f"the series' task failed on its worker: {type(e).__name__}: {_first_line(e)}"
        return [(i, {"status": "error", "reason": reason}) for i in range(len(points))]
    setting.budget.merge(result["budget"])
    for name, text in result["files"].items():
        write_text(setting.json_dir / name, text)
    return result["rows"]


def _client(distributed, scheduler):
    """A Client of a running scheduler whose workers (if any have joined) can take a series."""
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as e:  # unreachable, refused, or not an address
        raise UserError(f"--scheduler {scheduler}: cannot connect ({_first_line(e)})") from None
    workers = client.scheduler_info()["workers"]
    if workers and not _capacity(client):
        client.close()
        raise UserError(f"--scheduler {scheduler}: none of its {len(workers)} workers has the resource "
                        f"{RESOURCE}; start them with: dask worker {scheduler} --nthreads 1 --resources {RESOURCE}=1")
    return client


def _local_worker_plugin(distributed):
    """A worker plugin for the local cluster's workers: they ignore SIGINT, since a terminal's Ctrl-C reaches them
    too (they share this process's group) and this process stops them itself; and they close quietly."""

    class LocalWorker(distributed.WorkerPlugin):  # defined here: distributed is optional
        def setup(self, worker):
            if threading.current_thread() is threading.main_thread():  # a worker process's own loop
                signal.signal(signal.SIGINT, signal.SIG_IGN)

        def teardown(self, worker):
            # closing with the cluster, a worker may lose the scheduler mid-heartbeat: noise, not an error
            logging.getLogger("distributed").setLevel(logging.CRITICAL)

    return LocalWorker()


@contextlib.contextmanager
def _quiet():
    """Dask's warnings off the terminal (the progress line is ours); its errors stay."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _capacity(client):
    """How many series the cluster runs at once: its workers holding the resource."""
    return sum(RESOURCE in w.get("resources", {}) for w in client.scheduler_info()["workers"].values())


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
