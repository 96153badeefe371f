"""Figures of time and operation counts: time, naive/backprop speedup, op counts, time over
forward, rate.

Each draw_* fills one panel and returns (legend entries, a note for the caption or None).
"""

import numpy as np

from bench.plot.style import (
    data_ylim,
    fit_note,
    fit_row,
    guide_slopes,
    method_color,
    method_marker,
    methods,
    ratio,
    series,
    theory_exponents,
    with_fit,
)
from bench.schema import TIME
from gradients.registry import baseline


def _guides(ax, rows, sweep, fits, quantity, values):
    """Guide slopes of the theory's exponents over the sweep, and the y range to hold them."""
    var = sweep.variable
    x_from, x_to = rows[var].min(), rows[var].max()
    v = values.to_numpy(float)  # (points, columns)
    last = v[(rows[var] == rows[var].max()).to_numpy()]  # the guides end under the last points
    y_end = np.nanmin(last) / 2
    # room for the guides under flat (overhead-bound) data
    floor = min(np.nanmin(v) / 2, y_end / 30)
    guide_slopes(ax, var, x_from, x_to, y_end, floor, theory_exponents(fits, sweep, quantity))
    data_ylim(ax, values, low=floor)


def draw_time(ax, rows, sweep, fits):
    """Each point's time with its 95% interval as a bar (files before the rounds: the fastest value,
    a bar up to the slowest), the fitted law, guide slopes."""
    var = sweep.variable
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        t = s[TIME].to_numpy()  # (points,)
        rounds = s["time_lo_s"].notna().all()
        lo, hi = (s["time_lo_s"], s["time_hi_s"]) if rounds else (s["time_min_s"], s["time_max_s"])
        err = np.vstack([t - lo, hi - t])  # (2, points)
        color = method_color(m)
        bars = ax.errorbar(
            s[var], t, yerr=err, fmt=method_marker(m), color=color, capsize=2, ls="none"
        )
        entries.append(with_fit(ax, bars, m, fit_row(fits, sweep, "time", m), color, s[var]))
    spans = (["time_lo_s", "time_hi_s"] if rows["time_lo_s"].notna().all()
             else ["time_min_s", "time_max_s"])
    _guides(ax, rows, sweep, fits, "time", rows[spans])
    ax.set_ylabel("time per call (s)")
    ax.set_title(f"Time of one gradient vs {var}")
    note = ("Markers: 10th percentile of the rounds, bar: its 95% interval." if rounds
            else "Markers: fastest value, bar to slowest.")
    return entries, " ".join(filter(None, [note, fit_note(fits, sweep, "time")]))


def draw_ops(ax, rows, sweep, fits):
    """Exact multiplication counts, their fitted law, guide slopes."""
    var = sweep.variable
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        (points,) = ax.plot(s[var], s["ops"], method_marker(m), color=method_color(m))
        entries.append(
            with_fit(ax, points, m, fit_row(fits, sweep, "ops", m), method_color(m), s[var])
        )
    _guides(ax, rows, sweep, fits, "ops", rows[["ops"]])
    ax.set_ylabel("multiplications per call")
    ax.set_title(f"Multiplications of one gradient vs {var}")
    note = "Markers: exact counts."
    return entries, " ".join(filter(None, [note, fit_note(fits, sweep, "ops")]))


def draw_speedup(ax, rows, sweep, fits):
    """naive time / backprop time, and the same ratio of op counts."""
    var = sweep.variable
    x, r = ratio(rows, var, "naive", "backprop", TIME)
    naive_rows = series(rows, "naive", var).set_index(var)
    paired = naive_rows["time_vs_backprop"].reindex(x).to_numpy(float)
    # the same-round ratio where the rounds were shared
    r = np.where(np.isfinite(paired), paired, r)
    (time,) = ax.plot(x, r, "o-", color="black")
    x, r = ratio(rows, var, "naive", "backprop", "ops")
    (ops,) = ax.plot(x, r, "--", color="tab:purple")
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("naive time / backprop time")
    ax.set_title(f"How many times faster backprop is vs {var}")
    return [(time, "measured (same-round ratio of times)"),
            (ops, "predicted by operation counts")], None


def draw_vs_forward(ax, rows, sweep, fits):
    """Gradient time as a multiple of one forward pass (the loss) on the same point."""
    var = sweep.variable
    entries, base = [], baseline()
    for m in methods(rows):
        if m != base:
            x, r = ratio(rows, var, m, base, TIME)
            (line,) = ax.plot(x, r, method_marker(m) + "-", color=method_color(m))
            entries.append((line, m))
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("gradient time / forward time")
    ax.set_title(f"Cost of a gradient in forward passes vs {var}")
    return entries, "Ratios of times at each point."


def draw_rate(ax, rows, sweep, fits):
    """Counted multiplications per second, per method: the engineering each method gets."""
    var = sweep.variable
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        (line,) = ax.plot(
            s[var], s["ops"] / s[TIME], method_marker(m) + "-", color=method_color(m)
        )
        entries.append((line, m))
    ax.set_ylabel("multiplications per second")
    ax.set_title(f"Arithmetic rate vs {var}")
    note = (
        "Rate: op_count / time; gradient methods' counts leave out their forward pass "
        "(see op_count)."
    )
    return entries, note
