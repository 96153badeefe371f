"""The sweep on other backends: --backend/--device/--dtype checked before any file, float32 rows,
and timing that waits for the device (timed_loops against a fake device that only queues work)."""

import importlib.util
import time
import types

import pandas as pd
import pytest
from helpers import NO_TORCH, fake_torch, installed, missing

from bench.errors import UserError
from bench.results import read_results
from bench.sweep import child
from bench.sweep import points as points_module
from bench.sweep.loop import FLOAT32_TOLERANCE, agreement
from bench.sweep.points import Point, normal_device, plan
from bench.sweep.results_file import open_results


def rows_of(path):
    """The rows of a results CSV as the readers see them (numbers as numbers, empty as NaN)."""
    return read_results(path).to_dict("records")


def assert_refused(gradbench, tmp_path, *options, says):
    """Exit 2, one line on stderr containing `says`, and neither the CSV nor its pyperf folder."""
    out = tmp_path / "r.csv"
    result = gradbench("sweep", "--depth", "1", "--width", "2", "--profile", "quick", "--out", out,
                       *options)
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradbench: error: "), result.err
    assert says in lines[0]
    assert not out.exists() and not (tmp_path / "r.csv.pyperf").exists()


@pytest.mark.parametrize("options, says", [
    (["--dtype", "float16"], "--dtype float16: choose from float64, float32"),
    (["--device", "gpu"], "--device gpu: choose cpu, cuda or cuda:N"),
    (["--device", "cuda:x"], "--device cuda:x"),
    (["--backend", "jax"], "--backend jax: choose from numpy, torch, cupy"),
    (["--backend", ","], "--backend: empty list"),
    (["--device", "cuda"], "NumPy computes on the CPU only"),
    (["--backend", "numpy", "--device", "cpu,cuda:0"], "NumPy computes on the CPU only"),
    (["--dtype", "float32", "--methods", "numerical"],
     "--methods numerical --dtype float32: numerical needs float64"),
    (["--dtype", "float64,float32", "--methods", "backprop,numerical"], "numerical needs float64"),
])
def test_bad_options_exit_2_with_one_line_and_no_file(gradbench, tmp_path, options, says):
    assert_refused(gradbench, tmp_path, *options, says=says)


@pytest.mark.parametrize("backend, name", [("torch", "PyTorch"), ("cupy", "CuPy")])
def test_a_backend_not_installed_names_what_to_install(gradbench, tmp_path, monkeypatch, backend,
                                                       name):
    monkeypatch.setattr(importlib.util, "find_spec", missing(backend))
    assert_refused(gradbench, tmp_path, "--backend", f"numpy,{backend}",
                   says=f"--backend {backend}: {name} is not installed "
                        f"(pip install 'gradbench[{backend}]')")


@pytest.mark.parametrize("count, device, says", [
    (0, "cuda", "--device cuda: PyTorch finds 0 CUDA device(s) (torch 9.9.9, a CPU-only build)"),
    (1, "cuda:1", "--device cuda:1: PyTorch finds 1 CUDA device(s), cuda:0 Fake GPU 0 "
                  "(torch 9.9.9, built for CUDA"),
    (2, "cpu,cuda:2", "finds 2 CUDA device(s), cuda:0 Fake GPU 0, cuda:1 Fake GPU 1"),
])
def test_a_cuda_device_that_is_not_there_says_what_was_found(gradbench, tmp_path, monkeypatch,
                                                             count, device, says):
    monkeypatch.setattr(importlib.util, "find_spec", installed("torch"))
    monkeypatch.setitem(__import__("sys").modules, "torch", fake_torch(count))
    assert_refused(gradbench, tmp_path, "--backend", "torch", "--device", device, says=says)


def test_a_present_cuda_device_is_accepted(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", installed("torch"))
    monkeypatch.setitem(__import__("sys").modules, "torch", fake_torch(2))
    placements = points_module.parse_placements("torch", "cpu,cuda:1", "float32,float64")
    assert placements == [("torch", d, t) for d in ("cpu", "cuda:1")
                          for t in ("float32", "float64")]


def test_cupy_without_a_driver_and_on_the_cpu_are_refused(gradbench, tmp_path, monkeypatch):
    def no_driver():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    runtime = types.SimpleNamespace(getDeviceCount=no_driver)
    cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))
    monkeypatch.setattr(importlib.util, "find_spec", installed("cupy"))
    monkeypatch.setitem(__import__("sys").modules, "cupy", cupy)
    assert_refused(gradbench, tmp_path, "--backend", "cupy", "--device", "cuda",
                   says="CuPy finds no CUDA device (RuntimeError: cudaErrorNoDevice")
    assert_refused(gradbench, tmp_path, "--backend", "cupy",
                   says="CuPy computes on CUDA devices only")


