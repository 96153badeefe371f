"""`gradbench train`: build the task, run gradients.train.train, stream per-epoch rows to CSV.

Every setting that produced a row is a column of that row. Rows are written and flushed as
each epoch finishes, so an interrupted run leaves a valid CSV of the epochs it finished.
"""

import csv
import math
import sys
from pathlib import Path

from bench.errors import UserError
from bench.formatting import seconds
from bench.output import check_writable

MEASURED = ["epoch", "train_loss", "test_loss", "seconds", "gradient_seconds"]
SETTINGS = ["method", "optimizer", "lr", "batch_size", "epochs", "depth", "width", "input_dim", "activation",
            "seed", "data", "target", "n_train", "n_test", "noise", "test_fraction"]
COLUMNS = MEASURED + SETTINGS

DEFAULTS = dict(method="backprop", optimizer="sgd", lr=None, depth=3, width=8, input_dim=None, activation="relu",
                epochs=200, batch_size=32, seed=0, samples=512, noise=0.0, test_fraction=0.2, data=None,
                target=None)
SYNTHETIC_INPUT_DIM = 4  # d of the default synthetic task


def run(*, out=None, plot=None, progress=True, **settings):
    """Train once with `settings` (see DEFAULTS); write rows to `out`, curves to `plot`; return the rows."""
    s = {**DEFAULTS, **settings}
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    from gradients.train import Diverged

    try:
        return _run(s, out, plot, progress)
    except Diverged as e:  # the library speaks of the argument lr, the command line of --lr
        lr = "" if e.lr is None else f", learning rate {e.lr:g}"
        raise UserError(f"training diverged at epoch {e.epoch} ({e.what}{lr}); lower --lr") from None
    except ValueError as e:  # the library's messages are already one line naming the problem
        raise UserError(str(e)) from None


def task_of(s):
    """The task and the network widths for these settings."""
    from gradients import data

    if (s["data"] is None) != (s["target"] is None):
        raise UserError("--data and --target go together: name the CSV file and its target column")
    if s["data"] is None:
        d = SYNTHETIC_INPUT_DIM if s["input_dim"] is None else s["input_dim"]
        widths = [d] + [s["width"]] * s["depth"]
        task = data.synthetic_task(widths, s["samples"], s["noise"], s["test_fraction"], s["seed"], s["activation"])
    else:
        task = data.csv_task(s["data"], s["target"], s["test_fraction"], s["seed"])
        d = len(task.features)
        if s["input_dim"] not in (None, d):
            raise UserError(f"{s['data']}: has {d} feature columns but --input-dim is {s['input_dim']}")
        widths = [d] + [s["width"]] * s["depth"]
    return task, widths


def _run(s, out, plot, progress):
    """Every setting is checked where it is used (task, network, optimizer, fit); outputs before training."""
    import gradients
    from gradients import data
    from gradients.train import make_optimizer, train

    task, widths = task_of(s)
    net = gradients.Network.init(widths, seed=s["seed"], activation=s["activation"])
    opt = make_optimizer(s["optimizer"], s["lr"])
    epochs = train(net, task.X_train, task.y_train, method=s["method"], optimizer=opt, epochs=s["epochs"],
                 batch_size=s["batch_size"], rng=data.streams(s["seed"])["shuffle"], X_test=task.X_test,
                 y_test=task.y_test)
    for path in (out, plot):
        if path is not None:
            check_writable(path)
    if plot is not None:
        from bench.train_plot import check_format

        check_format(plot)
    settings = dict(method=s["method"], optimizer=s["optimizer"], lr=opt.lr, batch_size=s["batch_size"],
                    epochs=s["epochs"], depth=s["depth"], width=s["width"], input_dim=widths[0],
                    activation=s["activation"], seed=s["seed"], data=s["data"] or "synthetic",
                    target=s["target"] or "teacher", n_train=len(task.y_train), n_test=len(task.y_test),
                    noise=s["noise"] if s["data"] is None else "", test_fraction=s["test_fraction"])
    rows = []
    with _Writer(out) as write, _progress(progress, s) as bar:
        for e in epochs:
            row = dict(epoch=e.epoch, train_loss=e.train_loss, test_loss=e.test_loss, seconds=e.seconds,
                       gradient_seconds=e.gradient_seconds, **settings)
            write(row)
            rows.append(row)
            bar(e)
    if plot is not None:
        from bench.train_plot import plot_curves

        plot_curves(rows, plot)
    return rows


class _Writer:
    """Write rows to a CSV file as they come, flushed; a no-op without a path."""

    def __init__(self, path):
        self.path = None if path is None else Path(path)

    def __enter__(self):
        self.file = None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.file = open(self.path, "w", newline="")
            except OSError as e:
                raise UserError(f"{self.path}: cannot write ({e.strerror})") from None
            self.writer = csv.DictWriter(self.file, fieldnames=COLUMNS, lineterminator="\n")
            self.writer.writeheader()
        return self

    def __call__(self, row):
        if self.file is not None:
            self.writer.writerow(row)  # floats as repr: exact round trip
            self.file.flush()

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()


class _progress:
    """A per-epoch progress bar on stderr (click's: just the label when stderr is not a terminal)."""

    def __init__(self, enabled, s):
        self.enabled, self.s, self.bar, self.loss = enabled, s, None, math.nan

    def __enter__(self):
        if self.enabled and self.s["epochs"] > 0:
            import click

            label = f"train {self.s['method']}/{self.s['optimizer']}"
            self.bar = click.progressbar(length=self.s["epochs"], label=label, file=sys.stderr, show_pos=True,
                                         item_show_func=lambda _: f"train loss {self.loss:.4g}")
            self.bar.__enter__()
        return self

    def __call__(self, epoch):
        self.loss = epoch.train_loss
        if self.bar is not None and epoch.epoch > 0:
            self.bar.update(1)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


def summary(rows):
    """One line for the terminal: losses before and after, seconds per epoch."""
    first, last = rows[0], rows[-1]
    trained = rows[1:]
    line = (f"{last['method']}/{last['optimizer']} lr={last['lr']:g}: "
            f"train loss {first['train_loss']:.4g} -> {last['train_loss']:.4g}")
    if last["n_test"]:
        line += f", test loss {first['test_loss']:.4g} -> {last['test_loss']:.4g}"
    if trained:
        per_epoch = sum(r["seconds"] for r in trained) / len(trained)
        in_grad = sum(r["gradient_seconds"] for r in trained) / len(trained)
        line += f" after {last['epoch']} epochs; {seconds(per_epoch)} per epoch ({seconds(in_grad)} in gradients)"
    return line
