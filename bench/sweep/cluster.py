"""gradbench sweep on a Dask cluster: each series (bench.sweep.series) is one task, timed on one
worker in one child process, so the points of a fit are always compared in the same rounds on the
same host; this process writes every row.

--workers N starts a local cluster of N single-threaded worker processes for the sweep and closes
it at the end; --scheduler ADDRESS uses a running one, whose workers hold the resource RESOURCE=1
(one series at a time each):
    dask worker ADDRESS --nthreads 1 --resources bench=1
A series is sent only when a worker is free, so its budget uses every result back by then. A worker
that dies mid-series has its series run again elsewhere (distributed.scheduler.allowed-failures
times, then its points are `error` rows); a lost attempt's rows never reach the CSV.
Ctrl-C or SIGTERM: the running subprocesses on the workers are killed and the outstanding series
cancelled.
"""

import contextlib
import copy
import gc
import logging
import multiprocessing
import os
import platform
import re
import resource
import signal
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path

from bench import limits
from bench.errors import UserError
from bench.output import write_text
from bench.sweep import launcher, series

RESOURCE = "bench"  # the abstract resource a series holds: one per worker
CONNECT_TIMEOUT_S = 10.0  # a --scheduler that has not answered as Dask's in this long is an error
CONNECT_GRACE_S = 2.0  # and then this long for Dask's own verdict, which says more than ours
WORKER_WAIT_S = 60.0  # --worker-wait's default: how long to wait while no worker can take a series
POLL_S = 1.0  # how often the sweep looks at the cluster while it waits for a series
LOCAL_START_S = 30.0  # a local cluster that has not started in this long will not (seconds here)
SETTLE_S = 0.1  # an abandoned cluster: how long no new worker process means none is coming
EXTRA = "pip install 'gradbench[cluster]'"
# a local cluster's open files: measured, one worker started at 32 and two at 48; with room
FILES_BASE, FILES_PER_WORKER = 32, 16
# measured (Linux x86_64, 1 and 2 workers): 250-400 MiB failed at random, 500 and 800 MiB started
# 10 times of 10
LOCAL_AS = 512 * 2**20
# what Dask's TCP comm can reach
ADDRESS = re.compile(r"(tcp|tls)://[^\s:/]+:\d{1,5}|[^\s:/]+:\d{1,5}")


@contextlib.contextmanager
def connect(workers=None, scheduler=None):
    """A distributed Client of a fresh local cluster (`workers` processes) or a running `scheduler`.

    None for neither. Bad options, a missing extra or an unreachable scheduler raise UserError
    before anything starts."""
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise UserError("--workers and --scheduler contradict each other: choose one")
    option = f"--workers {workers}" if scheduler is None else f"--scheduler {scheduler}"
    cores = os.cpu_count() or 1
    if workers is not None and not 1 <= int(workers) <= cores:
        raise UserError(f"{option}: must be 1 to {cores}, this machine's cores (a worker times on "
                        "a core of its own; more would time each other's waits)")
    if workers is not None:
        _check_open_files(int(workers), option)
        _check_address_space(option)
    if scheduler is not None and not ADDRESS.fullmatch(str(scheduler)):
        raise UserError(f"--scheduler {scheduler}: not a scheduler's TCP address (tcp://host:port, "
                        "tls://host:port or host:port)")
    try:
        import distributed
    except ImportError:
        raise UserError(f"{option} needs Dask's distributed, the cluster extra: {EXTRA}") from None
    with _quiet():
        if scheduler is None:
            before = _ours()
            cluster, client = _local(distributed, int(workers), option, before)
        else:
            cluster, client = None, _client(distributed, scheduler)
        try:
            yield client
        finally:
            try:
                client.close()
                if cluster is not None:
                    cluster.close()
            except BaseException:  # a signal while closing: the workers go at once
                if cluster is not None:
                    _abandon(*before)
                raise


