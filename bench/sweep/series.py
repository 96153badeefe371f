"""One series, the sweep's unit of work: its points timed in interleaved rounds by child processes
(bench.sweep.child, the profile's processes one after another), each point's row made as soon as
it has its rounds.

A series is every point of a sweep at one placement (backend, device, dtype): in a sweep of one
variable, what one fit is drawn from. Its rounds stream in block by block, so the parent knows
which point runs: one that runs a block or a check over --max-seconds is killed (`timeout`), one
whose child dies is `error`, and a new run takes up the points left (they share no round with
those before it, so each run writes its own pyperf suite and `series` name).

A point's row holds its time and interval (bench.rounds), its time over backprop's on the same
network from the same rounds, and its local exponent from the point before it along the sweep's
variable, same method, same rounds.
"""

import secrets
import statistics
import time

import numpy as np

import gradients
from bench import rounds
from bench.output import write_atomic
from bench.results import VARIABLES
from bench.schema import TIME_RANGE
from bench.sweep import launcher
from bench.sweep.budget import STARTUP_S


class Setting:
    """What a sweep's series share: profile, budget, the child's environment, where JSON goes."""

    def __init__(self, budget, env, json_dir, out_name, seed=0):
        self.budget, self.env, self.json_dir = budget, env, json_dir
        self.out_name, self.seed = out_name, seed

    @property
    def profile(self):
        return self.budget.profile


def variable(points):
    """The one of depth, width, batch the points vary along; None for one point or several."""
    varying = [v for v in VARIABLES if len({getattr(p, v) for p in points}) > 1]
    return varying[0] if len(varying) == 1 else None


class _Run:
    """One run of a series: the points its child processes time and what has come back of each."""

    def __init__(self, points, ops, setting, var):
        self.points, self.ops, self.setting, self.var = points, ops, setting, var
        stamp = time.strftime("%Y%m%dT%H%M%S")
        self.name = f"{points[0].placement.slug}-{stamp}-{secrets.token_hex(3)}"
        self.check = {}  # index -> the check's event
        self.values = {i: [] for i in range(len(points))}  # index -> seconds per call, each round's
        self.processes = {i: [] for i in range(len(points))}  # index -> the process of each value
        self.process = 0  # the child process timing now: 0, then the profile's later ones
        self.finished = {}  # index -> pyperf Benchmark of a point with its rounds
        self.unwritten = False  # a benchmark not yet in the suite on disk
        self.done = set()  # indices with a row
        self.running = None  # the index whose check or block runs now
        self.order = []
        self.metadata = None
        self.progress = lambda label: None

    def neighbours(self, i):
        """The indices whose rounds point i is compared with: (backprop on its network, the point
        before it along the variable), each None where the run has none."""
        p = self.points[i]
        same_shape = [j for j, q in enumerate(self.points)
                      if q.method == "backprop" and q.key()[1:] == p.key()[1:]]
        before = None
        if self.var:
            smaller = [j for j, q in enumerate(self.points)
                       if q.method == p.method and getattr(q, self.var) < getattr(p, self.var)]
            before = max(smaller, key=lambda j: getattr(self.points[j], self.var), default=None)
        return (same_shape or [None])[0], before

    def columns(self, i):
        """The timing columns of a point with its rounds."""
        v = self.values[i]
        t, lo, hi = rounds.point_time(v)
        row = {"time_s": t, "time_lo_s": lo, "time_hi_s": hi, "time_median_s": float(np.median(v)),
               "time_mean_s": statistics.fmean(v),
               "time_stdev_s": statistics.stdev(v) if len(v) > 1 else 0.0, "time_min_s": min(v),
               "time_max_s": max(v), "n_values": len(v), "loops": self.check[i]["loops"]}
        backprop, before = self.neighbours(i)
        p = self.points[i]
        compared = p.method != "backprop" and gradients.record(p.method, strict=False).is_gradient
        if backprop is not None and compared and len(self.values[backprop]) >= 2:
            row["time_vs_backprop"] = rounds.ratio(v, self.values[backprop])[0]
        if before is not None and len(self.values[before]) >= 2:
            q = self.points[before]
            k, k_lo, k_hi = rounds.local_exponent(getattr(q, self.var), self.values[before],
                                                  getattr(p, self.var), v)
            row.update(local_k=k, local_k_lo=k_lo, local_k_hi=k_hi)
        return row

    def wanted(self, i):
        """The values point i needs: its rounds in every process."""
        return self.check[i]["rounds"] * self.setting.profile.processes

    def live(self):
        """{index: [loops, rounds]} of the points checked and still being timed."""
        return {str(i): [c["loops"], c["rounds"]]
                for i, c in self.check.items() if i not in self.done}

    def benchmark(self, i):
        """The point's pyperf benchmark: a run per process, its values the rounds, in order."""
        # here: the command line imports this module for its defaults, and needs no pyperf
        import pyperf

        if self.metadata is None:  # pyperf's view of this machine, once
            self.metadata = pyperf.Run([1.0], metadata={"name": "x"}).get_metadata()
        meta = {**self.metadata, "name": self.points[i].slug, "loops": self.check[i]["loops"],
                "description": f"{self.points[i].label}; values in round order"}
        runs = [[v for v, p in zip(self.values[i], self.processes[i]) if p == k]
                for k in dict.fromkeys(self.processes[i])]
        return pyperf.Benchmark([pyperf.Run(values, metadata=meta, collect_metadata=False)
                                 for values in runs])

    @property
    def suite_name(self):
        """The suite's path as the rows give it, relative to the CSV's folder."""
        return f"{self.setting.out_name}.pyperf/{self.name}.json"

    def write_suite(self):
        """The run's pyperf suite with every finished point, replaced whole, before their rows go
        out (once for the points that finish together in the last round, not once each)."""
        import pyperf  # here, as in benchmark()

        if not self.unwritten:
            return
        suite = pyperf.BenchmarkSuite(list(self.finished.values()))
        write_atomic(self.setting.json_dir / f"{self.name}.json",
                     lambda tmp: suite.dump(str(tmp), replace=True))
        self.unwritten = False


