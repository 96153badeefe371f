"""The `gradbench` command: a thin click group; each command calls one library function.

Choices come from the registries (gradients.METHODS, ACTIVATIONS, the optimizers, the
profiles), which need only numpy; the heavy library modules (matplotlib, pyperf, scipy) are
imported inside each command, so no command pays for another's imports.
"""

import contextlib
import logging
import os
import signal
import sys

from bench import signals  # signal and threading alone

INTERRUPTED = "gradbench: interrupted; results already written are kept"
# a local cluster's worker imports this module as it starts (multiprocessing's spawn loads the
# parent's __main__): it is no command, and must neither print a command's line nor probe
_WORKER = getattr(getattr(sys.modules.get("multiprocessing.process"), "current_process", dict)(),
                  "_inheriting", False)
# SIGTERM and SIGHUP while the command line is still loading end it as they end a command
_LOADING = {} if _WORKER else signals.raise_stopped_while_loading()
try:  # Ctrl-C while the command line is still loading (a tenth of a second): no traceback either
    from bench import limits

    if not _WORKER and (_too_small := limits.too_small_to_load(sys.argv[1:])) is not None:
        sys.stderr.write(f"gradbench: error: {_too_small}\n")
        sys.exit(2)
    import click

    import gradients  # the registries behind the choices (numpy only; no matplotlib, pyperf, scipy)
    from bench import rules
    from bench.errors import UserError
    from bench.signals import Stopped, stop_signals_exit
    from bench.sweep.budget import PROFILES  # the sweep's timing profiles (a plain dict)
    from bench.sweep.loop import DEFAULTS as SWEEP  # the sweep's defaults, written once
    from bench.train import DEFAULTS as TRAIN  # the train command's defaults, written once
    from bench.train import SYNTHETIC_INPUT_DIM
    from gradients.train import OPTIMIZERS
except KeyboardInterrupt:
    sys.stderr.write(INTERRUPTED + "\n")
    sys.exit(130)
except signals.Stopped as _e:
    sys.stderr.write(_e.line() + "\n")
    raise
except (ImportError, MemoryError, RuntimeError, SystemError) as _e:  # a limit the probe missed
    if _e.__cause__.__class__ is KeyboardInterrupt or _e.__context__.__class__ is KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")  # Ctrl-C that a module's C init wrapped
        sys.exit(130)
    _why = f"{type(_e).__name__}{limits.note()}"
    sys.stderr.write(f"gradbench: error: cannot load its modules ({_why})\n")
    sys.exit(2)

NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click 8.1 prints the help itself
PROGRESS_HELP = "progress bar on stderr  [default: when stderr is a terminal]"
LR_DEFAULTS = ", ".join(f"{name} {opt.default_lr:.0e}".replace("e-0", "e-")
                        for name, opt in OPTIMIZERS.items())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradbench")
def cli():
    """Measure what backpropagation buys: naive chain rule vs backprop on a ReLU network."""


# --- commands: one function each, in the order of the pipeline ----------------------
# (sweep, fit, plot, report, then train; keep each body a call into the library)


@cli.command()
@click.option("--depth", default=SWEEP["depth"], show_default=True,
              help="L, weight matrices: 8, 1,2,4, 2:20:2 or 1:64:x2")
@click.option("--width", default=SWEEP["width"], show_default=True,
              help="hidden width, same range syntax")
@click.option("--batch", default=SWEEP["batch"], show_default=True,
              help="examples per mini-batch, same range syntax")
@click.option("--input-dim", default=SWEEP["input_dim"],
              help="d, the input size, same range syntax  [default: the width]")
@click.option("--methods", default=SWEEP["methods"], show_default=True,
              help="comma-separated gradient methods, plus forward (the loss alone)")
@click.option("--activation", type=click.Choice(gradients.ACTIVATIONS),
              default=SWEEP["activation"], show_default=True, help="sigma of every network")
@click.option("--seed", default=SWEEP["seed"], show_default=True, type=int,
              help="seed of every network and batch")
@click.option("--backend", default=SWEEP["backend"], show_default=True,
              help="array library of the network and batch: numpy, torch, cupy, or a comma list")
@click.option("--device", default=SWEEP["device"], show_default=True,
              help="where they compute: cpu, cuda or cuda:N (torch, cupy), or a comma list")
@click.option("--dtype", default=SWEEP["dtype"], show_default=True,
              help="float64, float32, or a comma list")
