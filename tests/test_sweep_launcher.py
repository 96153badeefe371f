"""The sweep's launcher: a worker subprocess that fails or runs too long becomes a WorkerFailed with its reason."""

import pytest

from bench.sweep.launcher import WorkerFailed, run_worker, worker_env


def test_real_worker_error_and_timeout_are_reported():
    args = ["--depth", "1", "--width", "2", "--input-dim", "2", "--batch", "1"]
    with pytest.raises(WorkerFailed) as e:
        run_worker(["check", "--method", "bogus", *args], worker_env(1), 30)
    assert e.value.status == "error"
    assert "unknown method 'bogus'" in e.value.reason
    with pytest.raises(WorkerFailed) as e:
        run_worker(["check", "--method", "backprop", *args], worker_env(1), 0.01)
    assert e.value.status == "timeout"
    assert "killed" in e.value.reason
