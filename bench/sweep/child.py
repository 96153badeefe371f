"""The sweep's child process: one series timed in interleaved rounds (bench.sweep.series starts it).

    python -m bench.sweep.child < spec.json

The spec names the series' points (smallest first), their op counts, the profile's rounds and
block, --max-seconds and the budget's measurements so far. For each point, in order:
  1. predicted over budget from the largest point of its method measured so far: skipped;
  2. the check: a warm call (its time sets the block's loops), one call under tracemalloc (peak
     memory; torch.cuda's counter on a CUDA device), the relative error from backprop on the same
     seeded network and batch (agreement);
  3. its rounds cut to what --max-seconds affords (fewer than MIN_ROUNDS in all: skipped).
Then the rounds: each runs one block of every live point, in a fresh random order; a block is
`loops` calls, about the profile's block seconds, or one call where a call is longer. A point
leaves once it has its rounds. Every step is one JSON line on stdout, flushed, so the parent sees
each block as it ends: {"event": "check"|"skip"|"error"|"order"|"block"|"done", ...}.
A later process of the series (the profile's processes, one after another) gets a `plan` instead:
the points still timed, with their loops and rounds; it builds and warms each and times them alike.

Every point builds the same seeded network and batch: gradients.Network.init(widths, seed) and
gradients.make_data(widths, batch, seed), moved to the point's backend, device and dtype. Off the
CPU a call only queues work: every clock reading waits for the device first, so a timed call is
over when the device is done with it. On Linux this process dies with the process that started it.
"""

import ctypes
import gc
import json
import math
import os
import signal
import sys
import time

import numpy as np

import gradients
from bench.sweep.budget import MIN_ROUNDS, Budget, Profile
from bench.sweep.launcher import PARENT_PID
from bench.sweep.points import Point

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
COLD_ONLY_S = 5.0  # a first call shorter than this is timed once more, warm (see warm_call)


def die_with_parent(parent):
    """Linux: be killed when the process that started this one dies, so no timing outlives a sweep
    or a Dask worker killed outright; `parent` is that process's pid, or None."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the parent's kill is all there is
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:  # it died before prctl took hold
        os._exit(1)


def network(point):
    """The point's seeded network and batch, on its backend, device and dtype."""
    net = gradients.Network.init(point.widths, seed=point.seed, activation=point.activation)
    X, y = gradients.make_data(point.widths, point.batch, point.seed)  # (B, d), (B,)
    if not point.placement.is_default:
        on = dict(device=point.device, dtype=point.dtype)
        net = net.to(point.backend, **on)
        X, y = gradients.make_data(point.widths, point.batch, point.seed, backend=point.backend,
                                   **on)  # (B, d), (B,)
    return net, X, y


def build(point, arrays=None):
    """The point's network, batch (`arrays`, or built), and the call to measure."""
    net, X, y = arrays or network(point)
    return net, X, y, lambda: gradients.call(point.method, net, X, y)


def syncer(point, net):
    """The wait for the point's device: a no-op on the CPU, where a call is over when it returns."""
    if point.device == "cpu":
        return lambda: None
    return lambda: gradients.backends.synchronize(net)


def timed_loops(call, sync, loops, clock=time.perf_counter):
    """Seconds of `loops` calls, the device idle when the clock starts and done when it stops."""
    sync()  # nothing queued before is counted
    start = clock()
    for _ in range(loops):
        call()
    sync()  # a call that only queued work is over when the device is done
    return clock() - start


def warm_call(call, sync, clock=time.perf_counter):
    """(seconds, result) of a warm call: the first call pays imports, caches and a device's
    libraries once, so a second is timed, unless the first alone took COLD_ONLY_S."""
    sync()
    start = clock()
    result = call()
    sync()
    seconds = clock() - start
    if seconds < COLD_ONLY_S:
        seconds = min(seconds, timed_loops(call, sync, 1, clock))
    return seconds, result


def call_bytes(point, net, X, y):
    """(peak, work) bytes of a call: tracemalloc on NumPy, torch's allocator on CUDA, else None."""
    # traced: not autograd, which computes in PyTorch
    if point.backend == "numpy" and gradients.record(point.method).traced:
        # tracing slows Python code, so this is not a timed call; numpy reports its buffers to
        # tracemalloc, so the peak counts the arrays the call allocates
        return gradients.measure_work_memory(point.method, net, X, y)
    if point.backend != "torch" or point.device == "cpu":  # torch's CPU, CuPy: nobody counts
        return None, None
    import torch  # only on a CUDA device, where the point runs on torch

    device = net.alpha.device
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)  # the network and batch: not the call's
    result = gradients.call(point.method, net, X, y)
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    gradient = gradients.record(point.method).is_gradient  # the loss alone returns a float
    out = sum(a.nbytes for a in [*result.weights, result.alpha]) if gradient else 0
    return peak, peak - out


