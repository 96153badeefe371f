"""`gradbench train --method naive,backprop`: a training race, the picture a lecture ends on.

Each method trains from the same seed (the same data, initial network and shuffles), one after
the other in this process, so each follows the same trajectory of losses up to rounding; what
differs is the wall-clock time it takes. The rows of every method go to one --out file (its
`method` column tells them apart), the figure to --plot: loss against seconds and against epochs.
"""

import math

import gradients
from bench import train as training
from bench.errors import UserError
from bench.train.rows import RowWriter
from bench.train.times import ratios, reference

AGREE = (
    1e-9  # the relative difference of losses at the same epoch that counts as the same trajectory
)


def parse_methods(text):
    """--method: one registered gradient method or a comma list of them, in order."""
    methods = list(dict.fromkeys(m.strip() for m in str(text).split(",") if m.strip()))
    if not methods:
        raise UserError(
            f"--method {text!r}: empty list (choose from {', '.join(gradients.METHODS)})"
        )
    for m in methods:
        if m not in gradients.METHODS:
            raise UserError(
                f"--method {text}: unknown method {m!r} "
                f"(choose from {', '.join(gradients.METHODS)})"
            )
    return methods


def run(methods, *, out=None, plot=None, progress=None, force=False, **settings):
    """Train once per method with the same settings: {method: rows}, rows as bench.train.run's."""
    real = training.check_outputs(out, plot, force, settings.get("data"))  # before any training
    runs = {m: training.run(method=m, progress=progress, **settings) for m in methods}
    if out is not None:
        with RowWriter(real["--out"], f"--out {out}", training.COLUMNS) as write:
            for rows in runs.values():
                for row in rows:
                    write(row)
    if plot is not None:
        from bench.train.plot import plot_race  # matplotlib: only a race that draws pays for it

        plot_race(runs, real["--plot"])
    return runs


def max_disagreement(runs):
    """The largest relative difference between two methods' train or test losses at one epoch."""
    worst = 0.0
    first, *others = runs.values()
    for rows in others:
        for a, b in zip(first, rows, strict=True):
            for key in ("train_loss", "test_loss"):
                x, y = a[key], b[key]
                if x != y and not (math.isnan(x) and math.isnan(y)):
                    worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
    return worst


def summary(runs):
    """A line per method, then whether the trajectories agree and how the times compare."""
    lines = [training.summary(rows) for rows in runs.values()]
    worst = max_disagreement(runs)
    same = "the same trajectory" if worst <= AGREE else "DIFFERENT trajectories"
    times = ", ".join(f"{m} {r:.3g}x" for m, r in ratios(runs).items())
    lines.append(
        f"{same} (losses agree within {worst:.1e} relative at every epoch); "
        f"time relative to {reference(runs)}: {times}"
    )
    return "\n".join(lines)
