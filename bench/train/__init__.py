"""`gradbench train`: build the task, run gradients.train.train, stream per-epoch rows to CSV.

Every setting that produced a row is a column of that row, where it ran too (backend, device,
device_name, dtype: --backend, --device and --dtype are checked as sweep checks them, with its
messages). Rows are written as each epoch finishes (rows): --out holds every epoch finished, each
row whole, however the run ends (finished, diverged, interrupted, the disk full, SIGKILL).
Outputs follow bench.output's rules; an existing --out or --plot is replaced only with --force.

This module is the command; rows: the rows file written as epochs end; race: several methods
trained from one seed (`--method naive,backprop`); times: a race's time ratios; plot: the
learning curves and the race's figure (matplotlib, imported only by a run that draws).
"""

import os
import time
from pathlib import Path

import gradients
from bench import guard, output
from bench.errors import UserError, whole_number
from bench.formatting import seconds
from bench.placement import PLACEMENT
from bench.progress import Bar
from bench.sweep.points import check_float64_only, parse_placements
from bench.train.rows import RowWriter
from gradients import backends
from gradients.data import csv_task, streams, synthetic_task
from gradients.train import Diverged, make_optimizer, train

MEASURED = ["epoch", "train_loss", "test_loss", "seconds", "gradient_seconds"]
SETTINGS = ["method", "optimizer", "lr", "batch_size", "epochs", "depth", "width", "input_dim",
            "activation", "seed", "data", "target", "n_train", "n_test", "noise", "test_fraction",
            "backend", "device", "device_name", "dtype"]
COLUMNS = MEASURED + SETTINGS

DEFAULTS = dict(method="backprop", optimizer="sgd", lr=None, depth=3, width=8, input_dim=None,
                activation="relu", epochs=200, batch_size=32, seed=0, samples=512, noise=0.0,
                test_fraction=0.2, data=None, target=None, backend="numpy", device="cpu",
                dtype="float64")
SYNTHETIC_INPUT_DIM = 4  # d of the default synthetic task
# sizes and counts
WHOLE = ("epochs", "batch_size", "depth", "width", "input_dim", "seed", "samples")


def run(*, out=None, plot=None, progress=None, force=False, **settings):
    """Train once with `settings` (see DEFAULTS); rows to `out`, curves to `plot`; return the rows.

    An existing `out` or `plot` is refused unless `force`. progress: draw the progress bar (True),
    never (False), or where someone watches (None: stderr a terminal, or Jupyter; bench.progress).
    """
    s = {**DEFAULTS, **settings}
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    for name in WHOLE:
        if s[name] is not None:
            s[name] = whole_number(s[name], "--" + name.replace("_", "-"))
    # before any file or array: a missing library is one line
    s.update(zip(PLACEMENT, placement_of(s)))
    try:
        return _run(s, out, plot, progress, force)
    except Diverged as e:  # the library speaks of the argument lr, the command line of --lr
        lr = "" if e.lr is None else f", learning rate {e.lr:g}"
        raise UserError(f"training diverged at epoch {e.epoch} ({e.what}{lr}); "
                        "lower --lr") from None
    except ValueError as e:  # the library's messages are already one line naming the problem
        raise UserError(str(e)) from None


def placement_of(s):
    """(backend, device, dtype) of the run, checked as sweep checks them (installed, present).

    A bare cuda is cuda:0."""
    for name in PLACEMENT:
        if "," in str(s[name]):
            raise UserError(f"--{name} {s[name]}: train runs on one {name} (a comma list is for "
                            "sweep)")
    [placement] = parse_placements(s["backend"], s["device"], s["dtype"])
    check_float64_only([s["method"]], [placement[2]], "--method")
    return placement


def task_of(s):
    """The task and the network widths for these settings."""
    if (s["data"] is None) != (s["target"] is None):
        raise UserError("--data and --target go together: name the CSV file and its target column")
    if s["depth"] > guard.MAX_DEPTH:
        raise UserError(f"--depth {s['depth']}: more than {guard.MAX_DEPTH:,} layers: a network is "
                        "an array per layer, and a deeper one cannot be built in time")
    if s["data"] is None:
        d = SYNTHETIC_INPUT_DIM if s["input_dim"] is None else s["input_dim"]
        widths = [d] + [s["width"]] * s["depth"]
        _guard(widths, s["samples"], s)  # before the teacher and the data set are made
        task = synthetic_task(widths, s["samples"], s["noise"], s["test_fraction"], s["seed"],
                              s["activation"])
    else:
        task = csv_task(s["data"], s["target"], s["test_fraction"], s["seed"])
        d = len(task.features)
        if s["input_dim"] not in (None, d):
            raise UserError(f"{s['data']}: has {d} feature columns but --input-dim is "
                            f"{s['input_dim']}")
        widths = [d] + [s["width"]] * s["depth"]
        _guard(widths, len(task.y_train) + len(task.y_test), s)  # before the network is made
    return task, widths


def _guard(widths, samples, s):
    """Refuse, before allocating anything, a run that cannot fit in memory.

    Sizes below 1 are left to the library, which refuses them."""
    if min(widths) < 1 or samples < 1 or s["batch_size"] < 1:
        return
    need = guard.train_bytes(widths, samples, s["batch_size"], s["method"], s["optimizer"],
                             s["activation"])
    what = (f"training (width {s['width']}, depth {s['depth']}, input dim {widths[0]}, "
            f"{samples:,} examples)")
    reason = guard.refusal(need, what, s["backend"], s["device"])
    if reason:
        raise UserError(f"{reason}: lower --width, --depth, --input-dim or --samples")


