"""The figure of a file of several placements: time against the swept variable, a curve per
(method, placement).

Colour and marker say the method (as in every figure), the line style the placement, so that
backprop on NumPy and backprop on torch are one colour, two lines. The fitted exponent of each
curve is in its legend entry; the fits are the placement's own (bench.results.sweeps keys them by
placement).
"""

from bench.placement import method_label, placements, rows_of
from bench.plot.style import data_ylim, exponent, fit_row, method_color, method_marker, methods
from bench.schema import TIME

LINES = ("-", "--", ":", "-.")  # a line style per placement, in placements() order


def draw_placements(ax, rows, sweep, fits):
    """The time per (method, placement) joined by lines, k of each in the legend."""
    var = sweep.variable
    entries = []
    for i, where in enumerate(placements(rows)):
        here = rows_of(rows, where)
        for m in methods(here):
            s = here[here["method"] == m].sort_values(var)
            (line,) = ax.plot(
                s[var],
                s[TIME],
                method_marker(m),
                ls=LINES[i % len(LINES)],
                color=method_color(m),
                lw=1.1,
            )
            fit = fit_row(fits, sweep.at(where), "time", m)
            law = "" if fit is None else f": {exponent(fit)}"
            entries.append((line, method_label(m, where) + law))
    data_ylim(ax, rows[[TIME]])
    ax.set_ylabel("time per call (s)")
    ax.set_title(f"Time of one gradient vs {var}, per backend")
    return entries, (
        "Method (backend device dtype): the time; k: the fitted exponent of "
        "the placement's time."
    )
