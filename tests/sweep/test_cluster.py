"""gradbench sweep on a Dask cluster (--workers, --scheduler): the sequential sweep's rows, one
writer, a worker killed mid-series, Ctrl-C and SIGTERM with no process left behind, the budget, and
the options' errors.

A series is all the points of one placement: the sweeps here that need two series run two dtypes."""

import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import distributed
import psutil
import pyperf
import pytest
from helpers import rows_of

import bench.sweep.cluster as cluster
from bench.errors import UserError
from bench.schema import POINT_KEY
from bench.sweep.budget import PROFILES
from bench.sweep.points import Point
from bench.sweep.results_file import HEADER, format_row

QUICK = ["--profile", "quick"]
TWO_SERIES = ["--dtype", "float64,float32"]  # two placements: a series each
CHILD = "bench.sweep.child"  # in the command line of every process that times a series


def sweep_process(*args, **popen):
    """`gradbench sweep ARGS` as a child process, for signals and kills."""
    return subprocess.Popen([sys.executable, "-m", "bench.cli", "sweep", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def keys(rows):
    return [tuple(r[k] for k in POINT_KEY) for r in rows]


def point_processes(procs):
    """Those of `procs` that time a series (bench.sweep.child), and are still alive."""
    found = []
    for p in procs:
        with suppress(psutil.Error):
            if (p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                    and CHILD in " ".join(p.cmdline())):
                found.append(p)
    return found


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


# --- a real scheduler and two workers, separate processes on loopback ---------------------------


class DaskProcesses:
    """`dask scheduler` and `dask worker`s started for these tests (module scope), each in its own
    session."""

    def __init__(self, folder, workers=2):
        self.folder, self.procs = folder, []
        # a series may kill one worker and be run again; the second kill makes it `error` rows
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
        file = folder / "scheduler.json"
        common = ["--no-dashboard", "--host", "127.0.0.1", "--scheduler-file", str(file)]
        self._start("scheduler", ["--port", "0", *common], env)
        wait_until(lambda: file.exists() and file.stat().st_size > 0, 60, "the scheduler's file")
        self.address = json.loads(file.read_text())["address"]
        worker_args = ["--nthreads", "1", "--resources", "bench=1", *common]
        self.nannies = [self._start(f"worker{i}", worker_args, env) for i in range(workers)]
        self.ready()

    def _start(self, name, args, env):
        module = ("distributed.cli.dask_scheduler" if name == "scheduler"
                  else "distributed.cli.dask_worker")
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append((proc, log))
        return psutil.Process(proc.pid)

    def ready(self):
        """Wait until every worker is up (a killed one is restarted by its nanny)."""
        if self.nannies:
            with distributed.Client(self.address, timeout=30) as client:
                client.wait_for_workers(len(self.nannies), timeout=60)

    def running_points(self):
        """The series' child processes running under the workers."""
        return point_processes([p for nanny in self.nannies
                                for p in nanny.children(recursive=True)])

    def busy_workers(self):
        """The worker processes running a series: parents of a series' child that are not one
        themselves."""
        points = self.running_points()
        return list({p.parent() for p in points} - set(points) - {None})

    def close(self):
        for proc, _ in self.procs:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()


@pytest.fixture(scope="module")
def dask(tmp_path_factory):
    processes = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        yield processes
    finally:
        processes.close()


# --- a series' child dies with the process that started it ----------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_series_child_dies_with_the_process_that_started_it(tmp_path):
    # a stand-in for a cluster worker killed outright during a series (the default profile: seconds)
    code = ("import time; from bench.sweep import launcher; "
            "from bench.sweep.budget import PROFILES; "
            "from bench.sweep.points import Point; "
            "points = [Point('backprop', d, 2, 2, 1).__dict__ for d in range(1, 9)]; "
            "launcher.Child({'points': points, 'ops': [1] * 8, "
            "'profile': PROFILES['default'].__dict__, "
            "'max_seconds': 60.0, 'budget': [], 'seed': 0}, launcher.child_env(1)); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code])
    started = psutil.Process(parent.pid)
    wait_until(lambda: parent.poll() is not None
               or point_processes(started.children(recursive=True)), 60, "the series' child")
    # the group leader of its own session
    doomed = point_processes(started.children(recursive=True))
    assert doomed
    parent.kill()  # SIGKILL: it kills nothing itself
    parent.wait()
    _, alive = psutil.wait_procs(doomed, timeout=10)
    assert alive == []


# --- the options' errors, before any file is touched ----------------------------------------------


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, fragment", [
    (["--workers", "0"], "--workers 0: must be 1 to"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
     "--workers and --scheduler contradict"),
    (["--workers", "100000"], "--workers 100000: must be 1 to"),
    (["--scheduler", "nonsense"], "--scheduler nonsense: not a scheduler's TCP address"),
    (["--scheduler", "tcp://127.0.0.1:{port}"],
     "--scheduler tcp://127.0.0.1:{port}: cannot connect"),
    *[(["--scheduler", odd], f"--scheduler {odd}: not a scheduler's TCP address")
      for odd in ("ws://127.0.0.1:1", "ucx://127.0.0.1:1", "inproc://x", "tcp://:")],
    (["--worker-wait", "0", "--workers", "1"], "--worker-wait 0.0: must be a positive number"),
])
def test_bad_cluster_options_exit_2_with_one_line_and_no_file(tmp_path, gradbench, monkeypatch,
                                                              args, fragment):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    port = closed_port()
    out = tmp_path / "r.csv"
    options = [a.format(port=port) for a in args]
    code, stdout, stderr = gradbench("sweep", *options, "--out", str(out))
    assert code == 2 and stdout == ""
    assert stderr.startswith("gradbench: error: ") and stderr.count("\n") == 1
    assert fragment.format(port=port) in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_tcp_server_that_is_not_a_scheduler_is_one_line_within_the_deadline(tmp_path, gradbench,
                                                                              monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(cluster, "CONNECT_GRACE_S", 0.2)  # Dask's own verdict never comes here
    with socket.socket() as server:  # accepts, and never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        code, _, stderr = gradbench("sweep", "--scheduler", address,
                                    "--out", str(tmp_path / "r.csv"))
    assert code == 2 and stderr.count("\n") == 1
    assert f"--scheduler {address}: no Dask scheduler answered within 0.5 s" in stderr


def test_a_scheduler_without_workers_stops_after_the_wait_with_one_line(tmp_path, gradbench):
    """A real scheduler that no worker joins: the sweep gives up after --worker-wait, says how to go
    on."""
    (tmp_path / "d").mkdir()
    lonely = DaskProcesses(tmp_path / "d", workers=0)
    try:
        code, _, stderr = gradbench("sweep", "--depth", "1", "--width", "2", "--methods",
                                    "backprop", *QUICK, "--scheduler", lonely.address,
                                    "--worker-wait", "0.5", "--out", tmp_path / "r.csv")
    finally:
        lonely.close()
    assert code == 2
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"gradbench: error: --scheduler {lonely.address}: "
                           "no worker that can take a series for 0.5 s")
    assert "--resume" in last and "--worker-wait" in last


