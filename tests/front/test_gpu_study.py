"""make bench-gpu (bench/gpu_study.sh): it refuses in one line where PyTorch with CUDA is missing,
and its sweeps are valid plans (run for real only on a GPU machine)."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bench.sweep.points import plan

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu_study.sh"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run_study(tmp_path, **env):
    """The script as make runs it, its outputs under tmp_path.

    Returns (exit status, stderr lines, files written)."""
    env = {**os.environ, "OUT": str(tmp_path / "results"), "PLOTS": str(tmp_path / "plots"), **env}
    done = subprocess.run(["sh", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    return done.returncode, done.stderr.splitlines(), written


def cuda_present():
    if not HAS_TORCH:
        return False
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(cuda_present(), reason="a CUDA device is here: the script would run the study")
def test_without_torch_and_cuda_it_refuses_in_one_line_and_writes_nothing(tmp_path):
    code, err, written = run_study(tmp_path, BIN=str(Path(sys.executable).parent))
    assert code == 2
    assert len(err) == 1 and err[0].startswith("gradbench: error: --"), err
    says = ("finds 0 CUDA device(s)" if HAS_TORCH
            else "PyTorch is not installed (pip install 'gradbench[torch]')")
    assert says in err[0]
    assert written == []


def test_without_gradbench_it_says_what_to_do(tmp_path):
    code, err, written = run_study(tmp_path, BIN=str(tmp_path / "no-venv"))
    assert code == 2
    assert err == [f"gradbench: error: {tmp_path / 'no-venv'}/gradbench not found: "
                   "make venv, then install PyTorch with CUDA into it"]
    assert written == []


def sweeps():
    """(name, options) of every `sweep NAME SLICE OPTIONS` line of the script."""
    lines = re.findall(r'^sweep (\w+) "\$\w+" (.*)$', SCRIPT.read_text(), flags=re.M)
    return [(name, dict(zip(*[iter(shlex.split(options))] * 2))) for name, options in lines]


@pytest.mark.skipif(not HAS_TORCH, reason="autograd is a method only where PyTorch is installed")
def test_every_sweep_of_the_study_is_a_valid_plan():
    assert [name for name, _ in sweeps()] == ["depth", "deep", "width"]
    for name, options in sweeps():
        # NumPy: no GPU needed
        points = plan(options["--depth"], options["--width"], "1", options["--methods"])
        assert points, name
    depth = dict(sweeps())["deep"]
    # naive extended deep, as the issue asks
    assert max(int(d) for d in depth["--depth"].split(",")) >= 512
