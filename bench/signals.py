"""Stop signals, SIGTERM and SIGHUP, end a command as Ctrl-C does.

SIGTERM comes from `kill` or a batch system, SIGHUP from the terminal closing.
Each raises Stopped, a SystemExit(128 + signal), in the main thread, so every `finally` on the
way out runs: the sweep kills its running child's process group (no orphaned timing processes)
and keeps only complete rows; train moves the epochs it finished into place.
"""

import signal
import threading
from contextlib import contextmanager

STOP = (signal.SIGTERM, signal.SIGHUP)
WHY = {signal.SIGTERM: "terminated (SIGTERM)",
       signal.SIGHUP: "hung up (SIGHUP: the terminal closed)"}


class Stopped(SystemExit):
    """A stop signal arrived: exit status 128 + its number; the command line prints one line."""

    def __init__(self, signum):
        super().__init__(128 + signum)
        self.signum = signum

    def line(self):
        why = WHY.get(self.signum, f"signal {self.signum}")
        return f"gradbench: {why}; results already written are kept"


def _exit(signum, frame):
    raise Stopped(signum)


@contextmanager
def stop_signals_exit():
    """SIGTERM and SIGHUP raise SystemExit while inside; the previous handlers come back after."""
    # only the main thread may set handlers
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _exit) for sig in STOP}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def raise_stopped_while_loading():
    """Stop signals raise Stopped from now on (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _exit) for sig in STOP}


def restore(previous):
    for sig, handler in previous.items():
        signal.signal(sig, handler)

