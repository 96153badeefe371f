"""Progress bars, one style for sweep and train: tqdm's, a line on stderr in a terminal, a widget in
Jupyter (tqdm.auto; a text line where ipywidgets is missing).

    sweep  40%|####      | 4/10 points [00:05, about 12 s left, round 4 of 21: 10 points]
    train naive/sgd  25%|##        | 50/200 epochs [00:01, about 3 s left, train loss 0.0123]

Shown when asked (True), never when told not to (False), and by default (None) only where someone
watches: stderr a terminal, or a Jupyter kernel.
"""

import math
import sys
import time
import warnings

from bench.formatting import clock

MININTERVAL = 0.1  # seconds between redraws, unless the count moved
FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}{postfix}]"


def wanted(asked=None, stream=None):
    """Whether to draw: `asked` when given, else whether stderr is a terminal or this is a notebook."""
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
    """A tqdm bar of `total` `unit`s; show(done, note, left_s) redraws it. Draws nothing when not wanted."""

    def __init__(self, total, desc, unit, asked=None, stream=None):
        self.tqdm, self.drawn = None, (None, -math.inf)  # (count, time) of the last redraw
        if wanted(asked, stream):
            from tqdm.std import tqdm  # a text line on `stream`

            if stream is None:
                with warnings.catch_warnings():  # Jupyter without ipywidgets: the text line, no warning
                    warnings.simplefilter("ignore")
                    from tqdm.auto import tqdm
            self.tqdm = tqdm(total=total, desc=desc, unit=unit, bar_format=FORMAT, file=stream or sys.stderr,
                             dynamic_ncols=True, leave=True)

    def show(self, done, note="", left_s=None):
        """`done` of the total; `note` says what runs now; `left_s` the seconds left (None: not known yet)."""
        now = time.perf_counter()
        if self.tqdm is None or (done == self.drawn[0] and now - self.drawn[1] < MININTERVAL):
            return
        self.drawn = done, now
        self.tqdm.n = done
        left = [f"about {clock(left_s)} left"] if done < self.tqdm.total else []  # none once all is done
        self.tqdm.set_postfix_str(", ".join(left + [note] * bool(note)), refresh=False)
        self.tqdm.refresh()

    def close(self):
        if self.tqdm is not None:
            self.tqdm.close()
            self.tqdm = None
