"""Training on other backends: the same losses as on NumPy (array_api_strict always, PyTorch where
installed), the placement in every row and the summary, and the sweep's one-line refusals for a
missing library or device."""

import importlib.util
import sys

import numpy as np
import pytest
from helpers import NO_TORCH, fake_torch, installed, missing

import gradients
from bench import train as training
from gradients import data
from gradients.train import OPTIMIZERS, train

SMALL = dict(depth=3, width=6, input_dim=3, samples=90, epochs=6, batch_size=16, progress=False)
HAS_TORCH = importlib.util.find_spec("torch") is not None


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b))


def assert_same_losses(a, b, tolerance):
    assert len(a) == len(b) == SMALL["epochs"] + 1
    # the trajectory moves: not a trivial match
    assert a[-1]["train_loss"] < 0.95 * a[0]["train_loss"]
    for x, y in zip(a, b):
        assert rel(x["train_loss"], y["train_loss"]) <= tolerance, x["epoch"]
        assert rel(x["test_loss"], y["test_loss"]) <= tolerance, x["epoch"]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("method", ["backprop", "naive", "checkpoint"])
def test_the_training_loop_uses_only_the_array_api(method, optimizer):
    """gradients.train on array_api_strict (the standard alone) follows NumPy's trajectory."""
    import array_api_strict

    rng = np.random.default_rng(3)
    for _ in range(4):
        widths = [int(w) for w in rng.integers(1, 7, size=rng.integers(2, 5))]
        task = data.synthetic_task(widths, 40, 0.1, 0.25, int(rng.integers(1000)))
        net = gradients.Network.init(widths, seed=int(rng.integers(1000)))
        arrays = (task.X_train, task.y_train, task.X_test, task.y_test)
        runs = []
        for on in (None, array_api_strict):
            moved = arrays if on is None else [gradients.backends.move(a, on) for a in arrays]
            student = net if on is None else net.to(on)
            epochs = train(student, *moved[:2], method=method, optimizer=optimizer, lr=1e-2,
                           epochs=3, batch_size=7, rng=np.random.default_rng(0),
                           X_test=moved[2], y_test=moved[3])
            runs.append([(e.train_loss, e.test_loss) for e in epochs])
        np.testing.assert_allclose(runs[1], runs[0], rtol=1e-12, atol=0)


@pytest.mark.skipif(not HAS_TORCH, reason=NO_TORCH)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("method", ["backprop", "naive", "checkpoint", "autograd"])
def test_torch_float64_trains_as_numpy_does(method, optimizer):
    lr = 1e-2 if optimizer == "adam" else None  # Adam's default 1e-3 barely moves in 6 epochs
    numpy_rows = training.run(method="backprop", optimizer=optimizer, lr=lr, **SMALL)
    torch_rows = training.run(method=method, optimizer=optimizer, lr=lr, backend="torch", **SMALL)
    assert_same_losses(numpy_rows, torch_rows, 1e-10)
    placements = {(r["backend"], r["device"], r["dtype"]) for r in torch_rows}
    assert placements == {("torch", "cpu", "float64")}


@pytest.mark.skipif(not HAS_TORCH, reason=NO_TORCH)
def test_torch_float32_trains_as_float64_to_its_precision(gradbench, tmp_path):
    out = tmp_path / "t.csv"
    result = gradbench("train", *cli_args(SMALL), "--backend", "torch", "--dtype", "float32",
                       "--out", out)
    assert result.code == 0, result
    assert "on torch cpu float32:" in result.out
    rows = training.run(**SMALL)
    import csv

    with open(out) as f:
        written = list(csv.DictReader(f))
    placements = {(r["backend"], r["device"], r["dtype"]) for r in written}
    assert placements == {("torch", "cpu", "float32")}
    for x, y in zip(rows, written):
        # float32's documented agreement
        assert rel(x["train_loss"], float(y["train_loss"])) <= 1e-4


def cli_args(settings):
    """Command-line options of training.run settings."""
    args = []
    for name, value in settings.items():
        if name != "progress":
            args += [f"--{name.replace('_', '-')}", str(value)]
    return args + ["--no-progress"]


def test_numpy_rows_and_summary_name_the_placement(gradbench, tmp_path):
    rows = training.run(**SMALL)
    assert {(r["backend"], r["device"], r["dtype"]) for r in rows} == {("numpy", "cpu", "float64")}
    assert rows[0]["device_name"] == gradients.backends.cpu_name()
    assert " on numpy cpu float64: " in training.summary(rows)


def test_torch_not_installed_exits_2_naming_the_extra(gradbench, tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", missing("torch"))
    out = tmp_path / "t.csv"
    result = gradbench("train", "--backend", "torch", "--epochs", "1", "--no-progress",
                       "--out", out)
    assert result.code == 2
    assert result.err.splitlines() == ["gradbench: error: --backend torch: PyTorch is not "
                                       "installed (pip install 'gradbench[torch]')"]
    assert not out.exists()


@pytest.mark.parametrize("args, says", [
    (["--backend", "numpy", "--device", "cuda"],
     "--backend numpy --device cuda: NumPy computes on the CPU only"),
    (["--backend", "torch", "--device", "cuda:1"],
     "--device cuda:1: PyTorch finds 1 CUDA device(s), cuda:0 Fake"),
    (["--backend", "numpy,torch"], "--backend numpy,torch: train runs on one backend"),
    (["--dtype", "float16"], "--dtype float16: choose from float64, float32"),
    (["--device", "tpu"], "--device tpu: choose cpu, cuda or cuda:N"),
])
def test_bad_placements_exit_2_in_one_line_as_sweep_says(gradbench, tmp_path, monkeypatch, args,
                                                         says):
    monkeypatch.setattr(importlib.util, "find_spec", installed("torch"))
    monkeypatch.setitem(sys.modules, "torch", fake_torch(1))
    out = tmp_path / "t.csv"
    result = gradbench("train", *args, "--epochs", "1", "--no-progress", "--out", out)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith("gradbench: error: ") and says in line, line
    assert not out.exists()
