"""The sweep's time budget: pyperf profiles, and predicting a point's run from the points measured before it."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """pyperf's knobs: worker processes, values per process, warmups, minimum seconds per value."""

    processes: int
    values: int
    warmups: int
    min_time: float

    def args(self, call_s):
        """pyperf's options for calls of about call_s seconds (the check's warm call): loops set here."""
        return ["-p", str(self.processes), "-n", str(self.values), "-w", str(self.warmups),
                "--min-time", str(self.min_time), "-l", str(self.loops(call_s))]

    def loops(self, call_s):
        """Calls per value so that a value lasts min_time, a power of two as pyperf's own calibration picks.

        Set from the check's call rather than calibrated by pyperf: one process less per point.
        """
        if not call_s > 0 or call_s >= self.min_time:
            return 1
        return 2 ** min(MAX_LOOPS_LOG2, math.ceil(math.log2(self.min_time / call_s)))


PROFILES = {
    "quick": Profile(processes=1, values=3, warmups=1, min_time=0.002),  # tests, smoke runs
    # make bench: one process of six values. A shared machine's slow spells last seconds, longer than
    # a point's whole run, so a second process would mostly land in the same spell; the comparison that
    # must survive them is timed interleaved (time_vs_backprop). One process less a point keeps the
    # default study near three minutes.
    "study": Profile(processes=1, values=6, warmups=1, min_time=0.01),
    "default": Profile(processes=10, values=3, warmups=1, min_time=0.05),  # the study
    "rigorous": Profile(processes=20, values=5, warmups=2, min_time=0.1),  # numbers to publish
}
MAX_LOOPS_LOG2 = 20  # a call faster than min_time / 2^20 is timed in values of 2^20 calls
STARTUP_S = 0.2  # one Python process importing numpy, pyperf and gradients (0.15 s measured), with margin


def run_terms(profile):
    """(fixed seconds, timed values) of a pyperf run: process start-ups, and values of every process.

    pyperf starts a manager and `processes` workers, each running warmups + values values (the
    loops are given, so no calibration worker).
    """
    return (profile.processes + 1) * STARTUP_S, profile.processes * (profile.warmups + profile.values)


def predict_run_seconds(call_s, profile):
    """Wall time of a pyperf run whose calls take call_s: fixed + values * value_s.

    A value is one call, or enough loops of it to last min_time.
    """
    value_s = call_s if call_s >= profile.min_time else 1.5 * profile.min_time  # loops overshoot
    fixed, values = run_terms(profile)
    return fixed + values * value_s


def budget_key(point):
    """What a measurement predicts for: the method on one backend, device and dtype. A GPU's seconds per
    operation say nothing about a CPU's (nor float32's about float64's), so each placement has its own."""
    return point.method, point.backend, point.device, point.dtype


class Budget:
    """Seconds-per-operation of each (method, backend, device, dtype)'s largest measured point, to predict the next
    ones of that method there."""

    def __init__(self, profile, max_seconds):
        self.profile, self.max_seconds = profile, max_seconds
        self.measured = {}  # budget_key -> (ops, seconds per call, where it was measured)

    def record(self, point, ops, call_s, source):
        key = budget_key(point)
        if ops > 0 and call_s > 0 and ops >= self.measured.get(key, (0,))[0]:
            self.measured[key] = (ops, call_s, f"{source} of {point.label}")

    def merge(self, measured):
        """Take another budget's measurements (a cluster worker's copy) where they are of larger points."""
        for key, (ops, call_s, source) in measured.items():
            if ops >= self.measured.get(key, (0,))[0]:
                self.measured[key] = (ops, call_s, source)

    def predict(self, point, ops):
        """(seconds of the pyperf run, explanation), or None before the first point of its method and placement."""
        key = budget_key(point)
        if key not in self.measured or ops <= 0:
            return None
        ref_ops, ref_s, source = self.measured[key]
        call_s = ref_s / ref_ops * ops
        return predict_run_seconds(call_s, self.profile), f"{ref_s / ref_ops:.3g} s/op from {source}"

    def over(self, predicted_s, why):
        """The skip reason when a prediction is over budget, else None."""
        if predicted_s > self.max_seconds:
            return f"predicted {predicted_s:.3g} s > --max-seconds {self.max_seconds:g} ({why})"
        return None
