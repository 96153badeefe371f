"""Figures of a results CSV: time, naive/backprop speedup, op counts, time over forward, arithmetic rate.

Each figure has one panel per swept variable (depth, width, batch at fixed other
settings), log-log axes, and the fitted growth law from the fits table in the legend.
This module only draws what it is given (bench.pipeline reads the files and makes missing
fits first); only rows with status ok are drawn.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.output import check_writable, write_atomic  # noqa: E402
from bench.results import excluded, ok_rows, panels  # noqa: E402
from bench.schema import TIME  # noqa: E402

KINDS = ("time", "speedup", "ops", "vs-forward", "rate")
COLORS = {"naive": "tab:red", "backprop": "tab:blue", "forward": "tab:gray", "numerical": "tab:green"}
MARKERS = {"naive": "s", "backprop": "o", "forward": "^", "numerical": "D"}
XLABELS = {"depth": "depth L (weight matrices)", "width": "width (units per hidden layer)",
           "batch": "batch B (examples)"}
# svg.fonttype none: text stays text in the SVG (editable in a paper, and a tenth of the size)
plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight",
                     "svg.fonttype": "none"})


def _fit_row(fits, method, var, fixed, quantity):
    """The fits row for this series, or None."""
    hit = fits[(fits["method"] == method) & (fits["variable"] == var)
               & (fits["fixed"] == fixed) & (fits["quantity"] == quantity)]
    return None if hit.empty else hit.iloc[0]


def _fit_line(ax, fit, color, x):
    """Draw a + c*n^k, solid over the fitted range, dotted left of it: (handle, label)."""
    law = lambda n: fit["a"] + fit["c"] * n ** fit["k"]  # noqa: E731
    n = np.geomspace(min(x.min(), fit["n_min"]), fit["n_min"], 50)  # (50,) left of the fit range
    ax.plot(n, law(n), ":", color=color, lw=0.9, alpha=0.6)
    n = np.geomspace(fit["n_min"], fit["n_max"], 100)  # (100,)
    (line,) = ax.plot(n, law(n), "-", color=color, lw=1.2, alpha=0.8)
    return line, f"k = {fit['k']:.2f} [{fit['k_lo']:.2f}, {fit['k_hi']:.2f}], theory {fit['theory_k']:g}"


def _fit_note(fits, var, fixed, quantity):
    """Legend title: what the markers are and which points the solid lines were fitted on."""
    f = fits[(fits["variable"] == var) & (fits["fixed"] == fixed) & (fits["quantity"] == quantity)]
    spans = {(r.n_min, r.n_max) for r in f.itertuples()}
    where = f"{var} {min(spans)[0]:g}..{min(spans)[1]:g}" if len(spans) == 1 else "the points each spans"
    return f"solid: c n^k fitted on {where} (k, 95% CI); dotted: the same law at smaller {var}"


def _data_ylim(ax, values):
    """Keep the y range on the data: fitted lines extended left must not stretch it."""
    lo, hi = np.nanmin(values.to_numpy(float)), np.nanmax(values.to_numpy(float))
    ax.set_ylim(lo / 1.6, hi * 1.6)


def _series(rows, method, var):
    """The ok points of one method, sorted by the variable."""
    return rows[rows["method"] == method].sort_values(var)


def _methods(rows):
    """Methods in a stable order: the expensive first."""
    order = list(COLORS)
    return sorted(rows["method"].unique(), key=lambda m: (order.index(m) if m in order else 99, m))


def draw_time(ax, rows, var, fixed, fits):
    """The fastest time (fit's TIME) with a bar up to the slowest, and the fitted law: (legend entries, title)."""
    entries = []
    for m in _methods(rows):
        s = _series(rows, m, var)
        t = s[TIME].to_numpy()  # (points,)
        err = np.vstack([t - s["time_min_s"], s["time_max_s"] - t])  # (2, points)
        color = COLORS.get(m)
        bars = ax.errorbar(s[var], t, yerr=err, fmt=MARKERS.get(m, "o"), ms=5, color=color, capsize=2, ls="none")
        entries.append((bars, f"{m}: fastest value, bar to slowest"))
        fit = _fit_row(fits, m, var, fixed, "time")
        if fit is not None:
            entries.append(_fit_line(ax, fit, color, s[var]))
    _data_ylim(ax, rows[["time_min_s", "time_max_s"]])
    ax.set_ylabel("time per call (s)")
    ax.set_title(f"Time of one call vs {var}")
    return entries, _fit_note(fits, var, fixed, "time")


def draw_ops(ax, rows, var, fixed, fits):
    """Exact multiplication counts and their fitted law: (legend entries, title)."""
    entries = []
    for m in _methods(rows):
        s = _series(rows, m, var)
        (points,) = ax.plot(s[var], s["ops"], MARKERS.get(m, "o"), ms=5, color=COLORS.get(m))
        entries.append((points, f"{m}: exact count"))
        fit = _fit_row(fits, m, var, fixed, "ops")
        if fit is not None:
            entries.append(_fit_line(ax, fit, COLORS.get(m), s[var]))
    _data_ylim(ax, rows[["ops"]])
    ax.set_ylabel("multiplications per call")
    ax.set_title(f"Operation count vs {var}")
    return entries, _fit_note(fits, var, fixed, "ops")


def _ratio(rows, var, num, den, col):
    """(x, num/den) of a column at the values of var both methods have."""
    a = _series(rows, num, var).set_index(var)[col]
    b = _series(rows, den, var).set_index(var)[col]
    both = a.index.intersection(b.index)
    return both.to_numpy(), (a[both] / b[both]).to_numpy()


def draw_speedup(ax, rows, var, fixed, fits):
    """naive time / backprop time, and the same ratio of op counts: (legend entries, title)."""
    x, r = _ratio(rows, var, "naive", "backprop", TIME)
    (time,) = ax.plot(x, r, "o-", color="black")
    x, r = _ratio(rows, var, "naive", "backprop", "ops")
    (ops,) = ax.plot(x, r, "--", color="tab:purple")
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("naive / backprop (times faster)")
    ax.set_title(f"Speedup of backprop over naive vs {var}")
    return [(time, "measured: ratio of fastest times"), (ops, "ratio of operation counts")], None


def draw_vs_forward(ax, rows, var, fixed, fits):
    """Gradient time as a multiple of one forward pass (the loss) on the same point: (legend entries, title)."""
    entries = []
    for m in _methods(rows):
        if m != "forward":
            x, r = _ratio(rows, var, m, "forward", TIME)
            (line,) = ax.plot(x, r, MARKERS.get(m, "o") + "-", color=COLORS.get(m))
            entries.append((line, f"{m} gradient / forward pass (fastest times)"))
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("gradient time / forward time")
    ax.set_title(f"Gradient cost in forward passes vs {var}")
    return entries, None


def draw_rate(ax, rows, var, fixed, fits):
    """Counted multiplications per second, per method: the engineering each method gets, side by side."""
    entries = []
    for m in _methods(rows):
        s = _series(rows, m, var)
        (line,) = ax.plot(s[var], s["ops"] / s[TIME], MARKERS.get(m, "o") + "-", color=COLORS.get(m))
        entries.append((line, f"{m}: op_count / fastest time"))
    ax.set_ylabel("multiplications per second")
    ax.set_title(f"Arithmetic rate vs {var}")
    note = "gradient methods' counts leave out their forward pass (see op_count)"
    return entries, note


def _legend(ax, entries, title):
    """Legend below the axes, a column per method (on log-log growth curves every corner holds data)."""
    ncol = sum(1 for _, label in entries if ": " in label and not label.startswith("k = ")) or 1
    ax.legend([h for h, _ in entries], [lab for _, lab in entries], title=title, title_fontsize=7.5,
              fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(ncol, 3),
              frameon=False, columnspacing=1.2)


DRAW = {"time": draw_time, "speedup": draw_speedup, "ops": draw_ops, "vs-forward": draw_vs_forward,
        "rate": draw_rate}
NEEDS = {"speedup": {"naive", "backprop"}, "vs-forward": {"forward"}}


def figure(kind, found, fits, title):
    """One figure of a kind: a log-log panel per (variable, fixed, rows) of found."""
    fig, axes = plt.subplots(1, len(found), figsize=(7.2 * len(found), 4.6), squeeze=False)
    for ax, (var, fixed, rows) in zip(axes[0], found):
        entries, legend_title = DRAW[kind](ax, rows, var, fixed, fits)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(f"{XLABELS[var]}; {fixed}", fontsize=8.5)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        _legend(ax, entries, legend_title)
    fig.suptitle(title, fontsize=9, y=1.0)
    return fig


def check_out_dir(name, out_dir):
    """Refuse a folder the figures cannot be written to, before any work (UserError)."""
    check_writable(Path(out_dir) / f"{name}-{KINDS[0]}.png")


def draw(df, fits, name, out_dir="plots", source=None):
    """Write <name>-<kind>.png and .svg of a results frame and its fits, for every kind it supports: (paths, notes).

    source names the data in notes (the results file); the name by default.
    """
    source = source or name
    ok = ok_rows(df)
    found = panels(ok)
    notes = [excluded(df)] if excluded(df) else []
    if not found:
        return [], notes + [f"{source}: no swept variable with ok points; nothing to plot"]
    out_dir = Path(out_dir)
    check_out_dir(name, out_dir)
    written = []
    for kind in KINDS:
        missing = NEEDS.get(kind, set()) - set(ok["method"])
        if missing:
            notes.append(f"no {kind} plot: no ok points of {', '.join(sorted(missing))} in {source}")
            continue
        fig = figure(kind, found, fits, f"{name}: {ok['profile'].iloc[0]} profile, {ok['cpu'].iloc[0]}")
        try:
            for ext in ("png", "svg"):
                written.append(write_atomic(out_dir / f"{name}-{kind}.{ext}",
                                            lambda tmp, fig=fig, ext=ext: fig.savefig(tmp, format=ext, dpi=150)))
        finally:
            plt.close(fig)
    return written, notes
