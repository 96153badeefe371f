"""Figures of time and operation counts: time, naive/backprop speedup, op counts, time over forward, rate."""

import numpy as np

from bench.plot.style import COLORS, MARKERS, data_ylim, fit_line, fit_note, fit_row, methods, ratio, series
from bench.schema import TIME


def draw_time(ax, rows, var, fixed, fits):
    """Each point's time (fit's TIME) with its 95% interval as a bar, and the fitted law: (legend entries,
    title). Files before the rounds: the fastest value, a bar up to the slowest."""
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        t = s[TIME].to_numpy()  # (points,)
        rounds = s["time_lo_s"].notna().all()
        lo, hi = (s["time_lo_s"], s["time_hi_s"]) if rounds else (s["time_min_s"], s["time_max_s"])
        err = np.vstack([t - lo, hi - t])  # (2, points)
        color = COLORS.get(m)
        bars = ax.errorbar(s[var], t, yerr=err, fmt=MARKERS.get(m, "o"), ms=5, color=color, capsize=2, ls="none")
        entries.append((bars, f"{m}: " + ("time, bar: 95% interval" if rounds else "fastest value, bar to slowest")))
        fit = fit_row(fits, m, var, fixed, "time")
        if fit is not None:
            entries.append(fit_line(ax, fit, color, s[var]))
    data_ylim(ax, rows[["time_min_s", "time_max_s"]])
    ax.set_ylabel("time per call (s)")
    ax.set_title(f"Time of one call vs {var}")
    return entries, fit_note(fits, var, fixed, "time")


def draw_ops(ax, rows, var, fixed, fits):
    """Exact multiplication counts and their fitted law: (legend entries, title)."""
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        (points,) = ax.plot(s[var], s["ops"], MARKERS.get(m, "o"), ms=5, color=COLORS.get(m))
        entries.append((points, f"{m}: exact count"))
        fit = fit_row(fits, m, var, fixed, "ops")
        if fit is not None:
            entries.append(fit_line(ax, fit, COLORS.get(m), s[var]))
    data_ylim(ax, rows[["ops"]])
    ax.set_ylabel("multiplications per call")
    ax.set_title(f"Operation count vs {var}")
    return entries, fit_note(fits, var, fixed, "ops")


def draw_speedup(ax, rows, var, fixed, fits):
    """naive time / backprop time, and the same ratio of op counts: (legend entries, title)."""
    x, r = ratio(rows, var, "naive", "backprop", TIME)
    paired = series(rows, "naive", var).set_index(var)["time_vs_backprop"].reindex(x).to_numpy(float)
    r = np.where(np.isfinite(paired), paired, r)  # the same-round ratio where the rounds were shared
    (time,) = ax.plot(x, r, "o-", color="black")
    x, r = ratio(rows, var, "naive", "backprop", "ops")
    (ops,) = ax.plot(x, r, "--", color="tab:purple")
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("naive / backprop (times faster)")
    ax.set_title(f"Speedup of backprop over naive vs {var}")
    return [(time, "measured: ratio of times"), (ops, "ratio of operation counts")], None


def draw_vs_forward(ax, rows, var, fixed, fits):
    """Gradient time as a multiple of one forward pass (the loss) on the same point: (legend entries, title)."""
    entries = []
    for m in methods(rows):
        if m != "forward":
            x, r = ratio(rows, var, m, "forward", TIME)
            (line,) = ax.plot(x, r, MARKERS.get(m, "o") + "-", color=COLORS.get(m))
            entries.append((line, f"{m} gradient / forward pass (fastest times)"))
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("gradient time / forward time")
    ax.set_title(f"Gradient cost in forward passes vs {var}")
    return entries, None


def draw_rate(ax, rows, var, fixed, fits):
    """Counted multiplications per second, per method: the engineering each method gets, side by side."""
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        (line,) = ax.plot(s[var], s["ops"] / s[TIME], MARKERS.get(m, "o") + "-", color=COLORS.get(m))
        entries.append((line, f"{m}: op_count / fastest time"))
    ax.set_ylabel("multiplications per second")
    ax.set_title(f"Arithmetic rate vs {var}")
    note = "gradient methods' counts leave out their forward pass (see op_count)"
    return entries, note