def run(points, ops, setting, on_row, on_progress=lambda done, label, eta: None):
    """Time the points (one placement, smallest first) until each has a row; on_row(index,
    columns) as each finishes: ok with its timing, or skipped, timeout or error with the reason."""
    left = list(range(len(points)))
    var = variable(points)
    done = 0
    while left:
        sub = [points[i] for i in left]
        run_ = _Run(sub, [ops[i] for i in left], setting, var)
        finished = _time_run(run_, setting, lambda j, cols, left=left: on_row(left[j], cols),
                             lambda d, label, eta, base=done: on_progress(base + d, label, eta))
        done += len(finished)
        left = [i for j, i in enumerate(left) if j not in finished]


def _spec(run_, setting):
    spec = {"points": [p.__dict__ for p in run_.points], "ops": run_.ops,
            "profile": setting.profile.__dict__, "max_seconds": setting.budget.max_seconds,
            "budget": [[list(k), list(v)] for k, v in setting.budget.measured.items()],
            "seed": setting.seed + run_.process}
    if run_.process:  # a later process: the points still timed, with their loops and rounds
        spec["plan"] = run_.live()
    return spec


def _time_run(run_, setting, on_row, on_progress):
    """Run the series' child processes over run_.points, one after another; returns the indices
    that got a row (all, unless a child died or was killed).

    Rows go out in plan order: a point that finishes before one planned ahead of it (the last
    round's order is random) waits for it, or for the end of the child."""
    finished, waiting = run_.done, {}

    def flush(everything=False):
        while waiting:
            first = min(waiting)
            if not everything and any(j < first and j not in finished
                                      for j in range(len(run_.points))):
                return
            run_.write_suite()  # a row names its suite: the suite is on disk first
            on_row(first, waiting.pop(first))

    def finish(i, columns):
        finished.add(i)
        waiting[i] = columns
        flush()
        on_progress(len(finished), run_.points[i].label, _eta(run_, setting, finished))

    run_.progress = lambda label: on_progress(len(finished), label, _eta(run_, setting, finished))
    try:
        for run_.process in range(setting.profile.processes):
            if run_.process and not run_.live():
                break
            if not _drive(launcher.Child(_spec(run_, setting), setting.env), run_, setting, finish):
                break
        return finished
    finally:
        flush(everything=True)  # also on Ctrl-C: every point with its rounds keeps its row


