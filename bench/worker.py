"""One sweep point, run in a subprocess of `gradbench sweep` (pyperf's Runner owns sys.argv).

    python -m bench.worker check --method naive --depth 4 --width 8 --input-dim 8 --batch 1
        one untimed-by-pyperf call: prints JSON {seconds, peak_mem_bytes, max_rel_err}
    python -m bench.worker time --method naive ... -p 1 -n 3 -w 1 --min-time 0.002 -o point.json
        a pyperf script timing one call of the method (forward: gradients.loss)

Both build the same seeded network and batch: gradients.Network.init(widths, seed) and
gradients.make_data(widths, batch, seed), widths = [input_dim] + [width] * depth.
"""

import argparse
import json
import os
import sys
import time
import tracemalloc

import gradients
from bench.schema import POINT_KEY
from bench.sweep_workers import WORKER_ENV, point_args


def add_point_args(parser):
    """The options naming a point (sweep_workers.point_args writes them); `time` passes them on to pyperf's workers."""
    parser.add_argument("--method", required=True)
    parser.add_argument("--depth", type=int, required=True)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--input-dim", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--seed", type=int, default=0)


def build(args):
    """The point's network, batch, and the call to measure (a closure with no arguments)."""
    widths = [args.input_dim] + [args.width] * args.depth
    net = gradients.Network.init(widths, seed=args.seed, activation=args.activation)
    X, y = gradients.make_data(widths, args.batch, args.seed)  # (B, d), (B,)
    if args.method == "forward":
        return net, X, y, lambda: gradients.loss(net, X, y)
    return net, X, y, lambda: gradients.gradient(net, X, y, method=args.method)


def check(argv):
    """Time one call, trace the peak memory of another, and compare the gradient with backprop's."""
    parser = argparse.ArgumentParser(prog="bench.worker check")
    add_point_args(parser)
    args = parser.parse_args(argv)
    net, X, y, call = build(args)
    start = time.perf_counter()
    result = call()  # first call also warms caches; its time seeds the budget prediction
    seconds = time.perf_counter() - start
    # a second call under tracemalloc: tracing slows Python code, so it is not the timed one;
    # numpy reports its buffers to tracemalloc, so the peak counts the arrays the call allocates
    del result
    tracemalloc.start()
    result = call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rel_err = None
    if args.method != "forward":
        reference = gradients.gradient(net, X, y, method="backprop")
        max_rel_err = gradients.relative_error(result, reference)
    json.dump({"seconds": seconds, "peak_mem_bytes": peak, "max_rel_err": max_rel_err}, sys.stdout)


def time_point(argv):
    """The pyperf script: one benchmark, one call of the method per loop."""
    import pyperf

    sys.argv = [sys.argv[0]] + argv
    runner = pyperf.Runner(program_args=("-m", "bench.worker", "time"),
                           add_cmdline_args=lambda cmd, args: cmd.extend(point_args(args)))
    add_point_args(runner.argparser)
    args = runner.parse_args()
    _, _, _, call = build(args)
    for key in POINT_KEY:
        runner.metadata[f"gradbench_{key}"] = str(getattr(args, key))
    # what the timing processes really saw: pyperf passes on only the variables it is told to
    for name in WORKER_ENV:
        runner.metadata[f"gradbench_{name.lower()}"] = os.environ.get(name, "unset")
    # the name leaves the method out, so `pyperf compare_to backprop.json naive.json` pairs them up
    name = f"depth={args.depth} width={args.width} input_dim={args.input_dim} batch={args.batch} {args.activation}"
    runner.bench_func(name, call)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("check", "time"):
        sys.exit("usage: python -m bench.worker {check,time} --method M --depth L --width W ...")
    (check if argv[0] == "check" else time_point)(argv[1:])


if __name__ == "__main__":
    main()
