"""The sweep's budget: how long a point's pyperf run will take, predicted from the points measured before it."""

import pytest

from bench.sweep.budget import PROFILES, Budget, predict_run_seconds
from bench.sweep.points import Point


def test_predicted_run_grows_with_the_call_and_counts_every_value():
    quick = PROFILES["quick"]
    assert predict_run_seconds(1.0, quick) >= (quick.processes + 1) * (quick.warmups + quick.values) * 1.0
    # below min_time pyperf loops the call until a value lasts min_time: the run no longer shrinks
    assert predict_run_seconds(1e-6, quick) == predict_run_seconds(1e-3, quick) < predict_run_seconds(0.1, quick)
    assert predict_run_seconds(0.1, quick) < predict_run_seconds(1.0, quick)
    assert predict_run_seconds(1.0, PROFILES["rigorous"]) > predict_run_seconds(1.0, PROFILES["default"])


def test_budget_predicts_from_the_largest_measured_point():
    budget = Budget(PROFILES["quick"], max_seconds=60)
    small, large = Point("naive", 1, 2, 2, 1, "relu", 0), Point("naive", 4, 2, 2, 1, "relu", 0)
    assert budget.predict(small, 100) is None  # nothing measured yet
    budget.record(large, 1000, 1e-3, "pyperf")
    budget.record(small, 100, 1.0, "pyperf")  # smaller: ignored
    seconds, why = budget.predict(small, 10**6)
    assert seconds == pytest.approx(predict_run_seconds(1.0, PROFILES["quick"]))
    assert "depth=4" in why
    assert budget.over(seconds, why) is None
    reason = budget.over(1e3, why)
    assert reason.startswith("predicted 1e+03 s > --max-seconds 60")
