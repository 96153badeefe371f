"""gradbench sweep on a Dask cluster: each shape (every method of one network and batch) is one task, timed alone
on one worker, so the methods of a shape are always compared on the same host; this process writes every row.

--workers N starts a local cluster of N single-threaded worker processes for the sweep and closes it at the end;
--scheduler ADDRESS uses a running one, whose workers hold the resource RESOURCE=1 (one shape at a time each):
    dask worker ADDRESS --nthreads 1 --resources bench=1
A shape is sent only when a worker is free, so its budget prediction uses every result back by then. A worker
that dies mid-shape has its shape run again elsewhere (distributed.scheduler.allowed-failures times, then the
shape's points are `error` rows); the lost attempt's rows never reach the CSV, since only results are written.
Ctrl-C or SIGTERM: the running subprocesses on the workers are killed and the outstanding shapes cancelled.
"""

import contextlib
import copy
import logging
import signal
import threading
import uuid
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.errors import UserError
from bench.output import write_text
from bench.sweep import shape
from bench.sweep.budget import STARTUP_S

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


def run_shapes(client, points, ops, results, budget, progress, *, profile, env_columns, blas_threads, json_dir,
               out_name):
    """Measure the points not already ok in `results` (--resume), a shape per task, sent as workers free up, and
    write each row as its shape comes back. Returns every point's row, in the order of `points`."""
    from bench.sweep.run import base_row

    rows = {}
    for point in points:  # --resume: the ok rows already in the file
        if point.key() in results.done:
            rows[point] = results.done[point.key()]
            budget.record(point, rows[point]["ops"], rows[point]["time_median_s"], "pyperf")
    shapes = {}  # (point, row) of each method, by network and batch, in plan order
    for point, n in zip(points, ops):
        if point not in rows:
            shapes.setdefault(_shape(point), []).append((point, base_row(point, n, profile, env_columns)))
    run = _Run(client, results, budget, progress, rows, len(points), (blas_threads, out_name), json_dir)
    run.queue.extend(shapes.values())
    try:
        while run.queue:
            run.wait_for_a_worker()
            run.send(run.queue.popleft())
        while run.pending:
            run.receive()
    finally:
        run.stop()  # Ctrl-C, SIGTERM or a failure here: nothing of this sweep goes on running
    return [rows[point] for point in points]


def _shape(point):
    """A point's network and batch: the point with its method left out."""
    return replace(point, method="shape")


class _Run:
    """The sweep's side of the cluster: shapes out as workers free up, rows in as shapes come back."""

    def __init__(self, client, results, budget, progress, rows, total, task_args, json_dir):
        from distributed import as_completed

        self.client, self.results, self.budget, self.progress = client, results, budget, progress
        self.rows, self.total, self.task_args, self.json_dir = rows, total, task_args, json_dir
        self.sweep = uuid.uuid4().hex  # names this sweep's tasks, and its subprocesses on the workers
        self.queue = deque()  # the shapes not sent yet: lists of (point, row)
        self.pending = {}  # future -> the (point, row) it measures
        self.back = as_completed()

    def wait_for_a_worker(self):
        while len(self.pending) >= max(1, _capacity(self.client)):
            self.receive()

    def send(self, sent):
        """Skip the shape's points predicted over budget; send the others as one task."""
        sent = _skip_over_budget(sent, self.budget, self.write)
        if not sent:
            return
        points, ops = [p for p, _ in sent], [r["ops"] for _, r in sent]
        budget = copy.deepcopy(self.budget)  # as it is now: Dask may serialize it later, in its own thread
        key = f"gradbench-{_shape(points[0]).slug}-{self.sweep}"
        future = self.client.submit(shape.run_shape, self.sweep, points, ops, budget, *self.task_args,
                                    resources={RESOURCE: 1}, pure=False, key=key)
        self.pending[future] = sent
        self.back.add(future)
        self.show("sent", sent)

    def receive(self):
        """Wait for the next shape to come back and write its rows."""
        future = next(self.back)
        sent = self.pending.pop(future)
        for point, row in _rows_back(future, sent, self.budget, self.json_dir):
            self.write(point, row)
        self.show("back", sent)

    def write(self, point, row):
        self.rows[point] = {**row, "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
        self.results.write(self.rows[point])

    def show(self, verb, sent):
        if len(self.rows) == self.total:  # the summary comes next
            return
        capacity = _capacity(self.client)
        left = [(p, r["ops"]) for points in [*self.pending.values(), *self.queue] for p, r in points]
        eta = _eta(left, self.budget, capacity)
        busy = f"{min(len(self.pending), capacity)} of {capacity} workers busy"
        label = f"{verb} {','.join(p.method for p, _ in sent)} {sent[0][0].shape}; {busy}"
        self.progress.show(len(self.rows), label, eta)

    def stop(self):
        """Kill what still runs of this sweep on the workers, and cancel its shapes."""
        if self.pending:
            self.client.run(shape.stop, self.sweep, on_error="ignore")
            self.client.cancel(list(self.pending), force=True)


def _skip_over_budget(sent, budget, write):
    """Write `skipped` rows for the shape's points predicted over budget; the others, to send."""
    kept = []
    for point, row in sent:
        predicted = budget.predict(point, row["ops"])
        reason = predicted and budget.over(*predicted)
        if reason:
            write(point, {**row, "status": "skipped", "reason": reason})
        else:
            kept.append((point, row))
    return kept


def _rows_back(future, sent, budget, json_dir):
    """The rows of a shape whose task is over: measured (pyperf's JSON written first), or `error` with why not."""
    from distributed import KilledWorker

    try:
        result = future.result()
    except KilledWorker as e:
        reason = (f"the shape killed {e.allowed_failures + 1} workers, the last {getattr(e.last_worker, 'address', '')}"
                  f" (distributed.scheduler.allowed-failures {e.allowed_failures})")
        return [(point, {**row, "status": "error", "reason": reason}) for point, row in sent]
    except Exception as e:  # the task raised: the worker's installation, most likely
        reason = f"the shape's task failed on its worker: {type(e).__name__}: {_first_line(e)}"
        return [(point, {**row, "status": "error", "reason": reason}) for point, row in sent]
    budget.merge(result["budget"])
    measured = []
    for (point, row), (columns, json_text) in zip(sent, result["points"]):
        if json_text is not None:
            write_text(json_dir / Path(columns["pyperf_json"]).name, json_text)
        measured.append((point, {**row, **result["env"], **columns}))
    return measured


def _eta(pending, budget, workers):
    """Seconds left: the predicted runs of the points not back yet, shared by the workers; None if unknown."""
    total = 0.0
    for point, ops in pending:
        predicted = budget.predict(point, ops)
        if predicted is None:
            return None
        if predicted[0] <= budget.max_seconds:
            total += predicted[0] + 2 * STARTUP_S  # plus the check
    return total / max(workers, 1)


def _client(distributed, scheduler):
    """A Client of a running scheduler whose workers (if any have joined) can take a shape."""
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
    """How many shapes the cluster runs at once: its workers holding the resource."""
    return sum(RESOURCE in w.get("resources", {}) for w in client.scheduler_info()["workers"].values())


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
