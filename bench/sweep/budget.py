"""The sweep's time budget: profiles, and predicting a point's rounds from the points before it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How long a series is timed: child processes one after another, rounds per point in each, and
    the seconds of one block of calls."""

    rounds: int
    block_s: float
    processes: int = 1

    @property
    def total_rounds(self):
        return self.rounds * self.processes


# Several processes: a point's speed depends a little on its process (where its arrays landed in
# memory, the hash seed): backprop at depth 256 ran 14% slower in one process of three. Rounds
# cancel what changes within a process; processes average what changes between them (pyperf's
# reason for its several processes).
PROFILES = {
    "quick": Profile(rounds=15, block_s=0.002),  # tests, smoke runs, a student's first sweep
    "study": Profile(rounds=9, block_s=0.002, processes=3),  # make bench
    "default": Profile(rounds=11, block_s=0.005, processes=3),
    "rigorous": Profile(rounds=13, block_s=0.01, processes=5),  # numbers to publish
}
MIN_ROUNDS = 5  # a point with fewer has no interval worth the name: skipped
STARTUP_S = 0.3  # the child process importing numpy and gradients, with margin


def predict_run_seconds(call_s, profile, rounds=None):
    """Seconds of a point's rounds (the profile's, or `rounds`) when its calls take call_s: a block
    each round, the check's three calls (a warm call twice, one under tracemalloc) and a warm call
    in each later process."""
    timed_s = (rounds or profile.total_rounds) * max(call_s, profile.block_s)
    return timed_s + (2 + profile.processes) * call_s


def budget_key(point):
    """What a measurement predicts for: the method on one backend, device and dtype.

    A GPU's seconds per operation say nothing about a CPU's (nor float32's about float64's), so each
    placement has its own."""
    return point.method, point.backend, point.device, point.dtype


class Budget:
    """Seconds-per-operation of each (method, backend, device, dtype)'s largest measured point, to
    predict the next ones of that method there."""

    def __init__(self, profile, max_seconds):
        self.profile, self.max_seconds = profile, max_seconds
        self.measured = {}  # budget_key -> (ops, seconds per call, where it was measured)

    def record(self, point, ops, call_s, source):
        key = budget_key(point)
        if ops > 0 and call_s > 0 and ops >= self.measured.get(key, (0,))[0]:
            self.measured[key] = (ops, call_s, f"{source} of {point.label}")

    def merge(self, measured):
        """Take the measurements of larger points from another budget (a cluster worker's copy)."""
        for key, (ops, call_s, source) in measured.items():
            if ops >= self.measured.get(key, (0,))[0]:
                self.measured[key] = (ops, call_s, source)

    def predict(self, point, ops):
        """(seconds of the point's rounds, explanation), or None before its method and placement's
        first point."""
        key = budget_key(point)
        if key not in self.measured or ops <= 0:
            return None
        ref_ops, ref_s, source = self.measured[key]
        call_s = ref_s / ref_ops * ops  # over budget where even the fewest rounds are
        why = f"{ref_s / ref_ops:.3g} s/op from {source}"
        return predict_run_seconds(call_s, self.profile, MIN_ROUNDS), why

    def over(self, predicted_s, why):
        """The skip reason when a prediction is over budget, else None."""
        if predicted_s > self.max_seconds:
            return f"predicted {predicted_s:.3g} s > --max-seconds {self.max_seconds:g} ({why})"
        return None
