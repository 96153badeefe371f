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