def _check_open_files(workers, option):
    """Refuse a local cluster that would run out of file descriptors (RLIMIT_NOFILE, which its
    workers inherit): its scheduler then spins on accept's EMFILE, and the start never ends."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = FILES_BASE + FILES_PER_WORKER * workers
    if soft != resource.RLIM_INFINITY and soft < need:
        raise UserError(f"{option}: a local cluster of {workers} needs {need} open files, and "
                        f"the limit (ulimit -n) is {soft}: raise it or use fewer workers")


def _check_address_space(option):
    """Refuse a local cluster under an address-space limit (RLIMIT_AS, which its workers inherit)
    below LOCAL_AS: there its start fails at random, some ways past our reach (a worker's fatal
    stack overflow printed from C, a thread of Dask's that never starts and a start that never
    ends)."""
    limit = limits.address_space()
    if limit is not None and limit < LOCAL_AS:
        raise UserError(f"{option}: a local Dask cluster needs an address space of "
                        f"{LOCAL_AS / 2**20:.0f} MiB, and the limit (ulimit -v) is "
                        f"{limit / 2**20:.0f} MiB: raise it or sweep without --workers")


class Executor:
    """Series on a Dask cluster, one task each, sent as workers free up; rows written as tasks end.

    While no worker can take a series (none joined, or the last one died) it waits `worker_wait`
    seconds, then stops with the rows so far; a scheduler that goes away stops it too. Either way
    one line says what happened, and `--resume` finishes the sweep."""

    def __init__(self, client, blas_threads, worker_wait=WORKER_WAIT_S, option="--workers"):
        self.client, self.blas_threads = client, blas_threads
        self.worker_wait, self.option = worker_wait, option
        self.sweep = uuid.uuid4().hex  # names this sweep's tasks, and its children on the workers

    def run(self, series_list, setting, write, show):
        import distributed  # optional (the cluster extra): imported only where a cluster runs

        queue, pending, done = deque(series_list), {}, 0
        try:
            idle_since = None
            while queue or pending:
                # False while reconnecting to a scheduler that went away
                connected = self.client.status == "running"
                capacity = _capacity(self.client) if connected else 0
                idle_since = None if capacity else idle_since or time.monotonic()
                if idle_since is not None and time.monotonic() - idle_since > self.worker_wait:
                    raise UserError(self._gave_up(connected))
                while queue and len(pending) < capacity:
                    points, ops = queue.popleft()
                    pending[self._submit(points, ops, setting)] = (points, ops)
                    show(done, f"sent {len(points)} points on {_where(points)}; "
                               f"{len(pending)} of {capacity} workers busy", None)
                for future in self._ended(distributed, pending):
                    points, ops = pending.pop(future)
                    for i, columns in _rows_back(future, points, setting):
                        write(points[i], ops[i], columns)
                    done += len(points)
                    show(done, f"back: {len(points)} points on {_where(points)}", None)
        except (OSError, distributed.comm.CommClosedError) as e:  # TimeoutError is an OSError
            raise UserError(f"{self.option}: lost the Dask scheduler ({type(e).__name__}: "
                            f"{_first_line(e)}); the rows so far are written: "
                            "rerun with --resume") from None
        finally:
            # Ctrl-C, SIGTERM or a failure here: nothing of this sweep goes on running
            if pending:
                # a scheduler that is gone has nothing left to stop
                with contextlib.suppress(Exception):
                    self.client.run(stop, self.sweep, on_error="ignore")
                    self.client.cancel(list(pending), force=True)

    def _ended(self, distributed, pending):
        """The tasks that ended within POLL_S (none: after POLL_S)."""
        if not pending:
            time.sleep(POLL_S)
            return []
        try:
            return distributed.wait(list(pending), timeout=POLL_S,
                                    return_when="FIRST_COMPLETED").done
        except TimeoutError:  # none ended meanwhile
            return []
        except Exception as e:  # FuturesCancelledError: the client lost the scheduler and its tasks
            raise UserError(f"{self.option}: lost the Dask scheduler mid-sweep "
                            f"({type(e).__name__}); the rows so far are written: "
                            "start it again and rerun with --resume") from None

    def _gave_up(self, connected):
        why = ("no worker that can take a series" if connected
               else f"no answer from the Dask scheduler (its client is {self.client.status})")
        return (f"{self.option}: {why} for {self.worker_wait:g} s; the rows so far are written: "
                f"start workers (dask worker ADDRESS --nthreads 1 --resources {RESOURCE}=1) "
                "or the scheduler again and rerun with --resume, or wait longer with --worker-wait")

    def _submit(self, points, ops, setting):
        budget = copy.deepcopy(setting.budget)  # as it is now: Dask may serialize it later
        key = f"gradbench-series-{points[0].slug}-{self.sweep}"
        return self.client.submit(run_series, self.sweep, points, ops, budget, self.blas_threads,
                                  setting.out_name, setting.seed, resources={RESOURCE: 1},
                                  pure=False, key=key)


def _where(points):
    return f"{points[0].backend} {points[0].device} {points[0].dtype}"


def run_series(sweep, points, ops, budget, blas_threads, out_name, seed):
    """On a cluster worker: time one series as the sequential sweep does (bench.sweep.series), and
    hand back its rows, its pyperf suites as text and the budget's measurements. This worker
    writes nothing of the sweep's: the `gradbench sweep` process is the one writer."""
    env = launcher.child_env(blas_threads)  # this process starts the child: it dies with it
    env_columns = {**launcher.environment(blas_threads), "hostname": platform.node()}
    rows = []
    with launcher.RUNNING.of(sweep), tempfile.TemporaryDirectory(prefix="gradbench-series-") as tmp:
        setting = series.Setting(budget, env, Path(tmp), out_name, seed)
        series.run(points, ops, setting,
                   lambda i, columns: rows.append((i, {**env_columns, **columns})))
        files = {p.name: p.read_text() for p in Path(tmp).glob("*.json")}
    return {"rows": rows, "files": files, "budget": budget.measured}


