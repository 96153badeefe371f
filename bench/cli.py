"""The `gradbench` command: a thin click group; each command calls one library function.

Library modules are imported inside each command so that `gradbench --help` stays fast
and a command never pays for another's imports (matplotlib, pyperf).
"""

import sys

import click

from bench.errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradbench")
def cli():
    """Measure what backpropagation buys: naive chain rule vs backprop on a ReLU network."""


# --- commands: one function each, in the order of the pipeline ----------------------
# (sweep, fit, plot, report, train are added below; keep each body a call into the library)


@cli.command()
@click.option("--method", default="backprop", show_default=True, help="gradient method (gradients.METHODS: backprop, naive, numerical)")
@click.option("--optimizer", default="sgd", show_default=True, help="sgd, adam or adagrad")
@click.option("--lr", type=float, default=None, help="learning rate eta  [default: sgd 3e-2, adam 1e-3, adagrad 3e-2]")
@click.option("--epochs", type=int, default=200, show_default=True, help="passes over the training set")
@click.option("--batch-size", type=int, default=32, show_default=True, help="B, examples per mini-batch (the last one may be smaller)")
@click.option("--depth", type=int, default=3, show_default=True, help="L, number of weight matrices")
@click.option("--width", type=int, default=8, show_default=True, help="hidden width")
@click.option("--input-dim", type=int, default=None, help="d of the synthetic task [default: 4; with --data: the number of features]")
@click.option("--activation", type=click.Choice(["relu", "identity"]), default="relu", show_default=True, help="sigma of student and teacher")
@click.option("--seed", type=int, default=0, show_default=True, help="seeds the data, teacher, split, initial network and shuffles")
@click.option("--samples", type=int, default=512, show_default=True, help="examples of the synthetic task (train plus test)")
@click.option("--noise", type=float, default=0.0, show_default=True, help="std of the Gaussian noise added to the teacher's y")
@click.option("--test-fraction", type=float, default=0.2, show_default=True, help="share of the examples held out for the test loss")
@click.option("--data", type=click.Path(dir_okay=False), default=None, help="train on this numeric CSV file instead of the synthetic task")
@click.option("--target", default=None, help="the CSV column to predict (every other column is a feature)")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="write per-epoch rows to this CSV file")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="draw the learning curves to this PNG file")
@click.option("--progress/--no-progress", default=True, show_default=True, help="progress bar on stderr")
def train(out, plot, progress, **settings):
    """Train the network by mini-batch SGD, Adam or AdaGrad with any gradient method; report losses per epoch."""
    from bench import train as training

    rows = training.run(out=out, plot=plot, progress=progress, **settings)
    click.echo(training.summary(rows))


def main(argv=None):
    """Entry point: click errors and UserError become one line on stderr and exit 2."""
    try:
        code = cli.main(args=argv, prog_name="gradbench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("gradbench: interrupted; results already written are kept", err=True)
        sys.exit(130)
    except click.exceptions.UsageError as e:
        click.echo(f"gradbench: error: {e.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as e:
        click.echo(f"gradbench: error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except UserError as e:
        click.echo(f"gradbench: error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("gradbench: interrupted; results already written are kept", err=True)
        sys.exit(130)
    # without standalone_mode, click returns ctx.exit(n)'s n instead of exiting
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