def check_outputs(out, plot, force, data=None):
    """Check --out, --plot before any work: names, folders, then that they are new (or --force)."""
    given = {option: path for option, path in (("--out", out), ("--plot", plot))
             if path is not None}
    real = {option: output.target(path, f"{option} {path}") for option, path in given.items()}
    if plot is not None:
        from bench.train.plot import check_format  # matplotlib: only a run that draws pays for it

        check_format(plot)
    for option, path in given.items():
        output.check_writable(path, f"{option} {path}")
    for option, path in given.items():
        if not force and real[option].exists():
            raise UserError(f"{option} {path} already exists: add --force to replace it")
    if len(real) == 2 and _same(real["--out"], real["--plot"]):
        raise UserError(f"--out {out} and --plot {plot} name the same file: the figure would "
                        "replace the rows")
    for option, path in real.items():
        if data is not None and _same(path, Path(data)):
            raise UserError(f"{option} {given[option]} is the --data file: it would replace the "
                            "training data")
    return real


def _same(a, b):
    return Path(os.path.realpath(a)) == Path(os.path.realpath(b))


def _run(s, out, plot, progress, force):
    """Every setting is checked where it is used (task, network, optimizer, fit); outputs first."""
    real = check_outputs(out, plot, force, s["data"])
    task, widths = task_of(s)
    net = gradients.Network.init(widths, seed=s["seed"], activation=s["activation"])
    X_train, y_train, X_test, y_test = task.X_train, task.y_train, task.X_test, task.y_test
    placement = (s["backend"], s["device"], s["dtype"])
    if placement != (DEFAULTS["backend"], DEFAULTS["device"], DEFAULTS["dtype"]):
        # the same values, moved
        on = dict(backend=s["backend"], device=s["device"], dtype=s["dtype"])
        net = net.to(**on)
        X_train, y_train, X_test, y_test = (backends.move(a, **on)
                                            for a in (X_train, y_train, X_test, y_test))
    opt = make_optimizer(s["optimizer"], s["lr"])
    epochs = train(net, X_train, y_train, method=s["method"], optimizer=opt, epochs=s["epochs"],
                   batch_size=s["batch_size"], rng=streams(s["seed"])["shuffle"], X_test=X_test,
                   y_test=y_test)
    settings = dict(method=s["method"], optimizer=s["optimizer"], lr=opt.lr,
                    batch_size=s["batch_size"], epochs=s["epochs"], depth=s["depth"],
                    width=s["width"], input_dim=widths[0], activation=s["activation"],
                    seed=s["seed"], data=s["data"] or "synthetic", target=s["target"] or "teacher",
                    n_train=len(task.y_train), n_test=len(task.y_test),
                    noise=s["noise"] if s["data"] is None else "", test_fraction=s["test_fraction"],
                    backend=s["backend"], device=s["device"],
                    device_name=backends.describe(net)["device_name"], dtype=s["dtype"])
    rows = []
    with (RowWriter(real.get("--out"), f"--out {out}", COLUMNS) as write,
          _progress(progress, s) as bar):
        for e in epochs:
            row = dict(epoch=e.epoch, train_loss=e.train_loss, test_loss=e.test_loss,
                       seconds=e.seconds, gradient_seconds=e.gradient_seconds, **settings)
            write(row)
            rows.append(row)
            bar(e)
    if plot is not None:
        from bench.train.plot import plot_curves  # matplotlib, as above

        plot_curves(rows, plot)
    return rows


class _progress:
    """A per-epoch progress bar (bench.progress, sweep's style) with time left and train loss."""

    def __init__(self, asked, s):
        self.asked, self.s, self.bar, self.started = asked, s, None, time.perf_counter()

    def __enter__(self):
        if self.s["epochs"] > 0:
            self.bar = Bar(self.s["epochs"], f"train {self.s['method']}/{self.s['optimizer']}",
                           "epochs", self.asked,
                           mininterval=0.1)  # epochs can take a millisecond
        return self

    def __call__(self, epoch):
        if self.bar is None:
            return
        if epoch.epoch == 0:  # the untrained network's losses: the epochs' clock starts now
            self.started = time.perf_counter()
        spent = time.perf_counter() - self.started
        left = spent / epoch.epoch * (self.s["epochs"] - epoch.epoch) if epoch.epoch else None
        self.bar.show(epoch.epoch, f"train loss {epoch.train_loss:.4g}", left)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


def summary(rows):
    """One line for the terminal: losses before and after, seconds per epoch."""
    first, last = rows[0], rows[-1]
    trained = rows[1:]
    line = (f"{last['method']}/{last['optimizer']} lr={last['lr']:g} on {last['backend']} "
            f"{last['device']} {last['dtype']}: "
            f"train loss {first['train_loss']:.4g} -> {last['train_loss']:.4g}")
    if last["n_test"]:
        line += f", test loss {first['test_loss']:.4g} -> {last['test_loss']:.4g}"
    if trained:
        per_epoch = sum(r["seconds"] for r in trained) / len(trained)
        in_grad = sum(r["gradient_seconds"] for r in trained) / len(trained)
        line += (f" after {last['epoch']} epochs; {seconds(per_epoch)} per epoch "
                 f"({seconds(in_grad)} in gradients)")
    return line
