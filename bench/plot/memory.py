"""Figures of space: working memory against the swept variable, and time against working memory.

Working memory is what a call keeps alive besides the gradient it returns (work_mem_bytes:
tracemalloc's peak during the call minus the bytes of that gradient); the whole peak
(peak_mem_bytes) also holds the E + 1 numbers every method must hand back, which at small
widths is as large as everything a method stores and hides the difference between methods.
"""

import matplotlib
import numpy as np

from bench.formatting import nbytes
from bench.plot.style import COLORS, MARKERS, data_ylim, fit_line, fit_note, fit_row, methods, series
from bench.schema import TIME

MEMORY = "work_mem_bytes"
MODEL = "mem_model_bytes"


def _measured(rows):
    """The rows with a working-memory measurement (older files have none)."""
    return rows[rows[MEMORY] > 0] if MEMORY in rows else rows.iloc[:0]


def draw_memory(ax, rows, var, fixed, fits):
    """Measured working memory, the model (gradients.memory_count) as a dashed line, the fitted law."""
    rows = _measured(rows)
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        color = COLORS.get(m)
        (points,) = ax.plot(s[var], s[MEMORY], MARKERS.get(m, "o"), ms=5, color=color)
        entries.append((points, f"{m}: measured"))
        if MODEL in s and s[MODEL].notna().all():
            (model,) = ax.plot(s[var], s[MODEL], "--", color=color, lw=0.9, alpha=0.7)
            entries.append((model, f"{m}: model (memory_count)"))
        fit = fit_row(fits, m, var, fixed, "memory")
        if fit is not None:
            entries.append(fit_line(ax, fit, color, s[var]))
    if len(rows):
        data_ylim(ax, rows[[MEMORY]])
    ax.set_yscale("log", base=4)  # ticks at whole KiB and MiB
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: nbytes(v)))
    ax.set_ylabel("working memory of one call")
    ax.set_title(f"Working memory (peak minus the gradient returned) vs {var}")
    return entries, fit_note(fits, var, fixed, "memory")


def draw_tradeoff(ax, rows, var, fixed, fits):
    """Time against working memory, a curve per method across the sweep, its ends labelled with the variable."""
    rows = _measured(rows)
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        (line,) = ax.plot(s[MEMORY], s[TIME], MARKERS.get(m, "o") + "-", ms=4, color=COLORS.get(m))
        entries.append((line, f"{m}: fastest time vs working memory"))
        for _, r in s.iloc[[0, -1]].iterrows() if len(s) > 1 else s.iterrows():
            ax.annotate(f"{var} {r[var]:g}", (r[MEMORY], r[TIME]), fontsize=6.5, color=COLORS.get(m),
                        xytext=(3, 3), textcoords="offset points")
    if len(rows):
        data_ylim(ax, rows[[TIME]])
        lo, hi = np.nanmin(rows[MEMORY]), np.nanmax(rows[MEMORY])
        ax.set_xlim(lo / 1.6, hi * 2.5)  # room for the labels at the right end
    ax.set_xlabel(f"working memory of one call (across the {var} sweep; {fixed})", fontsize=8.5)
    ax.set_xscale("log", base=4)  # ticks at whole KiB and MiB
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: nbytes(v)))
    ax.set_ylabel("time per call (s)")
    ax.set_title("Time against working memory: the price of storing less")
    return entries, None
