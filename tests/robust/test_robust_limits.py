"""The command line under resource limits it inherits (set in the child before it starts): an
address-space limit (ulimit -v) at each stage that needs memory, numpy's own start included,
and too few file descriptors (ulimit -n) for a --workers sweep. Each ends in one line and exit 2,
or works; never a traceback, a MemoryError dump or a hang.

The sizes were found on Linux x86_64 with OpenBLAS on two cores: numpy's start fails below
about 140 MiB (from C, OpenBLAS's exit(1), where the probe in bench.limits sees it first), a
thread below about 160 MiB; fit's scipy below about 500 MiB."""

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import lines_of, study_rows, write_results

from bench.sweep.cluster import FILES_BASE, FILES_PER_WORKER, LOCAL_AS

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
LIMITS = {"as": resource.RLIMIT_AS, "nofile": resource.RLIMIT_NOFILE,
          "fsize": resource.RLIMIT_FSIZE}
linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux")


def limited(cwd, args, env=None, **limits):
    """`gradbench ARGS` in cwd, in a process whose limits (as=bytes, nofile=count, fsize=bytes)
    are set before it starts: (exit status, stderr)."""

    def set_limits():
        for name, value in limits.items():
            resource.setrlimit(LIMITS[name], (value, value))

    done = subprocess.run([sys.executable, "-m", "bench.cli", *map(str, args)], cwd=cwd,
                          preexec_fn=set_limits, capture_output=True, text=True, env=env or ENV,
                          timeout=300)
    return done.returncode, done.stderr


def one_line(code, err):
    """Exit 2 and one line of error, nothing else on stderr; or exit 0."""
    if code == 0:
        return "Traceback" not in err
    return code == 2 and err.count("\n") == 1 and err.startswith("gradbench: error: ")


SWEEP = ["sweep", "--depth", "1:2", "--width", "2", "--methods", "backprop", "--profile", "quick"]


@linux
@pytest.mark.parametrize("mib, args, fragment", [
    (60, SWEEP, "cannot load (the address-space limit, ulimit -v, is 60 MiB)"),  # numpy
    # a thread, or memory, as the machine's load has it
    (150, SWEEP, " (the address-space limit, ulimit -v, is 150 MiB)"),
    (400, ["fit", "results.csv"], "cannot load (the address-space limit, ulimit -v, is 400 MiB)"),
    # pandas' import for --resume: most often re's SystemError (the property test's find)
    (160, [*SWEEP, "--resume", "--out", "results.csv"],
     " (the address-space limit, ulimit -v, is 160 MiB)"),
])
def test_an_address_space_too_small_is_one_line_naming_it(tmp_path, mib, args, fragment):
    write_results(tmp_path / "results.csv", study_rows())
    code, err = limited(tmp_path, [*args, "--out", "r.csv"] if args[-1] == "quick" else args,
                        **{"as": mib * 2**20})
    assert one_line(code, err) and code == 2, err
    assert fragment in err, err
    if (tmp_path / "r.csv").exists() and (tmp_path / "r.csv").stat().st_size:  # empty: no row cut
        lines_of(tmp_path / "r.csv")  # opened before the thread failed: whole, if only a header
    assert lines_of(tmp_path / "results.csv")  # the input whole


@linux
@pytest.mark.parametrize("workers", [1, 2])
def test_too_few_file_descriptors_for_a_local_cluster_is_one_line_before_it_starts(tmp_path,
                                                                                  workers):
    if workers > (os.cpu_count() or 1):
        pytest.skip("one worker a core")
    need = FILES_BASE + FILES_PER_WORKER * workers
    code, err = limited(tmp_path, [*SWEEP, "--workers", workers, "--out", "r.csv"],
                        nofile=need - FILES_PER_WORKER)  # what made the scheduler spin for ever
    assert one_line(code, err) and code == 2, err
    assert f"needs {need} open files, and the limit (ulimit -n) is {need - FILES_PER_WORKER}" in err
    assert not (tmp_path / "r.csv").exists()


@linux
@pytest.mark.parametrize("mib", [200, 300, LOCAL_AS // 2**20 - 1])
def test_an_address_space_too_small_for_a_local_cluster_is_one_line_before_it_starts(tmp_path,
                                                                                     mib):
    # 200-400 MiB: a worker's fatal stack overflow (exit 0, pages on stderr), a nanny that cannot
    # start, or a thread of Dask's that never started and a start that never ended (the property
    # test's finds)
    code, err = limited(tmp_path, [*SWEEP, "--workers", 1, "--out", "r.csv"],
                        **{"as": mib * 2**20})
    assert one_line(code, err) and code == 2, err
    assert (f"--workers 1: a local Dask cluster needs an address space of 512 MiB, and the limit "
            f"(ulimit -v) is {mib} MiB") in err
    assert not (tmp_path / "r.csv").exists()