@click.option("--profile", type=click.Choice(list(PROFILES)), default=SWEEP["profile"],
              show_default=True,
              help="timing effort: processes, rounds per point, seconds of a block (docs/sweep.md)")
@click.option("--max-seconds", default=SWEEP["max_seconds"], show_default=True, type=float,
              help="budget of one point's timing: predicted over it is skipped, "
                   "running over it is killed")
@click.option("--blas-threads", default=SWEEP["blas_threads"], show_default=True, type=int,
              help="OMP/OpenBLAS/MKL threads of the timing processes")
@click.option("--out", required=True, type=click.Path(),
              help="results CSV (pyperf JSON goes to OUT.pyperf/)")
@click.option("--resume", is_flag=True, help="continue OUT: points already ok are not run again")
@click.option("--force", is_flag=True, help="replace an existing OUT with a fresh file")
@click.option("--workers", type=int, default=None, metavar="N",
              help="run the series on a local Dask cluster of N worker processes "
                   "(needs gradbench[cluster])")
@click.option("--worker-wait", default=SWEEP["worker_wait"], show_default=True, type=float,
              metavar="SECONDS",
              help="with --workers or --scheduler: how long to wait while no worker can take "
                   "a series")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="run the series on a running Dask cluster, e.g. tcp://host:8786; "
                   "see docs/cluster.md")
@click.option("--progress/--no-progress", default=None, help=PROGRESS_HELP)
@click.pass_context
def sweep(ctx, **options):
    """Time every method over depth x width x batch in interleaved rounds: a CSV row per point.

    Each point's gradient is first checked against backprop; a disagreement makes the exit
    status 1.
    """
    from bench.sweep.loop import sweep as run_sweep
    from bench.sweep.progress import summary

    result = run_sweep(**options)
    click.echo(summary(result))
    if result.disagreements:
        ctx.exit(1)


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--time-rule", default=rules.TIME_RULE, show_default=True, metavar="RULE",
              help=f"points/model of the time fits: {rules.HELP}")
@click.option("--ops-rule", default=rules.OPS_RULE, show_default=True, metavar="RULE",
              help="points of the op-count fits, same rules")
@click.option("--memory-rule", default=rules.MEMORY_RULE, show_default=True, metavar="RULE",
              help="points of the working-memory fits, same rules")
def fit(results, time_rule, ops_rule, memory_rule):
    """Fit growth exponents k (y = c n^k, 95% CI) of time, op count and working memory per
    method and swept variable; writes <name>.fits.csv."""
    from bench.fit import fit_file, summary

    for path in results:
        out, fits, notes = fit_file(path, time_rule=time_rule, ops_rule=ops_rule,
                                    memory_rule=memory_rule)
        click.echo("\n".join(notes + summary(fits) + [f"wrote {out}"]))


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out-dir", default="plots", show_default=True, type=click.Path(file_okay=False),
              help="folder for <name>-<kind>.<format>, one of each per figure kind and format")
@click.option("--format", "formats", default="png,svg", show_default=True,
              help="comma list of image formats: png, svg, pdf, eps, ...")
@click.option("--style", default="report", show_default=True,
              help="sizes and fonts: report (a Markdown page), paper (a column of a two-column "
                   "paper; several panels span both) or slides (a 16:9 slide)")
def plot(results, out_dir, formats, style):
    """Draw the figures (time, speedup, ops, vs-forward, rate, local, memory, tradeoff; backends
    for a file of several backends, devices or dtypes) of results CSVs; fits them first if need
    be."""
    from bench import pipeline

    for _, written, notes in pipeline.plot_files(results, out_dir, formats, style):
        click.echo("\n".join(notes + [f"wrote {p}" for p in written]))


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Markdown file  [default: results/<name>.md for one CSV, "
                   "report.md beside the first of several]")
@click.option("--plots-dir", default="plots", show_default=True, type=click.Path(file_okay=False),
              help="where the figures are (drawn there if missing)")
@click.option("--readme", default=None, type=click.Path(dir_okay=False),
              help="also rewrite the results block of this file (the README) from the same numbers")
def report(results, out, plots_dir, readme):
    """Write a Markdown report: environment, sweeps, fits against theory, speedups, figures."""
    from bench import pipeline

    path, notes = pipeline.report(results, out, plots_dir, readme=readme)
    click.echo("\n".join(notes + [f"wrote {path}"]))


