"""Learning curves of a `gradbench train` run: train and test loss per epoch, log scale."""

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from bench.errors import UserError
from bench.output import write_atomic
from bench.plot.style import BASE, Drawn, method_color, styled
from bench.train.times import ratios, reference, total_seconds


def _format(path):
    """The image format named by the file's suffix; png without one."""
    return Path(path).suffix.lstrip(".").lower() or "png"


def check_format(path):
    """Refuse, before training, a --plot file whose suffix names no format matplotlib can write."""
    # no figure made or closed
    formats = matplotlib.backend_bases.FigureCanvasBase.get_supported_filetypes()
    if _format(path) not in formats:
        raise UserError(f"{path}: cannot draw a .{_format(path)} file; use one of "
                        f"{', '.join(sorted(formats))}")


def plot_curves(rows, path):
    """Draw loss vs epoch (epoch 0 = before training) to `path` (format from its suffix)."""
    with matplotlib.rc_context(BASE):
        return _draw(rows, Path(path))


def _draw(rows, path):
    epoch = [r["epoch"] for r in rows]
    first = rows[0]
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(epoch, [r["train_loss"] for r in rows], "-", color="tab:blue", label="train loss")
    if first["n_test"] > 0:
        ax.plot(epoch, [r["test_loss"] for r in rows], "--", color="tab:orange", label="test loss")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean square loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"{first['method']} / {first['optimizer']} (lr {first['lr']:g}, batch "
                 f"{first['batch_size']}), depth {first['depth']}, width {first['width']}, seed "
                 f"{first['seed']}", fontsize=9)
    ax.legend()
    save = lambda tmp: fig.savefig(tmp, format=_format(path), bbox_inches="tight")  # noqa: E731
    return write_atomic(path, save)


def plot_race(runs, path):
    """Loss against wall-clock seconds and against epochs, a curve per method, to `path`."""
    with styled("report"):
        fig = race_figure(runs)
        return write_atomic(path, lambda tmp: fig.savefig(tmp, format=_format(path)))


def race_figure(runs):
    """The race's Figure (shown inline in Jupyter): runs is {method: rows} of
    bench.train.race.run; the slowest is drawn first, thickest."""

    with styled("report"):
        fig = Drawn(figsize=(10, 4.4), layout="constrained")
        by_time, by_epoch = fig.subplots(1, 2)
        times, ref = ratios(runs), reference(runs)
        dashes = ["-", "--", ":", "-."]
        for i, (m, rows) in enumerate(sorted(runs.items(), key=lambda mr: -times[mr[0]])):
            trained = rows[1:]  # epoch 0 took no time: the log time axis starts at epoch 1
            clock = np.cumsum([r["seconds"] for r in trained])  # (epochs,)
            loss = [r["train_loss"] for r in trained]
            look = dict(color=method_color(m), ls=dashes[i % len(dashes)],
                        lw=max(0.8, 2.2 - 0.5 * i))
            label = (f"{m}: {total_seconds(rows):.3g} s" if m == ref
                     else f"{m}: {times[m]:.3g}x {ref}'s time")
            by_time.plot(clock, loss, **look, label=label, marker="o", markevery=[-1])  # its end
            epochs = [r["epoch"] for r in rows]
            by_epoch.plot(epochs, [r["train_loss"] for r in rows], **look, label=m)
        for ax in (by_time, by_epoch):
            ax.set_yscale("log")
            ax.set_ylabel("train loss (mean square)")
            ax.legend()
        by_time.set_xscale("log")
        by_time.set_xlabel("wall-clock seconds of training")
        by_time.set_title("Loss against time")
        by_epoch.set_xlabel("epoch")
        by_epoch.set_title("Loss against epochs: the same trajectory")
        r = next(iter(runs.values()))[0]
        caption = (f"Same seed {r['seed']}, data and initial network for every method: "
                   f"{r['optimizer']} lr {r['lr']:g}, batch {r['batch_size']}, "
                   f"depth {r['depth']}, width {r['width']}, {r['backend']} {r['dtype']}.")
        fig.supxlabel(caption, fontsize="small", color="0.3")
    return fig