def _drive(child, run_, setting, finish):
    """Take the child's events to its end: True when it ended as planned, False when it died or
    was killed (its running point has its row)."""
    limit = setting.budget.max_seconds
    try:
        first = True
        while True:
            try:
                event = child.next(limit + (STARTUP_S * 10 if first else STARTUP_S))
            except launcher.ChildDied as e:
                _failed(run_, finish, "error", f"the series' child process died: {e}")
                return False
            first = False
            if event is None:  # a check or a block ran over its time
                _failed(run_, finish, "timeout", f"ran over --max-seconds {limit:g} and was killed")
                return False
            ended = _handle(run_, setting, event, finish)
            if ended:
                return ended == "done"
    finally:
        child.kill()


def _failed(run_, finish, status, reason):
    """The running point gets the failure; with none known, every point without a row does."""
    culprits = [run_.running] if run_.running is not None else range(len(run_.points))
    for i in culprits:
        if i not in run_.done:
            finish(i, {"status": status, "reason": reason, **_check_columns(run_.check.get(i))})


def _check_columns(check):
    if not check:
        return {}
    keys = ("peak_mem_bytes", "work_mem_bytes", "max_rel_err", "framework", "device_name")
    return {k: check[k] for k in keys}


def _handle(run_, setting, event, finish):
    """Take one event of the child: "done" at its end, "failed" where it must stop, else None."""
    kind = event["event"]
    if kind == "checking":
        run_.running = event["i"]
        run_.progress(f"checking {run_.points[event['i']].label}")
    elif kind in ("skip", "error"):
        run_.running = None
        status = "skipped" if kind == "skip" else "error"
        finish(event["i"], {"status": status, "reason": event["reason"],
                            **_check_columns(run_.check.get(event["i"]))})
    elif kind == "check":
        i = event["i"]
        run_.running, run_.check[i] = None, event
        setting.budget.record(run_.points[i], run_.ops[i], event["seconds"], "one call")
    elif kind == "order":
        run_.order = list(event["order"])
        run_.running = run_.order[0] if run_.order else None
        most = max((c["rounds"] for i, c in run_.check.items() if i not in run_.done), default=0)
        processes = setting.profile.processes
        within = f" in process {run_.process + 1} of {processes}" if processes > 1 else ""
        run_.progress(f"round {event['round'] + 1} of {most}{within}: {len(run_.order)} points")
    elif kind == "block":
        i = event["i"]
        lo, hi = TIME_RANGE
        if not lo <= event["s"] <= hi:  # a clock that ran backwards, or damage: not a time
            run_.running = i
            _failed(run_, finish, "error", f"a block timed {event['s']!r} s a call")
            return "failed"
        run_.values[i].append(event["s"])
        run_.processes[i].append(run_.process)
        run_.order.pop(0)
        run_.running = run_.order[0] if run_.order else None
        if len(run_.values[i]) == run_.wanted(i):
            run_.finished[i], run_.unwritten = run_.benchmark(i), True
            meta = run_.metadata
            columns = {**_check_columns(run_.check[i]), **run_.columns(i), "status": "ok",
                       "reason": "", "series": run_.name, "pyperf_json": run_.suite_name,
                       "pyperf": meta.get("perf_version", ""), "hostname": meta.get("hostname", ""),
                       "platform": meta.get("platform", ""), "cpu_count": meta.get("cpu_count", "")}
            finish(i, columns)
    elif kind == "done":
        return "done"
    return None


def _eta(run_, setting, finished):
    """Seconds left of the run's rounds in all processes, once every point is checked, else None."""
    checked = set(run_.check) | finished
    if len(checked) < len(run_.points):
        return None
    total = STARTUP_S * (setting.profile.processes - 1 - run_.process)
    for i, check in run_.check.items():
        if i not in finished:
            total += (run_.wanted(i) - len(run_.values[i])) * check["seconds"] * check["loops"]
    return total