def stop(sweep):
    """On every worker (Client.run) when a sweep stops: kill its running children, start no more."""
    return launcher.RUNNING.stop(sweep)


def _rows_back(future, points, setting):
    """(index, columns) of a series whose task is over: measured (its JSON written first), or
    `error` with why not."""
    from distributed import KilledWorker  # optional, as in Executor.run

    try:
        result = future.result()
    except KilledWorker as e:
        reason = (f"the series killed {e.allowed_failures + 1} workers, the last "
                  f"{getattr(e.last_worker, 'address', '')} "
                  f"(distributed.scheduler.allowed-failures {e.allowed_failures})")
        return [(i, {"status": "error", "reason": reason}) for i in range(len(points))]
    except Exception as e:  # the task raised: the worker's installation, most likely
        reason = f"the series' task failed on its worker: {type(e).__name__}: {_first_line(e)}"
        return [(i, {"status": "error", "reason": reason}) for i in range(len(points))]
    setting.budget.merge(result["budget"])
    for name, text in result["files"].items():
        write_text(setting.json_dir / name, text)
    return result["rows"]


def _local(distributed, workers, option, before):
    """A local cluster of `workers` single-threaded processes and its Client; UserError if it
    cannot start.

    Made in a thread that blocks SIGINT, which every thread and worker process it starts
    inherits: a terminal's Ctrl-C reaches the whole process group, and a worker still importing
    would print its traceback. This thread takes the signal (SIGTERM and SIGHUP too) and
    abandons the half-made cluster."""
    made = {}

    def make():
        try:  # the scheduler lives in this process, the workers are its children; loopback only
            made["cluster"] = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, resources={RESOURCE: 1},
                host="127.0.0.1", dashboard_address="127.0.0.1:0",  # HTTP endpoints only, no 8787
                silence_logs=logging.ERROR)
            made["client"] = distributed.Client(made["cluster"])
            made["client"].register_plugin(_local_worker_plugin(distributed))
        except Exception as e:  # a bad Dask configuration, too few file descriptors, no loopback
            made["error"] = e
            for part in ("client", "cluster"):
                with contextlib.suppress(Exception):
                    made.pop(part).close()

    thread = threading.Thread(target=make, name="gradbench local cluster", daemon=True)
    _start_resource_tracker()  # here: starting it, multiprocessing unblocks SIGINT in its thread
    deadline = time.monotonic() + LOCAL_START_S
    try:
        with _blocked(signal.SIGINT):
            thread.start()
        while thread.is_alive() and time.monotonic() < deadline:
            thread.join(POLL_S)
    except BaseException:  # Ctrl-C, SIGTERM or SIGHUP while it starts
        _abandon(*before)
        raise
    if thread.is_alive():  # e.g. a thread of Dask's whose start failed under ulimit -v: Python
        _abandon(*before)  # waits for it forever
        raise UserError(f"{option}: the local Dask cluster did not start in {LOCAL_START_S:g} s"
                        f"{limits.note()}")
    if "error" in made:
        e = made["error"]
        _abandon(*before)
        raise UserError(f"{option}: the local Dask cluster could not start ({type(e).__name__}: "
                        f"{_first_line(e)}){limits.note()}") from None
    return made["cluster"], made["client"]


@contextlib.contextmanager
def _blocked(signum):
    """`signum` blocked in this thread, so in the threads started meanwhile and their processes."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: nothing inherits a mask
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signum})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})


def _start_resource_tracker():
    """multiprocessing's resource tracker, which the workers share, running. It ignores SIGINT and
    SIGTERM; SIGHUP, sent to the group when the terminal closes, it inherits blocked: one started
    again would not know the semaphores the first one held, and print a traceback for each. Its
    warnings are off: after a stop it unlinks the semaphores of killed workers, and says so."""
    warnings = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"  # read by the tracker's Python as it starts
    try:  # not POSIX: no tracker; an error: Dask's own start says more
        with contextlib.suppress(ImportError, OSError), _blocked(signal.SIGHUP):
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
    finally:
        if warnings is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = warnings


def _ours():
    """This process's worker processes and clusters now: what a cluster started later adds."""
    from distributed.deploy.spec import SpecCluster

    return set(multiprocessing.active_children()), set(SpecCluster._instances)


