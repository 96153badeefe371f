"""The sweep's launcher: a real child process whose point fails, whose spec kills it, or that runs
too long."""

import signal
import subprocess

import pytest

from bench.sweep import launcher
from bench.sweep.budget import PROFILES
from bench.sweep.launcher import Child, ChildDied, child_env
from bench.sweep.points import Point


def spec(*points):
    return {"points": [p.__dict__ for p in points], "ops": [1] * len(points),
            "profile": PROFILES["quick"].__dict__, "max_seconds": 60.0, "budget": [], "seed": 0}


def events(child, timeout=30):
    """Every event of the child up to its `done`."""
    seen = []
    while not seen or seen[-1]["event"] != "done":
        event = child.next(timeout)
        assert event is not None, seen
        seen.append(event)
    return seen


def test_a_point_that_fails_is_an_error_event_and_the_others_go_on():
    child = Child(spec(Point("bogus", 1, 2, 2, 1), Point("backprop", 1, 2, 2, 1)), child_env(1))
    try:
        seen = events(child)
    finally:
        child.kill()
    [error] = [e for e in seen if e["event"] == "error"]
    assert error["i"] == 0
    assert "unknown method 'bogus'" in error["reason"]
    assert sum(e["event"] == "block" and e["i"] == 1 for e in seen) == PROFILES["quick"].rounds


def test_a_child_that_dies_says_why_in_one_line():
    child = Child({"points": "not a list of points"}, child_env(1))
    try:
        with pytest.raises(ChildDied) as e:
            events(child)
    finally:
        child.kill()
    assert "Error" in str(e.value)
    assert "\n" not in str(e.value)


def test_a_child_that_says_nothing_in_time_is_none_and_killed_whole():
    child = Child(spec(Point("backprop", 1, 2, 2, 1)), child_env(1))
    assert child.next(0.001) is None  # it has not imported numpy yet
    child.kill()
    assert child.proc.returncode == -9


def test_a_child_whose_reader_thread_cannot_start_does_not_outlive_the_sweep(monkeypatch):
    started = []

    def popen(*args, **kwargs):  # the real one, remembered
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def no_thread(self):  # as under ulimit -v: found by the command line's property test
        raise RuntimeError("can't start new thread")

    real_popen = subprocess.Popen
    monkeypatch.setattr(launcher.subprocess, "Popen", popen)
    monkeypatch.setattr(launcher.threading.Thread, "start", no_thread)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        launcher.Child({}, env=child_env(1))
    [proc] = started
    assert proc.returncode == -signal.SIGKILL  # killed and reaped, not left running
