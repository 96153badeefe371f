"""Timing in interleaved rounds, on a fake clock: power laws recovered through slow spells and
preemption spikes, intervals that cover the truth at about their stated rate."""

import gc

import numpy as np
import pytest

from bench import rounds
from bench.sweep import child

N = np.array([32, 64, 96, 128, 256])  # a depth sweep's upper range


@pytest.fixture(scope="module", autouse=True)
def frozen():
    """The child collects between rounds: what earlier tests left, collected once and frozen, is
    out of its reach (else each of these fake-clock series walks it 21 times)."""
    gc.collect()
    gc.freeze()


class Machine:
    """A fake perf_counter whose speed changes: `speed(now, round)` scales every call's cost."""

    def __init__(self, speed, spikes=0.0, seed=0):
        self.now, self.round, self.speed, self.spikes = 0.0, 0, speed, spikes
        self.rng = np.random.default_rng(seed)

    def clock(self):
        return self.now

    def call(self, cost):
        def run():
            self.now += cost * self.speed(self.now, self.round)
            if self.rng.random() < self.spikes:  # preempted: another process ran meanwhile
                self.now += self.rng.uniform(1e-3, 4e-3)
        return run


def time_series(machine, costs, n_rounds=21, block_s=0.002):
    """Each point's round values as the child times them; the machine's round advances with each."""
    live = {i: (machine.call(c), lambda: None, child.loops_for(c, block_s), n_rounds)
            for i, c in enumerate(costs)}
    values = {i: [] for i in live}

    def emit(event):
        if event["event"] == "order":
            machine.round = event["round"]
        elif event["event"] == "block":
            values[event["i"]].append(event["s"])

    child.run_rounds(live, np.random.default_rng(0), emit, clock=machine.clock)
    return [values[i] for i in range(len(costs))]


def fitted_k(values, n=N):
    """The time law's exponent over the points' times, as fit computes it."""
    t = [rounds.point_time(v)[0] for v in values]
    return float(rounds.slope(np.log(n), np.log(t)))


def test_every_round_runs_each_live_point_once_in_a_fresh_order():
    orders, blocks = [], []
    live = {i: (lambda: None, lambda: None, 1, r) for i, r in enumerate([3, 5, 5, 5])}

    def record(e):
        (orders if e["event"] == "order" else blocks).append(e)

    child.run_rounds(live, np.random.default_rng(1), record)
    # 0 leaves after 3
    assert [sorted(o["order"]) for o in orders] == [[0, 1, 2, 3]] * 3 + [[1, 2, 3]] * 2
    assert len({tuple(o["order"]) for o in orders}) > 1  # shuffled
    assert len(blocks) == 3 + 5 * 3


@pytest.mark.parametrize("k", [1.0, 2.0])
def test_spells_that_change_between_rounds_cancel_exactly(k):
    slow = np.random.default_rng(3).uniform(1.0, 2.5, 21)  # each round its own speed, up to 2.5x
    machine = Machine(lambda now, r: slow[r])
    values = time_series(machine, 1e-4 * (N / 32) ** k)
    assert fitted_k(values) == pytest.approx(k, abs=1e-9)
    for i in range(1, len(N)):  # every local exponent and ratio from the same rounds: exact
        local = rounds.local_exponent(N[i - 1], values[i - 1], N[i], values[i])
        assert local[0] == pytest.approx(k, abs=1e-9)
        assert local[1] == pytest.approx(k, abs=1e-9) and local[2] == pytest.approx(k, abs=1e-9)


def test_slow_spells_of_seconds_and_preemption_spikes_leave_the_law():
    """Spells of 1.5 s at 2.5x, boundaries inside rounds; a block in twenty preempted for 1-4 ms."""
    machine = Machine(lambda now, r: 2.5 if int(now / 1.5) % 2 else 1.0, spikes=0.05)
    for k in (1.0, 2.0):
        values = time_series(machine, 2e-4 * (N / 32) ** k)
        lo, hi = rounds.law_interval(N, values)
        assert fitted_k(values) == pytest.approx(k, abs=0.05)
        assert lo - 1e-9 <= k <= hi + 1e-9  # (an exact law: a zero-width interval, within rounding)
        assert hi - lo < 0.15


def synthetic(rng, k, n_rounds=21):
    """Round values of the points of N: a law times a spell per round, block noise and spikes."""
    spell = rng.lognormal(0, 0.3, n_rounds)  # (rounds,)
    block = 1 + rng.exponential(0.05, (len(N), n_rounds))  # (points, rounds)
    spike = np.where(rng.random((len(N), n_rounds)) < 0.2,
                     rng.uniform(1.5, 4, (len(N), n_rounds)), 1)
    return 1e-4 * (N[:, None] / 32) ** k * spell * block * spike


def test_the_law_interval_covers_the_truth_at_about_its_stated_rate():
    rng = np.random.default_rng(7)
    trials = 200
    hits = sum(lo <= 1.0 <= hi for lo, hi in (rounds.law_interval(N, list(synthetic(rng, 1.0)))
                                              for _ in range(trials)))
    assert 0.88 <= hits / trials <= 1.0  # stated 95%


def test_points_of_different_series_draw_rounds_apart():
    """Two series that shared no round: the interval treats them apart (a draw per series)."""
    rng = np.random.default_rng(2)
    values = list(synthetic(rng, 1.0))
    apart = rounds.law_interval(N, values, groups=[0, 0, 1, 1, 1])
    together = rounds.law_interval(N, values)
    assert apart != together and all(np.isfinite(apart))


def test_ratio_is_the_median_of_same_round_ratios_over_shared_rounds():
    # b left after three rounds: the fourth is not shared
    a, b = [2.0, 4.0, 6.0, 100.0], [1.0, 2.0, 3.0]
    assert rounds.ratio(a, b)[0] == 2.0


def test_point_time_is_a_low_quantile_with_its_interval():
    v = [1.0] * 18 + [5.0, 6.0, 7.0]  # three blocks preempted
    t, lo, hi = rounds.point_time(v)
    assert t == 1.0 and lo == 1.0 and hi <= 1.0 + 1e-12
    assert rounds.point_time([2.0])[0] == 2.0 and np.isnan(rounds.point_time([2.0])[1])
