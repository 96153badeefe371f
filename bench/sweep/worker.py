"""The child side: one sweep point, run in a subprocess of `gradbench sweep` (pyperf's Runner owns sys.argv).
bench.sweep.launcher starts it.

    python -m bench.sweep.worker check --method naive --depth 4 --width 8 --input-dim 8 --batch 1
        untimed-by-pyperf calls: prints JSON {seconds, peak_mem_bytes, work_mem_bytes, max_rel_err,
        time_vs_backprop, ...}
    python -m bench.sweep.worker time --method naive ... -p 1 -n 3 -w 1 --min-time 0.002 -l 16 -o point.json
        a pyperf script timing one call of the method (forward: gradients.loss)

Both build the same seeded network and batch: gradients.Network.init(widths, seed) and
gradients.make_data(widths, batch, seed), widths = [input_dim] + [width] * depth, moved to the point's
backend, device and dtype where it is not NumPy float64 (the same values, rounded to the dtype).
Off the CPU a call only queues work on the device: every clock reading waits for the device first
(gradients.backends.synchronize), so a timed call is over when the device is done with it.
On Linux each of these processes dies with the process that started it (die_with_parent).
"""

import argparse
import ctypes
import json
import math
import os
import signal
import statistics
import sys
import time

import gradients
from bench.schema import POINT_KEY
from bench.sweep.launcher import PARENT_PID, WORKER_ENV
from bench.sweep.points import Point

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
COLD_ONLY_S = 5.0  # a first call shorter than this is timed once more, warm (see warm_call)
PAIRED_S, PAIRED_BLOCK_S, PAIRED_ROUNDS = 0.15, 0.002, (5, 25)  # seconds in all, per block; fewest, most rounds


def die_with_parent(parent):
    """Linux: be killed when the process that started this one dies, so no timing outlives a sweep or a
    cluster worker killed outright (SIGKILL, out of memory); `parent` is that process's pid, or None."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the launcher's kill (timeout, Ctrl-C, SIGTERM) is all there is
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:  # it died before prctl took hold
        os._exit(1)


def _launcher_pid():
    """The pid of the process that started this one, as the launcher's environment names it (None: by hand)."""
    pid = os.environ.get(PARENT_PID)
    return int(pid) if pid else None


def build(point):
    """The point's network, batch, and the call to measure (a closure with no arguments)."""
    net = gradients.Network.init(point.widths, seed=point.seed, activation=point.activation)
    X, y = gradients.make_data(point.widths, point.batch, point.seed)  # (B, d), (B,)
    if not point.on_default:
        on = dict(device=point.device, dtype=point.dtype)
        net = net.to(point.backend, **on)
        X, y = gradients.make_data(point.widths, point.batch, point.seed, backend=point.backend, **on)  # (B, d), (B,)
    if point.method == "forward":
        return net, X, y, lambda: gradients.loss(net, X, y)
    return net, X, y, lambda: gradients.gradient(net, X, y, method=point.method)


def timed_loops(call, sync, loops):
    """Seconds of `loops` calls, the device idle when the clock starts and done when it stops (pyperf's time_func)."""
    sync()  # nothing queued before (a warmup's work) is counted
    start = time.perf_counter()
    for _ in range(loops):
        call()
    sync()  # a call that only queued work is over when the device is done
    return time.perf_counter() - start


def timed_call(call, sync):
    """(seconds, result) of one call, the device done when the clock stops."""
    sync()
    start = time.perf_counter()
    result = call()
    sync()
    return time.perf_counter() - start, result


def warm_call(call, sync):
    """(seconds, result) of a warm call: the first call pays imports, caches and a device's libraries once, so a
    second is timed, unless the first alone was long enough (COLD_ONLY_S) that its start-up cannot matter."""
    seconds, result = timed_call(call, sync)
    if seconds < COLD_ONLY_S:
        seconds = min(seconds, timed_call(call, sync)[0])
    return seconds, result


def paired_ratio(call, call_s, backprop, backprop_s, sync):
    """The call's time over backprop's, timed in alternating blocks in this one process: the median of the rounds'
    ratios. A slow spell of a shared machine (seconds long) slows both sides of a round, where two pyperf runs
    seconds apart can each land in a different spell. None when PAIRED_ROUNDS[0] rounds do not fit in PAIRED_S."""
    loops = [max(1, math.ceil(PAIRED_BLOCK_S / max(t, 1e-9))) for t in (call_s, backprop_s)]
    rounds = min(PAIRED_ROUNDS[1], int(PAIRED_S / (loops[0] * call_s + loops[1] * backprop_s)))
    if rounds < PAIRED_ROUNDS[0]:
        return None
    ratios = []
    for r in range(rounds):  # which side goes first alternates: a slowdown within a round favours neither
        if r % 2 == 0:
            ours = timed_loops(call, sync, loops[0]) / loops[0]
            theirs = timed_loops(backprop, sync, loops[1]) / loops[1]
        else:
            theirs = timed_loops(backprop, sync, loops[1]) / loops[1]
            ours = timed_loops(call, sync, loops[0]) / loops[0]
        ratios.append(ours / theirs)
    return statistics.median(ratios)


