"""The README's results block: the headline numbers, written by the code that writes the report, so
the front page cannot drift from results/. `gradbench report ... --readme README.md` rewrites the
text between the two markers; a test fails when the committed block differs from results/."""

import os
import re
from pathlib import Path

from bench.errors import UserError
from bench.fit import fits_for
from bench.formatting import table
from bench.output import write_text
from bench.report.growth import sort_fits, speedup
from bench.results import ok_rows, panels

BEGIN, END = "<!-- results: written by `make bench` (gradbench report --readme); do not edit -->", \
    "<!-- results: end -->"
# the figures of the first file shown on the front page, with their alt text
FIGURES = {"time": "time of one gradient call against {var}, log-log, with the fitted laws",
           "local": "local exponent of time against {var}: where each method reaches its "
                    "asymptotic slope"}


def _ops_k(fits, sweep, method):
    hit = fits_for(fits, sweep, "ops", method)
    return f"{hit['k'].iloc[0]:.3f}" if len(hit) else "-"


def block(frames, all_fits, plots_dir, readme_dir):
    """The block's lines (markers excluded)."""
    first = next(iter(frames.values()))
    ok = ok_rows(first)
    lines = [f"Measured on {ok['cpu'].iloc[0]}, Python {ok['python'].iloc[0]}, NumPy "
             f"{ok['numpy'].iloc[0]} ({ok['blas'].iloc[0]}, {ok['blas_threads'].iloc[0]} thread), "
             f"profile `{ok['profile'].iloc[0]}`, {ok['timestamp'].min()[:10]}. Time exponents "
             "with 95% intervals (a bootstrap over the rounds the points shared), fitted over n >= "
             "(largest n) / 8; op-count exponents over the three largest n:", ""]
    rows, speedups = [], []
    for name, fits in all_fits.items():
        df = ok_rows(frames[name])
        for sweep, sweep_rows in panels(df):
            var = sweep.variable
            f = fits_for(fits, sweep, "time")
            held = ", ".join(f"{v} {sweep_rows[v].iloc[0]}"
                             for v in ("depth", "width", "batch") if v != var)
            span = f"{name}: {var} {sweep_rows[var].min()}..{sweep_rows[var].max()} ({held})"
            for i, r in enumerate(sort_fits(f).itertuples()):
                rows.append([span if i == 0 else "", r.method,
                             f"{r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}]", f"{r.theory_k:g}",
                             "yes" if r.covers_theory else "no",
                             _ops_k(fits, sweep, r.method)])
            both = set(sweep_rows["method"]) >= {"naive", "backprop"}
            if both:
                n = sweep_rows[sweep_rows["method"] == "naive"][var].max()
                speedups.append(f"{name}: at {var} {n}, backprop is "
                                f"{speedup(sweep_rows, var, n):,.0f} times faster than naive")
    lines += table(["sweep", "method", "time exponent", "theory", "in CI", "op-count exponent"],
                   rows)
    if speedups:
        lines += ["", "Speedup (same-round ratio of the two methods' times): "
                  + "; ".join(speedups) + "."]
    name = next(iter(frames))
    var = panels(first)[0][0].variable if panels(first) else "n"
    for kind, alt in FIGURES.items():
        png = Path(plots_dir) / f"{name}-{kind}.png"
        if png.is_file():
            rel = Path(os.path.relpath(png, readme_dir)).as_posix()
            lines += ["", f"![{alt.format(var=var)}]({rel})"]
    return lines


def update(readme, lines):
    """Replace the block between the markers of `readme` (UserError when it has none)."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise UserError(f"--readme {readme}: no results block (a line {BEGIN} and a line {END})")
    new = pattern.sub(lambda _: "\n".join([BEGIN, *lines, END]), text)
    if new != text:
        write_text(readme, new)
    return new
