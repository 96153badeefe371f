"""Progress bars, one style for sweep and train: tqdm's, a line on stderr in a terminal, a widget in
Jupyter (tqdm.auto; a text line where ipywidgets is missing).

    sweep  40%|####      | 4/10 points [00:05, about 12 s left, round 4 of 21: 10 points]
    train naive/sgd  25%|##        | 50/200 epochs [00:01, about 3 s left, train loss 0.0123]

Shown when asked (True), never when told not to (False), and by default (None) only where someone
watches: stderr a terminal, or a Jupyter kernel. A stream that fails (a full disk, a closed pipe)
ends the drawing, never the work the bar shows.
"""

import math
import os
import shutil
import sys
import time
import warnings

from bench.formatting import clock

FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}{postfix}]"


def wanted(asked=None, stream=None):
    """Whether to draw: `asked` when given, else whether stderr is a terminal or this a notebook."""
    if asked is not None:
        return bool(asked)
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) or in_notebook()


def in_notebook():
    """Whether this runs in a Jupyter kernel (tqdm.auto's test)."""
    ipython = sys.modules.get("IPython")
    try:
        return "IPKernelApp" in ipython.get_ipython().config
    except Exception:  # no IPython, no shell, or a terminal IPython
        return False


class Bar:
    """A tqdm bar of `total` `unit`s; show(done, note, left_s) redraws it. Draws nothing unwanted.

    mininterval: the fewest seconds between redraws (the last state is drawn at the end); the
    sweep's are few and far between (a check, a round): each one is drawn."""

    def __init__(self, total, desc, unit, asked=None, stream=None, mininterval=0.0):
        self.tqdm, self.mininterval, self.drawn = None, mininterval, -math.inf
        if wanted(asked, stream):
            # tqdm only where a bar is drawn: tqdm.auto looks for Jupyter and its widgets
            from tqdm.std import tqdm  # a text line on `stream`

            if stream is None:
                # Jupyter without ipywidgets: the text line, no warning
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    from tqdm.auto import tqdm
            stream = stream or sys.stderr
            self.tqdm = tqdm(total=total, desc=desc, unit=unit, bar_format=FORMAT,
                             file=Guarded(stream), leave=True, **_size(stream))

    def show(self, done, note="", left_s=None):
        """`done` of the total; `note` says what runs now; `left_s` seconds left (None: unknown)."""
        if self.tqdm is None:
            return
        self.tqdm.n = done
        # none once all is done
        left = [f"about {clock(left_s)} left"] if done < self.tqdm.total else []
        self.tqdm.set_postfix_str(", ".join(left + [note] * bool(note)), refresh=False)
        now = time.perf_counter()
        if now - self.drawn >= self.mininterval or done >= self.tqdm.total:
            self.drawn = now
            self.tqdm.refresh()

    def close(self):
        if self.tqdm is not None:
            self.tqdm.close()
            self.tqdm = None


class Guarded:
    """A stream whose first failed write or flush silences it: a bar is not worth a lost row."""

    def __init__(self, stream):
        self.stream, self.failed = stream, False

    def write(self, text):
        self._call("write", text)

    def flush(self):
        self._call("flush")

    def _call(self, name, *args):
        if self.failed:
            return
        try:
            getattr(self.stream, name)(*args)
        except (OSError, ValueError):  # ENOSPC, EIO, EPIPE; a closed file
            self.failed = True

    def __getattr__(self, name):  # isatty, fileno, encoding: tqdm's questions, the stream's answers
        return getattr(self.stream, name)


def _size(stream):
    """The terminal's size for tqdm; 80 x 24 (or $COLUMNS, $LINES) where it says 0 x 0, as a new
    pseudo-terminal does, on which tqdm would draw nothing; tqdm's own guess off a terminal."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a file, or not a terminal
        return {}
    fallback = shutil.get_terminal_size()
    return {"ncols": size.columns or fallback.columns, "nrows": size.lines or fallback.lines}
