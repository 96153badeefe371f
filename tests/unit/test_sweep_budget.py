"""The sweep's budget: how long a point's rounds take, predicted from points measured before it."""

import pytest

from bench.sweep.budget import MIN_ROUNDS, PROFILES, Budget, predict_run_seconds
from bench.sweep.child import affordable_rounds, loops_for
from bench.sweep.points import Point


def test_predicted_run_grows_with_the_call_and_counts_every_round():
    quick = PROFILES["quick"]
    assert predict_run_seconds(1.0, quick) >= quick.rounds * 1.0
    # below block_s a block loops the call until it lasts block_s: the rounds no longer shrink
    assert (quick.rounds * quick.block_s <= predict_run_seconds(1e-6, quick)
            < predict_run_seconds(0.1, quick))
    assert predict_run_seconds(0.1, quick) < predict_run_seconds(1.0, quick)
    assert predict_run_seconds(1.0, quick, MIN_ROUNDS) < predict_run_seconds(1.0, quick)
    assert (predict_run_seconds(1.0, PROFILES["rigorous"])
            > predict_run_seconds(1.0, PROFILES["default"]))


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("call_s", [1e-9, 3.7e-7, 1e-6, 2.5e-5, 1e-4, 9.9e-4, 1e-3, 0.0049])
def test_loops_make_a_block_last_block_s(name, call_s):
    block_s = PROFILES[name].block_s
    loops = loops_for(call_s, block_s)
    if call_s >= block_s:
        assert loops == 1
    else:
        # the fewest calls that last block_s, up to the rounding of block_s / call_s
        assert (block_s <= loops * call_s * (1 + 1e-12)
                and (loops - 1) * call_s < block_s * (1 + 1e-12))


@pytest.mark.parametrize("call_s", [0.01, 0.1, 1.0, 100.0])
def test_a_call_as_long_as_a_block_is_one_loop(call_s):
    assert loops_for(call_s, PROFILES["rigorous"].block_s) == 1


def test_max_seconds_cuts_the_rounds_never_above_the_profile_s():
    quick = PROFILES["quick"]
    assert affordable_rounds(1e-5, loops_for(1e-5, quick.block_s), quick, 60) == quick.rounds
    assert affordable_rounds(1.0, 1, quick, 7.5) == 7
    assert affordable_rounds(10.0, 1, quick, 5) == 0


def test_budget_predicts_from_the_largest_measured_point():
    budget = Budget(PROFILES["quick"], max_seconds=60)
    small, large = Point("naive", 1, 2, 2, 1, "relu", 0), Point("naive", 4, 2, 2, 1, "relu", 0)
    assert budget.predict(small, 100) is None  # nothing measured yet
    budget.record(large, 1000, 1e-3, "pyperf")
    budget.record(small, 100, 1.0, "pyperf")  # smaller: ignored
    seconds, why = budget.predict(small, 10**6)
    # the fewest rounds
    assert seconds == pytest.approx(predict_run_seconds(1.0, PROFILES["quick"], MIN_ROUNDS))
    assert "depth=4" in why
    assert budget.over(seconds, why) is None
    reason = budget.over(1e3, why)
    assert reason.startswith("predicted 1e+03 s > --max-seconds 60")


GPU = dict(backend="torch", device="cuda:0", dtype="float64")


def test_a_gpu_measurement_never_predicts_a_cpu_point():
    budget = Budget(PROFILES["quick"], max_seconds=60)
    on_gpu, on_cpu = Point("naive", 8, 16, 16, 1, **GPU), Point("naive", 8, 16, 16, 1)
    budget.record(on_gpu, 10**6, 1e-4, "pyperf")  # 1e-10 s/op: the device's parallel chains
    assert budget.predict(on_cpu, 10**6) is None  # nothing measured on the CPU yet: no prediction
    assert budget.predict(on_gpu, 10**6) is not None
    budget.record(on_cpu, 10**6, 1.0, "pyperf")  # 1e-6 s/op on one core
    gpu_s, gpu_why = budget.predict(on_gpu, 10**8)
    cpu_s, cpu_why = budget.predict(on_cpu, 10**8)
    assert gpu_s == pytest.approx(predict_run_seconds(1e-2, PROFILES["quick"], MIN_ROUNDS))
    assert cpu_s == pytest.approx(predict_run_seconds(100.0, PROFILES["quick"], MIN_ROUNDS))
    assert "on torch cuda:0 float64" in gpu_why and "on torch" not in cpu_why


@pytest.mark.parametrize("other", [dict(dtype="float32"), dict(device="cpu"),
                                   dict(backend="numpy", device="cpu"), dict(method="backprop")])
def test_each_method_backend_device_and_dtype_is_its_own_budget(other):
    budget = Budget(PROFILES["quick"], max_seconds=60)
    measured = Point("naive", 8, 16, 16, 1, **GPU)
    budget.record(measured, 10**6, 1e-4, "pyperf")
    fields = {**measured.__dict__, **other}
    assert budget.predict(Point(**fields), 10**6) is None


def test_a_cluster_workers_budget_merges_by_placement():
    quick = PROFILES["quick"]
    here, there = Budget(quick, 60), Budget(quick, 60)
    cpu, gpu = Point("naive", 8, 16, 16, 1), Point("naive", 8, 16, 16, 1, **GPU)
    here.record(cpu, 10**6, 1.0, "pyperf")
    # larger, but of another placement: must not replace the CPU's
    there.record(gpu, 10**7, 1e-3, "pyperf")
    here.merge(there.measured)
    assert (here.predict(cpu, 10**6)[0]
            == pytest.approx(predict_run_seconds(1.0, quick, MIN_ROUNDS)))
    assert (here.predict(gpu, 10**7)[0]
            == pytest.approx(predict_run_seconds(1e-3, quick, MIN_ROUNDS)))
