"""The series' child: a warm call sets the block's loops, and time_vs_backprop is reported for
every gradient method but backprop (the statistics of rounds are test_rounds', the series'
test_series')."""

import pytest
from helpers import FakeChild

from bench.sweep import child, launcher
from bench.sweep.loop import sweep


class Clock:
    """perf_counter of a machine where each call advances the time by its cost."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_slow_first_call_is_not_what_sets_the_loops():
    clock = Clock()
    # the first call pays a start-up (an import, a device's libraries)
    costs = iter([2.0, 1e-3, 1e-3])

    def call():
        clock.now += next(costs)
        return "result"

    seconds, result = child.warm_call(call, lambda: None, clock)
    assert seconds == pytest.approx(1e-3, rel=1e-9)
    assert result == "result"


def test_a_long_first_call_is_not_repeated():
    clock = Clock()
    calls = []

    def call():
        calls.append(1)
        clock.now += child.COLD_ONLY_S

    assert child.warm_call(call, lambda: None, clock)[0] == child.COLD_ONLY_S
    assert len(calls) == 1


def test_time_vs_backprop_for_every_gradient_method_but_backprop(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "Child", FakeChild.of())
    result = sweep(depth="3", width="4", methods="checkpoint,naive,forward,backprop",
                   out=tmp_path / "r.csv", profile="quick")
    ratios = {r["method"]: r.get("time_vs_backprop") for r in result.rows}
    # forward runs no backprop at all; backprop's would be 1
    assert ratios["backprop"] is None and ratios["forward"] is None
    assert ratios["checkpoint"] > 0 and ratios["naive"] > 0
