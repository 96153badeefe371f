"""Figures of a results CSV: time, naive/backprop speedup, op counts, time over forward.

Each figure has one panel per swept variable (depth, width, batch at fixed other
settings), log-log axes, and the fitted growth law from the fits CSV in the legend.
Only rows with status ok are drawn.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.fit import excluded, load_fits, sweeps  # noqa: E402
from bench.schema import read_results  # noqa: E402

KINDS = ("time", "speedup", "ops", "vs-forward")
COLORS = {"naive": "tab:red", "backprop": "tab:blue", "forward": "tab:gray", "numerical": "tab:green"}
MARKERS = {"naive": "s", "backprop": "o", "forward": "^", "numerical": "D"}
XLABELS = {"depth": "depth L (weight matrices)", "width": "width (units per hidden layer)",
           "batch": "batch B (examples)"}
plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight"})


def panels(df):
    """(variable, fixed label, rows) for every swept variable of the frame, E excluded."""
    return [(var, fixed, rows) for var, fixed, rows, _ in sweeps(df) if var != "E"]


def _fit_row(fits, method, var, fixed, quantity):
    """The fits row for this series, or None."""
    hit = fits[(fits["method"] == method) & (fits["variable"] == var)
               & (fits["fixed"] == fixed) & (fits["quantity"] == quantity)]
    return None if hit.empty else hit.iloc[0]


def _fit_line(ax, fit, color):
    """Draw a + c*n^k over the fitted range with k and its CI in the legend."""
    n = np.geomspace(fit["n_min"], fit["n_max"], 100)  # (100,)
    label = (f"{fit['method']} fit ({fit['n_min']:g}..{fit['n_max']:g}): k = {fit['k']:.2f} "
             f"[{fit['k_lo']:.2f}, {fit['k_hi']:.2f}], theory {fit['theory_k']:g}")
    ax.plot(n, fit["a"] + fit["c"] * n ** fit["k"], "-", color=color, lw=1.2, alpha=0.8, label=label)


def _series(rows, method, var):
    """The ok points of one method, sorted by the variable."""
    return rows[rows["method"] == method].sort_values(var)


def _methods(rows):
    """Methods in a stable order: the expensive first."""
    order = list(COLORS)
    return sorted(rows["method"].unique(), key=lambda m: (order.index(m) if m in order else 99, m))


def draw_time(ax, rows, var, fixed, fits):
    """Median time with min..max bars and the fitted law, one line per method."""
    for m in _methods(rows):
        s = _series(rows, m, var)
        t = s["time_median_s"].to_numpy()  # (points,)
        err = np.vstack([t - s["time_min_s"], s["time_max_s"] - t])  # (2, points)
        color = COLORS.get(m)
        ax.errorbar(s[var], t, yerr=err, fmt=MARKERS.get(m, "o"), ms=5, color=color, capsize=2,
                    ls="none", label=f"{m} (median, min..max)")
        fit = _fit_row(fits, m, var, fixed, "time")
        if fit is not None:
            _fit_line(ax, fit, color)
    ax.set_ylabel("time per call (s)")
    ax.set_title(f"Time vs {var}")


def draw_ops(ax, rows, var, fixed, fits):
    """Exact multiplication counts and their fitted law."""
    for m in _methods(rows):
        s = _series(rows, m, var)
        ax.plot(s[var], s["ops"], MARKERS.get(m, "o"), ms=5, color=COLORS.get(m), label=m)
        fit = _fit_row(fits, m, var, fixed, "ops")
        if fit is not None:
            _fit_line(ax, fit, COLORS.get(m))
    ax.set_ylabel("multiplications per call")
    ax.set_title(f"Operation count vs {var}")


def _ratio(rows, var, num, den, col):
    """(x, num/den) of a column at the values of var both methods have."""
    a = _series(rows, num, var).set_index(var)[col]
    b = _series(rows, den, var).set_index(var)[col]
    both = a.index.intersection(b.index)
    return both.to_numpy(), (a[both] / b[both]).to_numpy()


def draw_speedup(ax, rows, var, fixed, fits):
    """naive time / backprop time, and the same ratio of op counts."""
    x, r = _ratio(rows, var, "naive", "backprop", "time_median_s")
    ax.plot(x, r, "o-", color="black", label="measured time ratio (medians)")
    x, r = _ratio(rows, var, "naive", "backprop", "ops")
    ax.plot(x, r, "--", color="tab:purple", label="operation-count ratio")
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("naive / backprop (times faster)")
    ax.set_title(f"Speedup of backprop over naive vs {var}")


def draw_vs_forward(ax, rows, var, fixed, fits):
    """Gradient time as a multiple of one forward pass (the loss) on the same point."""
    for m in _methods(rows):
        if m == "forward":
            continue
        x, r = _ratio(rows, var, m, "forward", "time_median_s")
        ax.plot(x, r, MARKERS.get(m, "o") + "-", color=COLORS.get(m), label=m)
    ax.axhline(1, color="gray", lw=0.8)
    ax.set_ylabel("gradient time / forward time")
    ax.set_title(f"Gradient cost in forward passes vs {var}")


def _legend(ax):
    """Legend grouped by method: its points, then its fit."""
    handles, labels = ax.get_legend_handles_labels()
    order = list(COLORS)
    rank = [(order.index(lab.split()[0]) if lab.split()[0] in order else 99, " fit " in lab) for lab in labels]
    pairs = sorted(zip(rank, handles, labels), key=lambda p: p[0])
    ax.legend([h for _, h, _ in pairs], [lab for _, _, lab in pairs], fontsize=7.5, loc="best")


DRAW = {"time": draw_time, "speedup": draw_speedup, "ops": draw_ops, "vs-forward": draw_vs_forward}
NEEDS = {"speedup": {"naive", "backprop"}, "vs-forward": {"forward"}}


def plot_file(path, out_dir="plots"):
    """Write <name>-<kind>.png and .svg for every kind the file supports: (paths, notes)."""
    df = read_results(path)
    fits, note = load_fits(path)
    notes = [n for n in (note, excluded(df)) if n]
    ok = df[df["status"] == "ok"]
    found = panels(ok)
    if not found:
        notes.append(f"{path}: no swept variable with ok points; nothing to plot")
        return [], notes
    name = Path(path).stem
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        missing = NEEDS.get(kind, set()) - set(ok["method"])
        if missing:
            notes.append(f"no {kind} plot: method(s) {', '.join(sorted(missing))} not in {path}")
            continue
        fig, axes = plt.subplots(1, len(found), figsize=(6.4 * len(found), 4.6), squeeze=False)
        for ax, (var, fixed, rows) in zip(axes[0], found):
            DRAW[kind](ax, rows, var, fixed, fits)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(f"{XLABELS[var]}; {fixed}", fontsize=8.5)
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            _legend(ax)
        fig.suptitle(f"{name}: {ok['profile'].iloc[0]} profile, {ok['cpu'].iloc[0]}", fontsize=9, y=1.0)
        for ext in ("png", "svg"):
            out = out_dir / f"{name}-{kind}.{ext}"
            tmp = out.with_name(out.name + ".tmp")
            fig.savefig(tmp, format=ext, dpi=150)
            tmp.replace(out)  # never a half-written figure
            written.append(out)
        plt.close(fig)
    return written, notes