def test_a_cluster_without_the_extra_is_one_line_naming_it(tmp_path, gradbench, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    code, _, stderr = gradbench("sweep", "--workers", "2", "--out", str(tmp_path / "r.csv"))
    assert code == 2 and stderr.count("\n") == 1
    assert "--workers 2 needs Dask's distributed" in stderr
    assert "pip install 'gradbench[cluster]'" in stderr
    assert list(tmp_path.iterdir()) == []


# --- local workers ------------------------------------------------------------------------------


def test_workers_sweep_gives_the_sequential_sweeps_points_and_checks(tmp_path, gradbench):
    # one per worker
    ranges = ["--depth", "1,2", "--width", "8", "--methods", "naive,backprop", *TWO_SERIES, *QUICK]
    code, stdout, stderr = gradbench("sweep", *ranges, "--workers", "2", "--out",
                                     str(tmp_path / "c.csv"), "--progress")
    assert code == 0, stderr
    assert "of 2 workers busy" in stderr
    assert gradbench("sweep", *ranges, "--out", str(tmp_path / "s.csv"))[0] == 0
    on_cluster, sequential = rows_of(tmp_path / "c.csv"), rows_of(tmp_path / "s.csv")
    assert sorted(keys(on_cluster)) == sorted(keys(sequential)) and len(set(keys(on_cluster))) == 8
    checked = ["ops", "params", "nodes", "agree", "max_rel_err", "status", "n_values"]
    by_key = {k: r for k, r in zip(keys(sequential), sequential)}
    for k, row in zip(keys(on_cluster), on_cluster):
        assert [row[c] for c in checked] == [by_key[k][c] for c in checked], k
        assert row["hostname"] == socket.gethostname() and row["cpu"] == by_key[k]["cpu"]
        assert float(row["time_min_s"]) <= float(row["time_s"]) <= float(row["time_median_s"]) \
            <= float(row["time_max_s"])
        # the suite the worker sent back, written here: the point's rounds
        suite = pyperf.BenchmarkSuite.load(str(tmp_path / row["pyperf_json"]))
        benchmark = suite.get_benchmark(Point.from_row(row).slug)
        assert benchmark.get_nvalue() == PROFILES["quick"].rounds
    # a series per placement, its points timed in the same rounds
    for dtype in ("float64", "float32"):
        assert len({r["series"] for r in on_cluster if r["dtype"] == dtype}) == 1
    assert len({r["series"] for r in on_cluster}) == 2


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_ctrl_c_of_a_workers_sweep_leaves_complete_rows_and_no_process_and_resumes(
        tmp_path, gradbench, dask):
    out = tmp_path / "r.csv"
    # two series of seconds on one worker, one after the other: Ctrl-C when the first is back and
    # the other runs
    ranges = ["--depth", "1:8", "--width", "3", "--methods", "backprop", *TWO_SERIES, "--out",
              str(out), "--profile", "default"]
    # a session of its own: Ctrl-C at a terminal signals the whole group, the local workers too
    proc = sweep_process(*ranges, "--workers", "1", start_new_session=True)
    sweep = psutil.Process(proc.pid)
    wait_until(lambda: proc.poll() is not None
               or (out.exists() and out.read_text().count("\n") >= 2
                   and point_processes(sweep.children(recursive=True))),
               120, "a series back and another running")
    # local workers, series' children, multiprocessing's tracker
    left_behind = sweep.children(recursive=True)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    _, alive = psutil.wait_procs(left_behind, timeout=10)
    assert alive == []
    partial = rows_of(out)
    # the first series, whole
    assert len(partial) == 8 and all(r["status"] == "ok" for r in partial)
    dask.ready()
    code, _, stderr = gradbench("sweep", *ranges, "--scheduler", dask.address, "--resume", *QUICK)
    assert code == 0, stderr
    rows = rows_of(out)
    assert len(rows) == 16 and len(set(keys(rows))) == 16 and all(r["status"] == "ok" for r in rows)
    assert keys(rows[: len(partial)]) == keys(partial)


def test_a_local_cluster_that_does_not_start_in_time_is_one_line(monkeypatch):
    # under ulimit -v a thread of Dask's could start and never run: Python waits for it forever
    release = threading.Event()

    def never_starts(*args, **kwargs):
        release.wait(60)
        raise RuntimeError("released")

    monkeypatch.setattr(distributed, "LocalCluster", never_starts)
    monkeypatch.setattr(cluster, "LOCAL_START_S", 0.3)
    started = time.monotonic()
    try:
        with pytest.raises(UserError, match=r"^--workers 1: the local Dask cluster did not start "
                                            r"in 0\.3 s$"), cluster.connect(workers=1):
            pass
    finally:
        release.set()
    assert time.monotonic() - started < 5


def test_dask_and_its_event_loop_log_nothing_while_a_sweep_uses_them(caplog):
    # asyncio's "Future exception was never retrieved", for a message to a worker that SIGTERM
    # killed, came before the sweep's line (the property test's find)
    names = ("distributed.scheduler", "asyncio", "tornado.application")
    with cluster._quiet():
        for name in names:
            logging.getLogger(name).error("while the sweep runs")
    for name in names:
        logging.getLogger(name).error("after")
    said = [(r.name, r.getMessage()) for r in caplog.records]
    assert said == [(name, "after") for name in names]


def _spawned_child(seconds):
    time.sleep(seconds)


def test_an_abandoned_cluster_starts_no_worker_again_and_its_late_ones_are_killed():
    # a signal while the cluster starts: a nanny whose worker had started would start another
    # when it is killed, and a spawn under way shows up after the first look; each, not killed,
    # printed a traceback as this process exited (the property test's find: SIGHUP, 2 workers)
    class Nanny:
        gracefully = False

        def close_gracefully(self):
            self.gracefully = True

    class Half:  # a SpecCluster as a start interrupted early leaves it: no scheduler, no loop
        def __init__(self):
            self._created, self.workers = {Nanny()}, {"0": Nanny()}

    before = cluster._ours()
    half = Half()
    distributed.deploy.spec.SpecCluster._instances.add(half)
    spawn = multiprocessing.get_context("spawn")
    early = spawn.Process(target=_spawned_child, args=(60,))
    early.start()
    late = []
    timer = threading.Timer(cluster.SETTLE_S / 2, lambda: late.append(
        spawn.Process(target=_spawned_child, args=(60,))) or late[0].start())
    timer.start()
    cluster._abandon(*before)
    timer.join()
    assert all(n.gracefully for n in [*half._created, *half.workers.values()])
    assert half not in distributed.deploy.spec.SpecCluster._instances
    assert not early.is_alive() and late and not late[0].is_alive()
    assert set(multiprocessing.active_children()) == before[0]


# --- a scheduler and workers of their own ---------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_a_worker_killed_mid_series_has_its_series_run_again_elsewhere(tmp_path, dask):
    dask.ready()
    out = tmp_path / "r.csv"
    # one series of seconds: the worker is killed during it, and it is run again in full
    proc = sweep_process("--depth", "1:4", "--width", "4", "--methods", "backprop", "--scheduler",
                         dask.address, "--out", str(out), "--profile", "default")
    wait_until(lambda: proc.poll() is not None or dask.busy_workers(), 120,
               "a series running on a worker")
    worker = dask.busy_workers()[0]
    orphans = worker.children(recursive=True)
    assert point_processes(orphans)
    worker.kill()  # SIGKILL: no clean-up of its own
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    _, alive = psutil.wait_procs(orphans, timeout=10)  # the subprocesses died with their worker
    assert alive == []
    rows = rows_of(out)
    assert sorted(keys(rows)) == sorted(set(keys(rows))) and len(rows) == 4
    assert [r["status"] for r in rows] == ["ok"] * 4
    # the second attempt's rounds, none of the lost one's
    assert len({r["series"] for r in rows}) == 1
    assert dask.running_points() == []


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_sigterm_kills_the_running_series_on_workers_that_stay(tmp_path, dask):
    dask.ready()
    out = tmp_path / "r.csv"
    # the default profile: two series of seconds, which the stop must cut short on the workers
    proc = sweep_process("--depth", "1:8", "--width", "2", "--methods", "backprop", *TWO_SERIES,
                         "--scheduler", dask.address, "--out", str(out), "--profile", "default")
    wait_until(lambda: proc.poll() is not None or len(dask.running_points()) >= 2, 120,
               "two series running")
    running = dask.running_points()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    _, alive = psutil.wait_procs(running, timeout=10)
    assert alive == [] and dask.running_points() == []
    assert out.read_text() == HEADER  # no series came back: no row


def test_a_point_predicted_over_budget_by_a_resumed_row_is_skipped_on_the_cluster(
        tmp_path, gradbench, dask, result_row):
    dask.ready()
    out = tmp_path / "r.csv"
    args = ["--depth", "1,2", "--width", "8", "--methods", "naive", "--scheduler", dask.address,
            "--out", str(out)]
    # a resumed point that took 1 s: the next, deeper one is predicted over the budget
    one_second = dict(time_median_s=1.0, time_mean_s=1.0, time_stdev_s=0.0, time_min_s=1.0,
                      time_max_s=1.0)
    resumed = result_row("naive", 1, 8, **one_second)
    out.write_text(HEADER + format_row(resumed))
    # the series' budget goes with it to the worker
    code, stdout, stderr = gradbench("sweep", *args, "--max-seconds", "20", "--resume", *QUICK)
    assert code == 0, stderr
    skipped = rows_of(out)[1]
    assert skipped["depth"] == "2" and skipped["status"] == "skipped"
    assert "> --max-seconds 20 (" in skipped["reason"] and "of naive depth=1" in skipped["reason"]


def test_a_series_that_kills_its_workers_becomes_error_rows(tmp_path, gradbench, monkeypatch, dask):
    dask.ready()

    def die(*args):  # nested: Dask sends it by value, so the workers need not import this file
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(cluster, "run_series", die)
    out = tmp_path / "r.csv"
    code, stdout, stderr = gradbench("sweep", "--depth", "1", "--width", "2", "--methods",
                                     "naive,backprop", "--scheduler", dask.address, "--out",
                                     str(out), *QUICK)
    assert code == 0, stderr
    rows = rows_of(out)
    assert [r["status"] for r in rows] == ["error", "error"]
    assert all("the series killed 2 workers" in r["reason"] for r in rows)
    assert "allowed-failures 1" in rows[0]["reason"]
    dask.ready()  # their nannies start them again


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_a_scheduler_killed_mid_sweep_is_one_line_and_the_rows_so_far(tmp_path, gradbench,
                                                                      monkeypatch):
    # the sweep in this process, so that the client gives up reconnecting after 1 s, not Dask's 10
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    (tmp_path / "d").mkdir()
    doomed = DaskProcesses(tmp_path / "d", workers=1)
    out = tmp_path / "r.csv"

    def kill_the_scheduler():  # once a series runs; the sweep is this process's main thread
        wait_until(lambda: doomed.busy_workers(), 120, "a series running")
        os.killpg(doomed.procs[0][0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_the_scheduler, daemon=True)
    try:
        killer.start()
        code, _, stderr = gradbench("sweep", "--depth", "1:4", "--width", "4", "--methods",
                                    "backprop", "--profile", "default", "--scheduler",
                                    doomed.address, "--worker-wait", "2", "--out", out)
        killer.join(10)
    finally:
        doomed.close()
    assert not killer.is_alive()
    assert code == 2 and "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"gradbench: error: --scheduler {doomed.address}: ")
    assert "--resume" in stderr
    assert rows_of(out) == []  # the series never came back: nothing partial


def test_a_failed_connection_leaves_no_client_for_the_garbage_collector(monkeypatch):
    """A half-made Client freed by the collector inside the next Client's start deadlocks it
    (its close waits on the lock that start holds): every later --scheduler in the process hung."""
    import gc

    import distributed

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.2)
    gc.disable()  # only what the connection itself frees
    try:
        with pytest.raises(UserError, match="cannot connect"):
            cluster._client(distributed, f"tcp://127.0.0.1:{closed_port()}")
        assert not [o for o in gc.get_objects() if isinstance(o, distributed.Client)]
    finally:
        gc.enable()
