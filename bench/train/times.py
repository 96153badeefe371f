"""A race's times: each run's seconds of training, and each method's over the reference's
(bench.train.race's summary and bench.train.plot's figure both read them)."""

import math


def total_seconds(rows):
    """Wall-clock seconds of a run's training (epoch 0 is the untrained network: none)."""
    return sum(r["seconds"] for r in rows)


def reference(runs):
    """The method times are compared with: backprop where it ran, else the fastest."""
    return "backprop" if "backprop" in runs else min(runs, key=lambda m: total_seconds(runs[m]))


def ratios(runs):
    """Each method's training time over the reference method's."""
    base = total_seconds(runs[reference(runs)])
    return {m: total_seconds(rows) / base if base > 0 else math.nan for m, rows in runs.items()}
