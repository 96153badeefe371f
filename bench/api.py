"""gradbench from Python, after perfplot: run a sweep or load a file, get data and figures back.

    out = bench.run_sweep(depth=[1, 2, 4, 8], width=16, methods=["naive", "backprop"])
    out.df          # the results, a pandas DataFrame (one row per point)
    out.fit()       # the fitted exponents, a DataFrame
    out.plot("time", style="slides")   # a matplotlib Figure (shown inline in Jupyter)
    out.save("results/depth.csv")      # the results CSV, as `gradbench sweep --out` writes it
    out.report("results/depth.md")     # the Markdown report, as `gradbench report` writes it

The command line calls the same stages (bench.sweep.loop.sweep, bench.fit, bench.plot,
bench.pipeline); nothing here draws or fits in another way.
"""

import tempfile
from pathlib import Path

from bench import fit as fitting
from bench import rules
from bench.errors import UserError
from bench.output import check_writable, write_text
from bench.results import read_results, read_rounds
from bench.sweep.loop import DEFAULTS, sweep


def _range(value):
    """A range as the command line takes it: 8, [1, 2, 4], range(2, 10, 2) or '1:64:x2'."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return ",".join(str(int(v)) for v in value)


def run_sweep(
    *, out=None, methods=DEFAULTS["methods"], resume=False, force=False, progress=None, **options
):
    """Run a sweep and return its Results.

    Args:
        out: a results CSV to write (with the command line's guarantees: resume, --force); by
            default a temporary file, removed once read.
        methods: a list of method names, or a comma list.
        progress: draw the progress bar (True), never (False), or where someone watches (None:
            a widget or a line in Jupyter, a line on stderr in a terminal).
        options: any of `gradbench sweep`'s options, by their Python names (depth, width, batch,
            input_dim: an int, a list of ints, a range or range text as '1:64:x2'; seed, profile,
            max_seconds, backend, device, dtype, ...).
    """
    for key in ("depth", "width", "batch", "input_dim"):
        if key in options:
            options[key] = _range(options[key])
    methods = methods if isinstance(methods, str) else ",".join(methods)
    if out is not None:
        sweep(out=out, methods=methods, resume=resume, force=force, progress=progress, **options)
        return load(out)
    with tempfile.TemporaryDirectory(prefix="gradbench-") as folder:
        path = Path(folder) / "sweep.csv"
        sweep(out=path, methods=methods, progress=progress, **options)
        results = load(path)
    results.path = None  # gone with its folder; save() writes the text read
    return results


def load(path):
    """The Results of a results CSV (a one-line UserError for a file gradbench cannot read)."""
    text = Path(path).read_text(encoding="utf-8")
    df = read_results(path, text=text)
    return Results(df, text, Path(path), rounds=read_rounds(path, df))


class Results:
    """A sweep's rows (`df`), with its fits, figures, report and file one call away."""

    def __init__(self, df, text, path=None, rounds=None):
        self.df, self._text, self.path = df, text, path
        self.rounds = rounds  # each row's round values, read while the pyperf suites were there
        self.name = path.stem if path else "sweep"

    def __repr__(self):
        methods = ", ".join(dict.fromkeys(self.df["method"]))
        where = f" from {self.path}" if self.path else ""
        return f"<gradbench Results: {len(self.df)} rows of {methods}{where}>"

    def fit(
        self, time_rule=rules.TIME_RULE, ops_rule=rules.OPS_RULE, memory_rule=rules.MEMORY_RULE
    ):
        """The fitted exponents (y = c n^k, 95% CI) per method, swept variable and quantity."""
        for rule, what in (
            (time_rule, "time rule"),
            (ops_rule, "ops rule"),
            (memory_rule, "memory rule"),
        ):
            rules.parse(rule, what)
        return fitting.fit_results(self.df, time_rule, ops_rule, memory_rule, rounds=self.rounds)

    def plot(self, kind="time", style="report", fits=None):
        """A matplotlib Figure of one kind (bench.plot.KINDS) in a style (report, paper, slides)."""
        from bench import plot  # matplotlib: only a figure or a report pays for it

        plot.check_style(style)
        kinds, notes, where = plot.drawable(self.df, self.name)
        if kind not in kinds:
            why = [n for n in notes if f"no {kind} plot" in n or "nothing to plot" in n]
            known = kind in plot.KINDS
            raise UserError(
                why[0]
                if why and known
                else f"no {kind} figure of {self.name}: "
                + (f"choose from {', '.join(kinds)}" if kinds else "; ".join(notes))
            )
        with plot.styled(style):
            return plot.figure(
                kind, kinds[kind], self.fit() if fits is None else fits, where, style
            )

    def save(self, path):
        """Write the results CSV, byte for byte the file the sweep wrote."""
        check_writable(path)  # its folder made, or one line saying why not
        return write_text(path, self._text)

    def report(self, path, plots_dir=None):
        """Write the Markdown report to `path` (figures in plots_dir, default `plots` beside it).

        The report reads a results file: this Results' own, or one saved beside the report.
        """
        from bench import pipeline  # matplotlib: only a figure or a report pays for it

        path = Path(path)
        source = (
            self.path if self.path and self.path.is_file() else self.save(path.with_suffix(".csv"))
        )
        plots_dir = Path(plots_dir) if plots_dir else path.parent / "plots"
        out, _ = pipeline.report(
            [source], path, plots_dir, command=f"bench.load({str(source)!r}).report({str(path)!r})"
        )
        return out
