"""The progress bars of sweep and train (bench.progress, tqdm): drawn when asked or watched, silent
otherwise; the sweep's shows the series' time left."""

import contextlib
import errno
import io
import os
import sys

import pytest
from helpers import FakeChild

from bench import progress
from bench.cli import main
from bench.sweep import launcher
from bench.sweep.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_is_drawn_when_asked():
    stream = io.StringIO()
    bar = progress.Bar(10, "sweep", "points", asked=True, stream=stream)
    bar.show(3, "round 2 of 15: 10 points", 12.4)
    bar.close()
    assert "3/10 points" in stream.getvalue()
    assert "about 12 s left, round 2 of 15: 10 points" in stream.getvalue()


def test_the_time_left_is_a_question_mark_until_known_and_gone_when_done():
    stream = io.StringIO()
    bar = progress.Bar(2, "sweep", "points", asked=True, stream=stream)
    bar.show(0, "checking", None)
    assert "about ? left" in stream.getvalue()
    bar.show(2, "done", 0.0)
    assert stream.getvalue().rsplit("\r", 1)[-1].count("left") == 0


@pytest.mark.parametrize("asked, stream, drawn", [
    (None, io.StringIO(), False),  # a pipe or a file: silent by default
    (None, Terminal(), True),  # a terminal: drawn by default
    (False, Terminal(), False),
    (True, io.StringIO(), True),
])
def test_a_bar_is_drawn_by_default_only_where_someone_watches(asked, stream, drawn):
    bar = progress.Bar(4, "train backprop/sgd", "epochs", asked=asked, stream=stream)
    bar.show(1, "train loss 0.5", 3.0)
    bar.close()
    assert ("1/4 epochs" in stream.getvalue()) is drawn


def test_a_bar_with_a_redraw_interval_still_ends_on_the_last_state():
    stream = io.StringIO()
    bar = progress.Bar(100, "train backprop/sgd", "epochs", asked=True, stream=stream,
                       mininterval=60.0)
    for done in range(1, 100):
        bar.show(done, f"train loss {1 / done:.4g}", 1.0)
    bar.close()
    assert "99/100 epochs" in stream.getvalue().rsplit("\r", 1)[-1]
    assert stream.getvalue().count("\r") < 10  # not a redraw per call


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_that_says_it_has_no_size_still_gets_a_bar(monkeypatch):
    master, slave = os.openpty()  # a new pseudo-terminal: 0 x 0, on which tqdm alone draws nothing
    try:
        with os.fdopen(slave, "w") as stream:
            monkeypatch.setattr(sys, "stderr", stream)  # tqdm measures only stderr and stdout
            bar = progress.Bar(4, "sweep", "points")  # drawn by default: a terminal
            bar.show(1, "round 1 of 5", 3.0)
            bar.close()
        assert b"1/4 points" in read_to_the_end(master)
    finally:
        os.close(master)


def read_to_the_end(master):
    """All a closed pseudo-terminal's other side wrote: one read may return only the first part
    (the kernel hands a pty's output over in pieces), and EIO comes after the last."""
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: nothing more, the other side is closed
            return data
        if not chunk:
            return data
        data += chunk


class Full(io.StringIO):
    """stderr on a full disk (2>/dev/full): every write fails."""

    def write(self, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_bar_on_a_full_stream_draws_nothing_and_raises_nothing():
    bar = progress.Bar(2, "sweep", "points", asked=True, stream=Full())
    bar.show(1, "round 1 of 5", 3.0)
    bar.close()


def test_a_sweep_drawing_on_a_full_stderr_writes_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "Child", FakeChild)
    out = tmp_path / "r.csv"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(Full()), \
            pytest.raises(SystemExit) as end:
        main(["sweep", "--depth", "1:3", "--width", "2", "--methods", "backprop", "--out", str(out),
              "--progress"])
    assert end.value.code == 0
    assert len(out.read_text().splitlines()) == 1 + 3


def test_outside_jupyter_is_not_a_notebook():
    assert not progress.in_notebook()


def test_sweep_progress_redraws_the_same_bar():
    stream = io.StringIO()
    bar = Progress(4, asked=True, stream=stream)
    bar.show(1, "round 1 of 5: 4 points", 8.0)
    bar.finish()
    assert "sweep" in stream.getvalue() and "1/4 points" in stream.getvalue()


class SlowChecks(FakeChild):
    """A FakeChild whose checks say a call takes 2 s: the series' estimate is rounds left x 2 s."""

    def __init__(self, spec, env):
        super().__init__(spec, env)
        for event in self._events:
            if event["event"] == "check":
                event["seconds"] = 2.0


def test_sweep_shows_the_series_time_left_when_asked(gradbench, tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "Child", SlowChecks)
    code, _, err = gradbench("sweep", "--depth", "1,2", "--width", "2", "--methods", "backprop",
                             "--out", tmp_path / "r.csv", "--progress")
    assert code == 0
    # two points, five rounds of one 2 s block each: 20 s before the first round, 16 s
    # before the second
    assert "about 20 s left, round 1 of 5" in err
    assert "about 16 s left, round 2 of 5" in err
    assert "2/2 points" in err


def test_sweep_is_silent_when_stderr_is_not_a_terminal(gradbench, tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "Child", FakeChild)
    code, _, err = gradbench("sweep", "--depth", "1", "--width", "2", "--methods", "backprop",
                             "--out", tmp_path / "r.csv")
    assert code == 0
    assert "points" not in err


def test_train_draws_its_bar_in_the_sweeps_style_when_asked(gradbench):
    code, _, err = gradbench("train", "--epochs", "3", "--samples", "16", "--progress")
    assert code == 0
    assert "train backprop/sgd" in err and "3/3 epochs" in err


def test_train_is_silent_when_stderr_is_not_a_terminal(gradbench):
    code, _, err = gradbench("train", "--epochs", "3", "--samples", "16")
    assert code == 0
    assert "epochs" not in err
