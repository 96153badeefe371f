"""The check's interleaved timing: a method against backprop in alternating blocks of one process."""

import json
import subprocess
import sys

import pytest

from bench.sweep import worker


class SpellClock:
    """perf_counter of a machine whose speed changes between blocks: a call costs `cost` times the spell's factor,
    and the spell changes after every round (two blocks), as a busy neighbour comes and goes."""

    def __init__(self, spells):
        self.now, self.reads, self.spells = 0.0, 0, spells

    def perf_counter(self):
        self.reads += 1  # two reads a block: start and stop
        return self.now

    def calls(self, cost):
        def call():
            self.now += cost * self.spells[(self.reads // 4) % len(self.spells)]
        return call


def test_each_round_compares_the_two_methods_in_the_same_spell(monkeypatch):
    clock = SpellClock([1.0, 5.0, 1.3, 9.0, 2.0])
    monkeypatch.setattr(worker, "time", clock)
    ratio = worker.paired_ratio(clock.calls(3e-5), 3e-5, clock.calls(1e-5), 1e-5, lambda: None)
    assert ratio == pytest.approx(3.0, rel=1e-12)  # every round is in one spell: the spells cancel
    assert clock.reads == 4 * worker.PAIRED_ROUNDS[1]  # the most rounds: these calls are cheap


def test_no_ratio_where_the_fewest_rounds_do_not_fit():
    never = pytest.fail  # not called: the rounds are counted before any is run
    slow = worker.PAIRED_S / worker.PAIRED_ROUNDS[0]
    assert worker.paired_ratio(never, slow, never, slow, lambda: None) is None


@pytest.mark.parametrize("method", ["checkpoint", "naive", "forward", "backprop"])
def test_the_check_reports_the_interleaved_ratio_of_every_gradient_method_but_backprop(method):
    out = subprocess.run([sys.executable, "-m", "bench.sweep.worker", "check", "--method", method, "--depth", "3",
                          "--width", "4", "--input-dim", "4", "--batch", "2"], capture_output=True, text=True,
                         check=True).stdout
    ratio = json.loads(out)["time_vs_backprop"]
    # forward runs no backprop at all: its memory guard counts none
    assert ratio is None if method in ("backprop", "forward") else ratio > 0


def test_a_slow_first_call_is_not_what_sets_the_loops(monkeypatch):
    clock = SpellClock([1.0])
    monkeypatch.setattr(worker, "time", clock)
    costs = iter([2.0, 1e-3, 1e-3])  # the first call pays a start-up (an import, a device's libraries)

    def call():
        clock.now += next(costs)
        return "result"

    seconds, result = worker.warm_call(call, lambda: None)
    assert seconds == pytest.approx(1e-3, rel=1e-9)
    assert result == "result"


def test_a_long_first_call_is_not_repeated(monkeypatch):
    clock = SpellClock([1.0])
    monkeypatch.setattr(worker, "time", clock)
    calls = []

    def call():
        calls.append(1)
        clock.now += worker.COLD_ONLY_S

    assert worker.warm_call(call, lambda: None)[0] == worker.COLD_ONLY_S
    assert len(calls) == 1