def test_the_plan_is_the_product_of_the_placements():
    points = plan("1,2", "4", "1", "naive,backprop", backend="numpy", device="cpu",
                  dtype="float64,float32")
    assert len(points) == 2 * 2 * 2
    assert {(p.depth, p.method, p.dtype) for p in points} == {
        (d, m, t) for d in (1, 2) for m in ("naive", "backprop") for t in ("float64", "float32")}
    assert len({p.slug for p in points}) == len(points)  # each point its own pyperf JSON


def test_float32_agreement_tolerance():
    point = Point("naive", 2, 4, 4, 1, dtype="float32")
    assert agreement(point, FLOAT32_TOLERANCE / 2)["agree"] is True
    assert agreement(point, FLOAT32_TOLERANCE * 2)["agree"] is False
    float64 = Point("naive", 2, 4, 4, 1)  # stays strict
    assert agreement(float64, FLOAT32_TOLERANCE / 2)["agree"] is False


def test_the_child_builds_on_the_points_dtype(monkeypatch):
    net, X, y, call = child.build(Point("backprop", 2, 4, 3, 5, dtype="float32"))
    assert str(net.dtype) == str(X.dtype) == str(y.dtype) == str(call().alpha.dtype) == "float32"
    assert X.shape == (5, 3)
    monkeypatch.setattr(__import__("gradients").backends, "synchronize", pytest.fail)
    # the CPU: a call is over when it returns, no wait
    child.syncer(Point("backprop", 2, 4, 3, 5), net)()


def test_a_numpy_float32_sweep_records_its_dtype_and_framework(gradbench, tmp_path):
    out = tmp_path / "r.csv"
    # one network, each method of the default sweep
    result = gradbench("sweep", "--depth", "2", "--width", "4", "--profile", "quick",
                       "--dtype", "float32", "--out", out)
    assert result.code == 0, result.err
    rows = rows_of(out)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"ok"}
    for r in rows:
        assert (r["backend"], r["device"], r["dtype"]) == ("numpy", "cpu", "float32")
        assert r["agree"] == "True" and r["framework"].startswith("numpy ") and r["device_name"]
        assert r["peak_mem_bytes"] > 0  # tracemalloc sees NumPy's float32 arrays too
        assert pd.isna(r["mem_model_bytes"])  # the model is of float64
    naive = [r for r in rows if r["method"] == "naive"]
    assert all(0 <= r["max_rel_err"] <= FLOAT32_TOLERANCE for r in naive)


class FakeDevice:
    """A device whose calls only queue `per_call` seconds of work each; sync() waits them out."""

    def __init__(self, per_call):
        self.per_call, self.done_at, self.calls = per_call, 0.0, 0

    def call(self):
        self.calls += 1
        self.done_at = max(self.done_at, time.perf_counter()) + self.per_call  # returns at once

    def busy(self):
        return time.perf_counter() < self.done_at

    def sync(self):
        while self.busy():
            time.sleep(max(self.done_at - time.perf_counter(), 0))


def test_timed_loops_waits_for_the_device():
    device, loops = FakeDevice(per_call=0.005), 20
    queued = device.per_call * loops
    assert child.timed_loops(device.call, device.sync, loops) >= queued
    assert device.calls == loops and not device.busy()
    # the same loop without the wait stops its clock while the device still works: it
    # measures the queueing
    unsynced = child.timed_loops(device.call, lambda: None, loops)
    assert device.busy() and unsynced < queued
    device.sync()


def test_timed_loops_does_not_count_work_queued_before_it():
    device = FakeDevice(per_call=0.05)
    device.call()  # a warmup's work, still running
    measured = child.timed_loops(lambda: None, device.sync, 3)
    # the wait before the clock starts takes the warmup's 50 ms: a timer counting it would
    # measure >= 0.05
    assert not device.busy() and measured < device.per_call


def run_check(point):
    """The child's check of a point, in this process: its columns."""
    return child.Checker().check(point)[0]


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def devices(torch):
    return "cpu,cuda" if torch.cuda.is_available() else "cpu"