@cli.command()
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="also write the comparison here (Markdown)")
def compare(a, b, out):
    """Compare two results CSVs: time exponents and per-point times side by side, their
    differences and whether their 95% intervals overlap (does a result reproduce? what did a
    change do?)."""
    from bench.compare import compare as run_compare

    lines, written = run_compare(a, b, out)
    click.echo("\n".join(lines + ([f"wrote {written}"] if written else [])))


@cli.command()
@click.option("--method", default=TRAIN["method"], show_default=True,
              help=f"gradient method ({', '.join(gradients.METHODS)}), or a comma list of them "
                   "for a race: each trains from the same seed, and --plot draws loss against "
                   "seconds and epochs")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default=TRAIN["optimizer"],
              show_default=True, help="update rule (gradients.train.OPTIMIZERS)")
@click.option("--lr", type=float, default=None,
              help=f"learning rate eta  [default: {LR_DEFAULTS}]")
@click.option("--epochs", type=int, default=TRAIN["epochs"], show_default=True,
              help="passes over the training set")
@click.option("--batch-size", type=int, default=TRAIN["batch_size"], show_default=True,
              help="B, examples per mini-batch (the last one may be smaller)")
@click.option("--depth", type=int, default=TRAIN["depth"], show_default=True,
              help="L, number of weight matrices")
@click.option("--width", type=int, default=TRAIN["width"], show_default=True, help="hidden width")
@click.option("--input-dim", type=int, default=None,
              help=f"d of the synthetic task [default: {SYNTHETIC_INPUT_DIM}; "
                   "with --data: the number of features]")
@click.option("--activation", type=click.Choice(gradients.ACTIVATIONS),
              default=TRAIN["activation"], show_default=True, help="sigma of student and teacher")
@click.option("--seed", type=int, default=TRAIN["seed"], show_default=True,
              help="seeds the data, teacher, split, initial network and shuffles")
@click.option("--samples", type=int, default=TRAIN["samples"], show_default=True,
              help="examples of the synthetic task (train plus test)")
@click.option("--noise", type=float, default=TRAIN["noise"], show_default=True,
              help="std of the Gaussian noise added to the teacher's y")
@click.option("--test-fraction", type=float, default=TRAIN["test_fraction"], show_default=True,
              help="share of the examples held out for the test loss")
@click.option("--backend", default=TRAIN["backend"], show_default=True,
              help="array library of the network and data: numpy, torch or cupy")
@click.option("--device", default=TRAIN["device"], show_default=True,
              help="where they compute: cpu, cuda or cuda:N (torch, cupy); cuda is cuda:0")
@click.option("--dtype", default=TRAIN["dtype"], show_default=True, help="float64 or float32")
@click.option("--data", type=click.Path(dir_okay=False), default=None,
              help="train on this numeric CSV file instead of the synthetic task")
@click.option("--target", default=None,
              help="the CSV column to predict (every other column is a feature)")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="write per-epoch rows to this CSV file")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="draw the learning curves to this image file "
                   "(format from the suffix: png, svg, pdf, ...)")
@click.option("--force", is_flag=True, help="replace an existing --out or --plot file")
@click.option("--progress/--no-progress", default=None, help=PROGRESS_HELP)
def train(out, plot, force, progress, method, **settings):
    """Train the network by mini-batch SGD, Adam or AdaGrad with any gradient method; report
    losses per epoch."""
    from bench import train as training
    from bench.train import race

    methods = race.parse_methods(method)
    if len(methods) == 1:
        rows = training.run(out=out, plot=plot, force=force, progress=progress, method=methods[0],
                            **settings)
        click.echo(training.summary(rows))
    else:
        runs = race.run(methods, out=out, plot=plot, force=force, progress=progress, **settings)
        click.echo(race.summary(runs))


def main(argv=None):
    """Entry point: every failure is one line on stderr.

    Exit 2 for bad input, 130 for Ctrl-C, 128 + n for signal n."""
    own = argv is None  # the command line's own process, which ends here
    if own:  # a stop signal before the command, or after it, is one line too
        signals.raise_stopped_while_loading()
    try:
        _open_standard_streams()
        code = _run(argv)
    except KeyboardInterrupt:  # also one that comes while an error below is being printed
        code = _interrupted(argv)
    except Stopped as e:  # outside the command, whose own handlers print its line
        _say(e.line())
        code = e.code
    code = _flushed(code)
    if own:  # the result is out: a signal while Python exits (it resets handlers) changes nothing
        for sig in (signal.SIGINT, *signals.STOP):
            signal.signal(sig, signal.SIG_IGN)
        # nor a log line after it (a nanny of an abandoned Dask cluster, failing as Python exits)
        logging.disable(logging.CRITICAL)
    sys.exit(code)


