"""Figures of space: working memory against the swept variable, and time against working memory.

Working memory is what a call keeps alive besides the gradient it returns (work_mem_bytes:
tracemalloc's peak during the call minus the bytes of that gradient); the whole peak
(peak_mem_bytes) also holds the E + 1 numbers every method must hand back, which at small
widths is as large as everything a method stores and hides the difference between methods.
"""

import matplotlib
import numpy as np
from matplotlib.lines import Line2D

from bench.formatting import nbytes
from bench.plot.style import (
    SYMBOLS,
    data_ylim,
    fit_note,
    fit_row,
    method_color,
    method_marker,
    methods,
    series,
    with_fit,
)
from bench.schema import TIME

MEMORY = "work_mem_bytes"
MODEL = "mem_model_bytes"


def _measured(rows):
    """The rows with a working-memory measurement (older files have none)."""
    return rows[rows[MEMORY] > 0] if MEMORY in rows else rows.iloc[:0]


def _bytes_axis(ax, which):
    getattr(ax, f"set_{which}scale")("log", base=4)  # ticks at whole KiB and MiB
    getattr(ax, f"{which}axis").set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda v, _: nbytes(v))
    )


def draw_memory(ax, rows, sweep, fits):
    """Measured working memory, the model (memory_count) dashed, the fitted law."""
    var = sweep.variable
    rows = _measured(rows)
    entries, modelled = [], False
    for m in methods(rows):
        s = series(rows, m, var)
        color = method_color(m)
        (points,) = ax.plot(s[var], s[MEMORY], method_marker(m), color=color)
        if MODEL in s and s[MODEL].notna().all():
            ax.plot(s[var], s[MODEL], "--", color=color, lw=0.9, alpha=0.7)
            modelled = True
        fit = fit_row(fits, sweep, "memory", m)
        entries.append(with_fit(ax, points, m, fit, color, s[var]))
    if modelled:
        entries.append((Line2D([], [], ls="--", color="0.4", lw=0.9), "model (memory_count)"))
    if len(rows):
        data_ylim(ax, rows[[MEMORY]])
    _bytes_axis(ax, "y")
    ax.set_ylabel("working memory of one call")
    ax.set_title(f"Working memory vs {var}")
    note = "Working memory: the peak during a call minus the gradient it returns."
    return entries, " ".join(filter(None, [note, fit_note(fits, sweep, "memory")]))


def draw_tradeoff(ax, rows, sweep, fits):
    """Time against working memory, a curve per method across the sweep, its ends labelled."""
    var = sweep.variable
    rows = _measured(rows)
    entries = []
    n = SYMBOLS.get(var, var)
    for m in methods(rows):
        s = series(rows, m, var)
        color = method_color(m)
        (line,) = ax.plot(s[MEMORY], s[TIME], method_marker(m) + "-", color=color)
        entries.append((line, m))
        ends = s.iloc[[0, -1]] if len(s) > 1 else s
        for _, r in ends.iterrows():
            ax.annotate(
                f"{n} = {r[var]:g}",
                (r[MEMORY], r[TIME]),
                fontsize="small",
                color=color,
                xytext=(4, 4),
                textcoords="offset points",
            )
    if len(rows):
        data_ylim(ax, rows[[TIME]])
        lo, hi = np.nanmin(rows[MEMORY]), np.nanmax(rows[MEMORY])
        ax.set_xlim(lo / 1.6, hi * 2.5)  # room for the labels at the right end
    ax.set_xlabel("working memory of one call")
    _bytes_axis(ax, "x")
    ax.set_ylabel("time per call (s)")
    ax.set_title("Time against working memory")
    return entries, f"Each curve runs over the {var} sweep; its ends are labelled with {n}."