def _abandon(children, clusters):
    """Kill the worker processes of a cluster that did not finish starting, and leave it
    unclosed: its close at exit (distributed's atexit hook) fails on workers that never started.

    Its nannies are first told to let a dead worker go: one whose worker had started would start
    another, whose spawn fails with this process's exit (a traceback for each). A process whose
    spawn was under way shows up late: looked for again until none is new for SETTLE_S."""
    from distributed.deploy.spec import SpecCluster

    for cluster in set(SpecCluster._instances) - clusters:
        SpecCluster._instances.discard(cluster)
        # _created: every nanny made so far; workers: those that finished starting
        for nanny in {*getattr(cluster, "_created", ()), *getattr(cluster, "workers", {}).values()}:
            with contextlib.suppress(Exception):
                nanny.close_gracefully()
    quiet_since = time.monotonic()
    deadline = quiet_since + 10 * SETTLE_S
    while time.monotonic() - quiet_since < SETTLE_S and time.monotonic() < deadline:
        if alive := set(multiprocessing.active_children()) - children:
            quiet_since = time.monotonic()
        for child in alive:
            with contextlib.suppress(Exception):
                child.kill()
                child.join(5)
        time.sleep(SETTLE_S / 5)


def _client(distributed, scheduler):
    """A Client of a running scheduler whose workers (if any have joined) can take a series.

    Made in a thread with a deadline: a TCP server that is not a Dask scheduler can keep the
    handshake waiting for ever, whatever Client's own timeout says."""
    made = {}

    def make():
        try:
            made["client"] = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except BaseException as e:  # reported below, in the sweep's thread
            made["error"] = (isinstance(e, MemoryError), _first_line(e))
        # the half-made Client, held by the error's frames, is freed here: freed by the garbage
        # collector inside the next Client's start, its close waits on a lock that start holds
        gc.collect()

    thread = threading.Thread(target=make, daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S + CONNECT_GRACE_S)
    if thread.is_alive():
        raise UserError(f"--scheduler {scheduler}: no Dask scheduler answered within "
                        f"{CONNECT_TIMEOUT_S:g} s (something listens there, but not a Dask "
                        "scheduler, or it is stuck)")
    if "error" in made:
        memory, first_line = made["error"]
        why = "it answered, but not as a Dask scheduler" if memory else first_line
        raise UserError(f"--scheduler {scheduler}: cannot connect ({why})") from None
    client = made["client"]
    workers = client.scheduler_info()["workers"]
    if workers and not _capacity(client):
        client.close()
        raise UserError(f"--scheduler {scheduler}: none of its {len(workers)} workers has the "
                        f"resource {RESOURCE}; start them with: "
                        f"dask worker {scheduler} --nthreads 1 --resources {RESOURCE}=1")
    return client


def _local_worker_plugin(distributed):
    """A worker plugin for the local cluster's workers: they ignore SIGINT, since a terminal's
    Ctrl-C reaches them too (they share this process's group) and this process stops them itself;
    and they close quietly."""

    class LocalWorker(distributed.WorkerPlugin):  # defined here: distributed is optional
        def setup(self, worker):
            if threading.current_thread() is threading.main_thread():  # a worker process's own loop
                signal.signal(signal.SIGINT, signal.SIG_IGN)

        def teardown(self, worker):
            # closing with the cluster, a worker may lose the scheduler mid-heartbeat:
            # noise, not an error
            logging.getLogger("distributed").setLevel(logging.CRITICAL)

    return LocalWorker()


@contextlib.contextmanager
def _quiet():
    """Dask's log off the terminal while a sweep uses it: the progress line and the one-line errors
    are ours, and say what happened (a lost scheduler, a killed worker) in the sweep's words. Every
    distributed.* logger (Dask's configuration gives several a level of their own), and those of
    the event loop it runs on (asyncio's "Future exception was never retrieved" for a message to a
    worker that a signal killed)."""
    roots = ("distributed", "asyncio", "tornado")
    loggers = [logging.getLogger(name) for name in roots] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
        if name.startswith(tuple(f"{root}." for root in roots))]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _capacity(client):
    """How many series the cluster runs at once: its workers holding the resource."""
    workers = client.scheduler_info()["workers"].values()
    return sum(RESOURCE in w.get("resources", {}) for w in workers)


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
