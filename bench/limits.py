"""The process's resource limits as the command line meets them: an address-space limit (ulimit -v)
too small for numpy's own start, which ends the process from C (OpenBLAS's exit(1)), is found in a
throw-away process first; other failures under a limit name it in their one line."""

import os
import resource
import subprocess
import sys

PROBE = "GRADBENCH_LIMIT_PROBE"  # set in the probe: it must not start a probe of its own
PROBE_S = 60.0  # the modules load in a second or two; a probe still loading after this hangs


def address_space():
    """RLIMIT_AS's soft limit in bytes, None where there is none."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def note():
    """What to add to a message about memory, threads or processes: the address-space limit."""
    limit = address_space()
    if limit is None:
        return ""
    return f" (the address-space limit, ulimit -v, is {limit / 2**20:.0f} MiB)"


def too_small_to_load(argv):
    """Why the modules of the command in `argv` cannot load under this limit (a probe process
    imports them; a scipy that cannot start its threads hangs there), or None: no limit, or they
    load."""
    if address_space() is None or os.environ.get(PROBE):
        return None
    heavy = {"fit", "plot", "report", "compare"} & set(argv)  # scipy, pandas, matplotlib
    code = "import bench.cli" + ("; import bench.pipeline" if heavy else "")
    try:
        done = subprocess.run([sys.executable, "-c", code], env={**os.environ, PROBE: "1"},
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=PROBE_S, check=False)
    except subprocess.TimeoutExpired:
        return f"numpy and the command line's modules hang while loading{note()}: raise it"
    except (OSError, MemoryError, RuntimeError):  # not even a process can start
        return f"cannot start a process{note()}: raise it"
    if done.returncode == 0:
        return None
    return f"numpy and the command line's modules cannot load{note()}: raise it"
