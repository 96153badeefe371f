"""The sweep's time-left estimate in O(methods * log points) per point, whatever the points' sizes.

Each point's op count is computed once. A point's predicted run is piecewise linear in its ops
(bench.sweep.budget: a floor below pyperf's min time, then fixed + values * seconds-per-op * ops,
and nothing when over the budget, since it will be skipped), so the sum over the points left is
a few prefix sums over each method's points sorted by ops: counts and op totals in Fenwick trees,
from which a finished point is removed in O(log n).
"""

import bisect

from bench.sweep.budget import STARTUP_S, budget_key, predict_run_seconds, run_terms


class _Prefix:
    """A Fenwick tree of (count, ops total) over sorted slots: add and prefix sums in O(log n)."""

    def __init__(self, size):
        self.count, self.total = [0] * (size + 1), [0] * (size + 1)

    def add(self, slot, count, ops):
        i = slot + 1
        while i < len(self.count):
            self.count[i] += count
            self.total[i] += ops
            i += i & -i

    def upto(self, slots):
        """(count, ops total) of the first `slots` slots."""
        count = total = 0
        i = slots
        while i > 0:
            count += self.count[i]
            total += self.total[i]
            i -= i & -i
        return count, total


class Remaining:
    """The points not yet run, per method and placement (bench.sweep.budget.budget_key), to estimate the seconds
    they will take."""

    def __init__(self, points, ops):
        """points and their op counts (computed once, by the caller, in the same order)."""
        self.values, self.trees, self.unknown = {}, {}, {}
        for p, o in zip(points, ops):
            self.values.setdefault(budget_key(p), set()).add(o)
        for key, values in self.values.items():
            self.values[key] = sorted(values)
            self.trees[key] = _Prefix(len(values))
            self.unknown[key] = 0
        for p, o in zip(points, ops):
            self._add(budget_key(p), o, 1)

    def _add(self, key, ops, sign):
        if ops <= 0:  # the budget predicts nothing for it
            self.unknown[key] += sign
            return
        self.trees[key].add(bisect.bisect_left(self.values[key], ops), sign, sign * ops)

    def done(self, point, ops):
        """A point ran (or was resumed): it no longer counts."""
        self._add(budget_key(point), ops, -1)

    def seconds(self, budget, mean_point_s):
        """Seconds left: each point's predicted run plus its check, 0 for those to be skipped; None if unknown.

        The same sum as predicting every point with budget.predict, points not yet predictable
        counted at mean_point_s (None before any point was measured).
        """
        total = 0.0
        for key, tree in self.trees.items():
            count = tree.upto(len(self.values[key]))[0] + self.unknown[key]
            if key not in budget.measured:
                if count and mean_point_s is None:
                    return None
                total += count * (mean_point_s or 0.0)
                continue
            total += self.unknown[key] * (mean_point_s or 0.0)
            total += self._measured(key, tree, budget)
        return total

    def _measured(self, key, tree, budget):
        """The predicted seconds of a measured key's points: a floor region, a linear one, a skipped one."""
        ref_ops, ref_s, _ = budget.measured[key]
        rate = ref_s / ref_ops  # seconds per op, as budget.predict computes it
        fixed, values = run_terms(budget.profile)
        min_time = budget.profile.min_time
        ops = self.values[key]
        # the first slot whose call lasts min_time (below it pyperf loops the call: a constant value)
        floor_end = bisect.bisect_left(ops, True, key=lambda o: rate * o >= min_time)
        # past the last slot within the budget, points are skipped: they cost nothing
        linear_end = bisect.bisect_right(ops, False, lo=floor_end,
                                         key=lambda o: fixed + values * (rate * o) > budget.max_seconds)
        total = 0.0
        floor_s = predict_run_seconds(0.0, budget.profile)
        if floor_s <= budget.max_seconds:
            total += tree.upto(floor_end)[0] * (floor_s + 2 * STARTUP_S)
        count_all, ops_all = tree.upto(linear_end)
        count_floor, ops_floor = tree.upto(floor_end)
        count, op_sum = count_all - count_floor, ops_all - ops_floor
        return total + count * (fixed + 2 * STARTUP_S) + values * rate * op_sum