def _open_standard_streams():
    """/dev/null in place of a standard stream closed at start (`2>&-`): else the next file opened
    would take its number, and stderr's lines, a child's included, would land in a results file;
    and Python leaves sys.stderr None, which progress lines cannot write to.

    MPLBACKEND goes too: the commands only write files (Figures, no backend), and a value
    matplotlib cannot load would fail its import."""
    os.environ.pop("MPLBACKEND", None)
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115  for the whole process


def _flushed(code):
    """Flush stdout before exiting: a reader gone or a full disk is one line and exit 2, not
    Python's complaint at shutdown."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError) as e:
        _silence(sys.stdout)
        if code == 0:
            code = _error(f"cannot write to stdout ({getattr(e, 'strerror', None) or e})")
    return code


def _say(line):
    """A line on stderr; nothing where stderr is closed, full or gone (the exit status tells)."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # None when closed at start, EIO after a hang-up
        _silence(sys.stderr)


def _silence(stream):
    """Point a stream that cannot be written at /dev/null: Python's flush at exit cannot fail."""
    with contextlib.suppress(Exception):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _run(argv):
    """The command's exit status, its error printed as one line."""
    # only a caller in Python can pass one
    if argv is not None and any("\0" in str(a) for a in argv):
        return _error("an argument holds a NUL character, which no value or path can")
    try:
        # SIGTERM, SIGHUP: SystemExit(128 + n), so clean-ups run as for Ctrl-C
        with stop_signals_exit():
            code = cli.main(args=argv, prog_name="gradbench", standalone_mode=False)
    except click.exceptions.Abort:
        return _interrupted(argv)
    except SystemExit as e:  # SIGTERM, SIGHUP (bench.signals.Stopped): one line, as for Ctrl-C
        if isinstance(e, Stopped):
            _say(e.line())
            return e.code
        raise
    except NO_ARGS as e:  # `gradbench` alone: the help, as lines (click >= 8.2 raises it)
        click.echo(e.format_message(), err=True)
        return 2
    except click.ClickException as e:  # usage errors too
        return _error(e.format_message(), 2 if isinstance(e, click.UsageError) else e.exit_code)
    except UserError as e:
        return _error(str(e))
    except (MemoryError, ImportError, SystemError, RuntimeError) as e:
        if (code := _fault(e, argv)) is None:  # a bug: its traceback says where
            raise
        return code
    except OSError as e:  # a fault no check foresaw (EIO, ...): still one line
        return _error(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}")
    # without standalone_mode, click returns ctx.exit(n)'s n instead of exiting
    return code if isinstance(code, int) else 0


def _fault(e, argv):
    """The exit status of a fault a limit or Ctrl-C explains, its line printed; else None."""
    if _interrupted_inside(e):  # Ctrl-C inside C code that wrapped it (a module's init)
        return _interrupted(argv)
    if isinstance(e, MemoryError):
        why = limits.note() or " (the memory guard's estimate fell short)"
        return _error(f"out of memory{why}; try smaller sizes")
    if isinstance(e, ImportError):  # a library that cannot map its code under a limit (ulimit -v)
        return _error(f"cannot load {e.name or 'a module'} ({_first(e)}){limits.note()}")
    if isinstance(e, SystemError) and limits.address_space() is not None:
        # under a limit: C code whose allocation failed (re, in pandas)
        return _error(f"out of memory inside Python ({_first(e)}){limits.note()}")
    if isinstance(e, RuntimeError) and "can't start new thread" in str(e):  # threading's
        return _error(f"cannot start a thread{limits.note()}")
    return None


def _interrupted_inside(error):
    """Ctrl-C behind an error: pybind11's modules turn it into ImportError('initialization
    failed') raised from it."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _error(message, code=2):
    _say(f"gradbench: error: {_one_line(message)}")
    return code


def _first(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[-1]


def _one_line(text):
    """Escape control characters (a newline in a path), invalid UTF-8: a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _interrupted(argv):
    # the command line's own process, about to exit: a second Ctrl-C must not interrupt that
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _say(INTERRUPTED)
    return 130


signals.restore(_LOADING)  # the command's own from main() on; an importer's as they were

if __name__ == "__main__":
    main()