class Checker:
    """The check of each point, with backprop's gradient on each network computed once."""

    def __init__(self):
        self.arrays = {}  # shape key -> (net, X, y): the methods of a shape share them
        self.references = {}  # shape key -> backprop's gradient

    def check(self, point):
        """(columns, call, sync, warm call seconds) of one point."""
        shape = point.key()[1:]
        if shape not in self.arrays:
            self.arrays[shape] = network(point)
        net, X, y, call = build(point, self.arrays[shape])
        sync = syncer(point, net)
        seconds, result = warm_call(call, sync)
        peak, work = call_bytes(point, net, X, y)
        max_rel_err = None
        if gradients.record(point.method).is_gradient:  # the loss alone has no gradient
            if shape not in self.references:
                backprop = lambda: gradients.gradient(net, X, y, method="backprop")  # noqa: E731
                self.references[shape] = backprop() if point.method != "backprop" else result
            max_rel_err = gradients.relative_error(result, self.references[shape])
        where = gradients.backends.describe(net)
        columns = {"seconds": seconds, "peak_mem_bytes": peak, "work_mem_bytes": work,
                   "max_rel_err": max_rel_err,
                   "framework": f"{where['backend']} {where['framework_version']}",
                   "device_name": where["device_name"]}
        return columns, call, sync, seconds


def loops_for(call_s, block_s):
    """Calls in a block: enough to last block_s, one where a call is longer."""
    return max(1, math.ceil(block_s / max(call_s, 1e-9)))


def affordable_rounds(call_s, loops, profile, max_seconds):
    """A point's rounds per process that --max-seconds affords over all, at most the profile's."""
    return min(profile.rounds, int(max_seconds / max(call_s * loops * profile.processes, 1e-12)))


def run_rounds(live, rng, emit, clock=time.perf_counter):
    """Time the live points in rounds until each has its rounds.

    live: {index: (call, sync, loops, rounds)}; each round runs one block of every point that
    still needs rounds, in a fresh random order; emit(event) gets each round's order and each
    block's seconds per call.
    """
    count = dict.fromkeys(live, 0)
    r = 0
    while left := [i for i in live if count[i] < live[i][3]]:
        order = [left[j] for j in rng.permutation(len(left))]
        emit({"event": "order", "round": r, "order": order})
        gc.collect()  # between blocks, never inside one
        for i in order:
            call, sync, loops, _ = live[i]
            emit({"event": "block", "i": i, "s": timed_loops(call, sync, loops, clock) / loops})
            count[i] += 1
        r += 1


def more_rounds(points, plan, emit):
    """A later process of a series: the points of `plan` ({index: [loops, rounds]}), each built and
    called once (warm), then timed in rounds as the first process timed them."""
    arrays, live = {}, {}
    for key, (loops, rounds) in plan.items():
        i, point = int(key), points[int(key)]
        emit({"event": "checking", "i": i})
        try:
            shape = point.key()[1:]
            arrays[shape] = arrays.get(shape) or network(point)
            _, _, _, call = build(point, arrays[shape])
            sync = syncer(point, arrays[shape][0])
            warm_call(call, sync)
        except Exception as e:  # it ran in the first process: a failure here is this process's own
            emit({"event": "error", "i": i,
                  "reason": f"a later process failed: {type(e).__name__}: {e}"})
            continue
        live[i] = (call, sync, loops, rounds)
    return live


def series(spec, emit):
    """The whole series of a spec (see the module docstring)."""
    points = [Point(**p) for p in spec["points"]]
    if spec.get("plan") is not None:
        live = more_rounds(points, spec["plan"], emit)
        gc.disable()
        run_rounds(live, np.random.default_rng(spec["seed"]), emit)
        emit({"event": "done"})
        return
    profile, max_seconds = Profile(**spec["profile"]), spec["max_seconds"]
    budget = Budget(profile, max_seconds)
    budget.merge({tuple(k): tuple(v) for k, v in spec["budget"]})
    checker, live = Checker(), {}
    for i, (point, ops) in enumerate(zip(points, spec["ops"])):
        predicted = budget.predict(point, ops)
        reason = predicted and budget.over(*predicted)
        if reason:
            emit({"event": "skip", "i": i, "reason": reason})
            continue
        emit({"event": "checking", "i": i})
        try:
            columns, call, sync, call_s = checker.check(point)
        except Exception as e:  # the point's own failure: a backend's error, say; the others go on
            emit({"event": "error", "i": i, "reason": f"the check failed: {type(e).__name__}: {e}"})
            continue
        budget.record(point, ops, call_s, "one call")
        loops = loops_for(call_s, profile.block_s)
        rounds = affordable_rounds(call_s, loops, profile, max_seconds)
        emit({"event": "check", "i": i, "loops": loops, "rounds": rounds, **columns})
        if rounds * profile.processes < MIN_ROUNDS:
            emit({"event": "skip", "i": i, "reason": (
                f"one call took {call_s:.3g} s: {MIN_ROUNDS} rounds "
                f"> --max-seconds {max_seconds:g}")})
            continue
        live[i] = (call, sync, loops, rounds)
    gc.disable()  # no collection inside a block (timeit does the same)
    run_rounds(live, np.random.default_rng(spec["seed"]), emit)
    emit({"event": "done"})


def main():
    die_with_parent(int(os.environ[PARENT_PID]) if os.environ.get(PARENT_PID) else None)
    spec = json.load(sys.stdin)

    def emit(event):
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    series(spec, emit)


if __name__ == "__main__":
    main()
