"""The memory guard: estimates that hold against what tracemalloc measures, and refusals before
any allocation."""

import importlib.util
import os
import subprocess
import sys
import tracemalloc
import types

import numpy as np
import pytest
from helpers import REASON, STATUS, fake_torch, gradbench, installed, lines_of, one_line_error

import bench.sweep.launcher as launcher
import gradients
from bench import guard
from bench import train as training

# Python's own objects (lists, tuples, scalars) beside the arrays the estimates count
SLACK = 16 * 2**10


def traced_peak(call):
    """Peak bytes allocated while call() runs (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("method", ["forward", "backprop", "naive", "numerical"])
def test_the_gradient_estimate_covers_the_measured_peak_over_random_shapes(method):
    rng = np.random.default_rng(12)
    for _ in range(12):
        top = {"numerical": 12, "naive": 60}.get(method, 120)
        widths = [int(w) for w in rng.integers(1, top, size=rng.integers(2, 6))]
        batch = int(rng.integers(1, 40))
        activation = str(rng.choice(gradients.ACTIVATIONS))
        net = gradients.Network.init(widths, seed=0, activation=activation)
        X, y = gradients.make_data(widths, batch, seed=0)
        if method == "forward":
            peak = traced_peak(lambda: gradients.loss(net, X, y))  # noqa: B023
        else:
            peak = traced_peak(lambda: gradients.gradient(net, X, y, method=method))  # noqa: B023
        estimate = guard.gradient_bytes(method, widths, batch, activation)
        assert peak <= estimate + SLACK, (widths, batch, activation)
        # naive's chain blocks are estimated at the widest layer: generous by design
        if method != "naive":
            assert estimate <= 4 * peak + guard.UFUNC_BUFFERS + SLACK, (widths, batch, activation)


@pytest.mark.parametrize("settings", [
    dict(depth=2, width=64, samples=2000, batch_size=32, method="backprop", optimizer="adam"),
    dict(depth=3, width=16, samples=3000, batch_size=512, method="naive", optimizer="sgd"),
    dict(depth=1, width=200, input_dim=50, samples=3000, batch_size=3000, method="backprop",
         optimizer="adagrad"),
])
def test_the_training_estimate_covers_the_measured_peak(settings):
    training.run(epochs=1, samples=8, progress=False)  # imports are not the run's memory
    peak = traced_peak(lambda: training.run(epochs=2, progress=False, **settings))
    input_dim = settings.get("input_dim", training.SYNTHETIC_INPUT_DIM)
    widths = [input_dim] + [settings["width"]] * settings["depth"]
    estimate = guard.train_bytes(widths, settings["samples"], settings["batch_size"],
                                 settings["method"], settings["optimizer"])
    assert peak <= estimate <= 4 * peak


@pytest.mark.parametrize("args", [["--width", "10000000"], ["--samples", "10000000000000"],
                                  ["--input-dim", "100000000"],
                                  ["--depth", "100000", "--width", "100000"]])
def test_train_refuses_what_cannot_fit_before_allocating_it(args):
    assert guard.available_bytes() is not None
    tracemalloc.start()
    code, _, err = gradbench("train", *args, "--no-progress")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (one_line_error(code, err) and "needs about" in err
            and "is available: lower --width" in err), err
    assert peak < 2**26  # refused with next to nothing allocated


def test_a_sweep_point_that_cannot_fit_is_skipped_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(guard, "available_bytes", lambda: 3 * 2**20)
    monkeypatch.setattr(launcher, "Child", pytest.fail)  # nothing is started for it
    out = tmp_path / "r.csv"
    code, stdout, err = gradbench("sweep", "--depth", "2", "--width", "512", "--methods", "naive",
                                  "--out", out)
    assert code == 0, err
    [r] = lines_of(out)
    assert r[STATUS] == "skipped"
    assert "this point needs about" in r[REASON]
    assert "3 MiB is available" in r[REASON]
    assert "skipped: naive depth=2 width=512" in stdout


def test_available_memory_honours_the_address_space_limit():
    script = ("import resource; from bench.guard import available_bytes, _rlimit\n"
              "size = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024\n"
              "resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, resource.RLIM_INFINITY))\n"
              "print(available_bytes() <= 2**30, _rlimit() <= 2**30)")
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux /proc")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.stdout.split() == ["True", "True"], done.stderr


# --- on a CUDA device: the device's free memory, not the host's --------------------------


def fake_gpu_torch(free, asked):
    """A stand-in for torch with one CUDA device that has `free` bytes free.

    `asked` collects the device indices."""
    torch = fake_torch(2)
    torch.cuda.mem_get_info = lambda index: asked.append(index) or (free, 80 * 2**30)
    return torch


def fake_cupy(free, asked):
    """A stand-in for cupy whose memGetInfo answers for the current device (the last entered)."""
    current = []

    class Device:
        def __init__(self, index):
            self.index = index

        def __enter__(self):
            current.append(self.index)

        def __exit__(self, *exc):
            current.pop()

    def mem_get_info():
        asked.append(current[-1])
        return free, 80 * 2**30

    runtime = types.SimpleNamespace(memGetInfo=mem_get_info)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(Device=Device, runtime=runtime))


@pytest.mark.parametrize("backend, fake", [("torch", fake_gpu_torch), ("cupy", fake_cupy)])
def test_on_a_gpu_the_guard_asks_the_device_not_the_host(monkeypatch, backend, fake):
    asked = []
    monkeypatch.setattr(guard, "available_bytes", pytest.fail)  # the host's RAM is not the device's
    monkeypatch.setitem(sys.modules, backend, fake(3 * 2**30, asked))
    reason = guard.refusal(2 * 2**30, "this point", backend, "cuda:1")
    assert reason is None  # 2 GiB (with the guard's margin) fits in 3 GiB
    reason = guard.refusal(4 * 2**30, "this point", backend, "cuda:1")
    assert reason == "this point needs about 4 GiB of cuda:1 memory, and 3 GiB of it is free"
    assert asked == [1, 1]  # the device named, each time


def test_a_gpu_that_cannot_say_is_not_refused_here(monkeypatch):
    def no_driver(index):
        raise RuntimeError("CUDA driver initialization failed")

    torch = fake_torch(1)
    torch.cuda.mem_get_info = no_driver
    monkeypatch.setitem(sys.modules, "torch", torch)
    # the child's own error will say why
    assert guard.refusal(2**40, "this point", "torch", "cuda:0") is None


def test_small_needs_do_not_ask_the_device(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", fake_gpu_torch(0, asked := []))
    assert guard.refusal(guard.UNCHECKED / guard.SPARE, "x", "torch", "cuda:0") is None
    assert asked == []  # no CUDA context made for a point that surely fits


def test_a_gpu_sweep_point_over_the_devices_free_memory_is_skipped(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(importlib.util, "find_spec", installed("torch"))
    monkeypatch.setitem(sys.modules, "torch", fake_gpu_torch(3 * 2**20, asked))
    # plenty of host RAM: not what counts
    monkeypatch.setattr(guard, "available_bytes", lambda: 2**40)
    monkeypatch.setattr(launcher, "Child", pytest.fail)  # nothing is started for it
    out = tmp_path / "r.csv"
    code, _, err = gradbench("sweep", "--backend", "torch", "--device", "cuda", "--depth", "2",
                             "--width", "512", "--methods", "naive", "--out", out)
    assert code == 0, err
    [r] = lines_of(out)
    assert r[STATUS] == "skipped"
    assert "of cuda:0 memory, and 3 MiB of it is free" in r[REASON]
    assert asked == [0]


def test_gpu_training_that_cannot_fit_is_one_line_naming_the_device(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", installed("torch"))
    monkeypatch.setitem(sys.modules, "torch", fake_gpu_torch(2**30, []))
    monkeypatch.setattr(guard, "available_bytes", lambda: 2**50)
    code, _, err = gradbench("train", "--backend", "torch", "--device", "cuda:1",
                             "--width", "100000", "--no-progress")
    assert one_line_error(code, err), err
    assert "of cuda:1 memory, and 1 GiB of it is free: lower --width" in err, err