def syncer(point, net):
    """The wait for the point's device: None on the CPU, where a call is over when it returns."""
    return None if point.device == "cpu" else lambda: gradients.backends.synchronize(net)


def check(argv):
    """Time one call, measure the memory of another, and compare the gradient with backprop's on the same arrays."""
    parser = argparse.ArgumentParser(prog="bench.sweep.worker check")
    Point.add_arguments(parser)
    point = Point.from_args(parser.parse_args(argv))
    die_with_parent(_launcher_pid())
    net, X, y, call = build(point)
    sync = syncer(point, net) or (lambda: None)
    seconds, result = warm_call(call, sync)  # a warm call's time sets pyperf's loops and the budget's prediction
    peak, work = memory(point, net, X, y)
    max_rel_err = vs_backprop = None
    if point.method != "forward":  # the loss alone has no gradient, and its memory guard counts no backprop
        backprop = lambda: gradients.gradient(net, X, y, method="backprop")  # noqa: E731  same backend, device, dtype
        backprop_s, reference = warm_call(backprop, sync)
        max_rel_err = gradients.relative_error(result, reference)
        if point.method != "backprop":
            vs_backprop = paired_ratio(call, seconds, backprop, backprop_s, sync)
    where = gradients.backends.describe(net)
    json.dump({"seconds": seconds, "peak_mem_bytes": peak, "work_mem_bytes": work, "max_rel_err": max_rel_err,
               "time_vs_backprop": vs_backprop,
               "framework": f"{where['backend']} {where['framework_version']}", "device_name": where["device_name"]},
              sys.stdout)


def memory(point, net, X, y):
    """(peak, work) bytes of a second call: tracemalloc on NumPy, torch's allocator on CUDA, else (None, None)."""
    if point.backend == "numpy" and point.method != "autograd":  # autograd computes in PyTorch, unseen by tracemalloc
        # tracing slows Python code, so this is not the timed call; numpy reports its buffers to
        # tracemalloc, so the peak counts the arrays the call allocates
        return gradients.measure_work_memory(point.method, net, X, y)
    if point.backend != "torch" or point.device == "cpu":  # torch's CPU and CuPy's allocators: nobody counts
        return None, None
    import torch

    device = net.alpha.device
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)  # the network and batch: not the call's, as under tracemalloc
    result = gradients.loss(net, X, y) if point.method == "forward" else gradients.gradient(net, X, y, point.method)
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    out = 0 if point.method == "forward" else sum(a.nbytes for a in [*result.weights, result.alpha])
    return peak, peak - out


def time_point(argv):
    """The pyperf script: one benchmark, one call of the method per loop."""
    import pyperf

    sys.argv = [sys.argv[0]] + argv
    # pyperf's manager tells each of its workers its own pid: they die with it, as it dies with the launcher
    runner = pyperf.Runner(program_args=("-m", "bench.sweep.worker", "time"),
                           add_cmdline_args=lambda cmd, args: cmd.extend(
                               [*Point.from_args(args).args(), "--parent", str(os.getpid())]))
    Point.add_arguments(runner.argparser)
    runner.argparser.add_argument("--parent", type=int, default=None, help="pid of pyperf's manager")
    args = runner.parse_args()
    die_with_parent(args.parent if args.worker else _launcher_pid())
    point = Point.from_args(args)
    # pyperf's manager only starts the workers and reads their values: it builds nothing (for PyTorch,
    # seconds of import and a CUDA context spared)
    net, _, _, call = build(point) if args.worker or args.in_process else (None, None, None, None)
    for key in POINT_KEY:
        runner.metadata[f"gradbench_{key}"] = str(getattr(point, key))
    # what the timing processes really saw: pyperf passes on only the variables it is told to
    for name in WORKER_ENV:
        runner.metadata[f"gradbench_{name.lower()}"] = os.environ.get(name, "unset")
    # the name leaves the method out, so `pyperf compare_to backprop.json naive.json` pairs them up
    name, sync = f"{point.shape} {point.activation}", syncer(point, net)
    if sync is None:
        runner.bench_func(name, call)
    else:  # a device: the clock stops when the device is done, not when the call has queued its work
        runner.bench_time_func(name, lambda loops: timed_loops(call, sync, loops))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("check", "time"):
        sys.exit("usage: python -m bench.sweep.worker {check,time} --method M --depth L --width W ...")
    (check if argv[0] == "check" else time_point)(argv[1:])


if __name__ == "__main__":
    main()