def test_every_method_checks_on_torch(torch):
    """The spec's torch sweep, depth 1:4:x2 width 8, each point's check run here (one import)."""
    points = plan("1:4:x2", "8", "1", "naive,backprop,autograd,forward", backend="torch",
                  device=devices(torch), dtype="float64,float32")
    assert len(points) == 3 * 4 * 2 * len(devices(torch).split(","))
    for point in points:
        check = run_check(point)
        assert check["framework"] == f"torch {torch.__version__}" and check["device_name"]
        assert agreement(point, check["max_rel_err"])["agree"] is True, (point.label, check)
        if point.device == "cpu":  # nobody counts torch's CPU allocator
            assert check["peak_mem_bytes"] is None and check["work_mem_bytes"] is None
        else:  # torch.cuda's peak over what was allocated before the call
            assert check["peak_mem_bytes"] >= check["work_mem_bytes"] >= 0


def test_a_torch_sweep_runs_end_to_end(torch, gradbench, tmp_path):
    out = tmp_path / "t.csv"
    result = gradbench("sweep", "--backend", "torch", "--device", devices(torch).split(",")[-1],
                       "--methods", "autograd", "--depth", "2", "--width", "8", "--profile",
                       "quick", "--out", out)
    assert result.code == 0, result.err
    (row,) = rows_of(out)
    assert row["status"] == "ok" and row["agree"] == "True" and row["time_median_s"] > 0
    assert row["backend"] == "torch" and row["framework"] == f"torch {torch.__version__}"
    assert pd.isna(row["mem_model_bytes"])


# --- cuda and cuda:0: one device, one spelling ------------------------------------------


@pytest.mark.parametrize("given, normal", [("cuda", "cuda:0"), ("cuda:0", "cuda:0"),
                                           ("cuda:01", "cuda:1"), ("cuda:3", "cuda:3"),
                                           ("cpu", "cpu"), (" cuda ", "cuda:0"), ("gpu", "gpu"),
                                           ("cuda:x", "cuda:x")])
def test_normal_device(given, normal):
    assert normal_device(given) == normal


def test_cuda_and_cuda_0_are_one_placement_and_the_points_say_cuda_0(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", installed("torch"))
    monkeypatch.setitem(__import__("sys").modules, "torch", fake_torch(1))
    placements = points_module.parse_placements("torch", "cuda,cuda:0", "float64")
    assert placements == [("torch", "cuda:0", "float64")]
    points = plan("1", "2", "1", "backprop", backend="torch", device="cuda")
    assert [p.device for p in points] == ["cuda:0"]
    assert Point.from_row({**points[0].__dict__, "device": "cuda"}) == points[0]


def test_a_file_saying_cuda_reads_as_cuda_0_and_cuda_0_is_its_duplicate(tmp_path, result_row,
                                                                        write_csv):
    gpu = dict(backend="torch", dtype="float64")
    write_csv(tmp_path / "one.csv", pd.DataFrame([result_row("backprop", **gpu, device="cuda")]))
    assert list(read_results(tmp_path / "one.csv")["device"]) == ["cuda:0"]
    both = [result_row("backprop", **gpu, device="cuda"),
            result_row("backprop", **gpu, device="cuda:0")]
    write_csv(tmp_path / "two.csv", pd.DataFrame(both))
    with pytest.raises(UserError, match="lines 2 and 3 hold the same point"):
        read_results(tmp_path / "two.csv")


def test_resume_counts_a_row_written_as_cuda_done_for_cuda_0(tmp_path, result_row, write_csv):
    row = result_row("backprop", backend="torch", device="cuda", dtype="float64")
    write_csv(tmp_path / "r.csv", pd.DataFrame([row]))
    planned = Point.from_row({**row, "device": "cuda:0"}).key()
    with open_results(tmp_path / "r.csv", [planned], resume=True) as results:
        assert list(results.done) == [planned]


def test_autograd_without_torch_names_the_extra(gradbench, tmp_path, monkeypatch):
    # as registered without torch
    monkeypatch.setattr(__import__("gradients"), "METHODS", ("backprop", "naive"))
    assert_refused(gradbench, tmp_path, "--methods", "naive,autograd",
                   says="--methods naive,autograd: autograd is PyTorch's own reverse mode, and "
                        "PyTorch is not installed (pip install 'gradbench[torch]')")


def test_a_missing_backend_is_named_before_a_method_it_would_bring(gradbench, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", missing("torch"))
    monkeypatch.setattr(__import__("gradients"), "METHODS", ("backprop", "naive"))
    assert_refused(gradbench, tmp_path, "--backend", "torch", "--methods", "autograd",
                   says="--backend torch: PyTorch is not installed "
                        "(pip install 'gradbench[torch]')")
