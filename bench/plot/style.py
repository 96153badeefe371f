"""What every figure shares: matplotlib's settings, a colour and marker per method, fitted laws in the legend."""

import numpy as np

from bench.agg import plt

COLORS = {"naive": "tab:red", "backprop": "tab:blue", "checkpoint": "tab:purple", "autograd": "tab:orange",
          "forward": "tab:gray", "numerical": "tab:green"}
MARKERS = {"naive": "s", "backprop": "o", "checkpoint": "v", "autograd": "P", "forward": "^", "numerical": "D"}
XLABELS = {"depth": "depth L (weight matrices)", "width": "width (units per hidden layer)",
           "batch": "batch B (examples)"}
# svg.fonttype none: text stays text in the SVG (editable in a paper, and a tenth of the size)
plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight",
                     "svg.fonttype": "none"})


def fit_row(fits, method, var, fixed, quantity):
    """The fits row for this series, or None."""
    hit = fits[(fits["method"] == method) & (fits["variable"] == var)
               & (fits["fixed"] == fixed) & (fits["quantity"] == quantity)]
    return None if hit.empty else hit.iloc[0]


def fit_line(ax, fit, color, x):
    """Draw a + c*n^k, solid over the fitted range, dotted left of it: (handle, label)."""
    law = lambda n: fit["a"] + fit["c"] * n ** fit["k"]  # noqa: E731
    n = np.geomspace(min(x.min(), fit["n_min"]), fit["n_min"], 50)  # (50,) left of the fit range
    ax.plot(n, law(n), ":", color=color, lw=0.9, alpha=0.6)
    n = np.geomspace(fit["n_min"], fit["n_max"], 100)  # (100,)
    (line,) = ax.plot(n, law(n), "-", color=color, lw=1.2, alpha=0.8)
    return line, f"k = {fit['k']:.2f} [{fit['k_lo']:.2f}, {fit['k_hi']:.2f}], theory {fit['theory_k']:g}"


def fit_note(fits, var, fixed, quantity):
    """Legend title: what the markers are and which points the solid lines were fitted on."""
    f = fits[(fits["variable"] == var) & (fits["fixed"] == fixed) & (fits["quantity"] == quantity)]
    spans = {(r.n_min, r.n_max) for r in f.itertuples()}
    if not spans:
        return None
    where = f"{var} {min(spans)[0]:g}..{min(spans)[1]:g}" if len(spans) == 1 else "the points each spans"
    return f"solid: c n^k fitted on {where} (k, 95% CI); dotted: the same law at smaller {var}"


def data_ylim(ax, values):
    """Keep the y range on the data: fitted lines extended left must not stretch it."""
    lo, hi = np.nanmin(values.to_numpy(float)), np.nanmax(values.to_numpy(float))
    ax.set_ylim(lo / 1.6, hi * 1.6)


def series(rows, method, var):
    """The ok points of one method, sorted by the variable."""
    return rows[rows["method"] == method].sort_values(var)


def methods(rows):
    """Methods in a stable order: the expensive first."""
    order = list(COLORS)
    return sorted(rows["method"].unique(), key=lambda m: (order.index(m) if m in order else 99, m))


def ratio(rows, var, num, den, col):
    """(x, num/den) of a column at the values of var both methods have."""
    a = series(rows, num, var).set_index(var)[col]
    b = series(rows, den, var).set_index(var)[col]
    both = a.index.intersection(b.index)
    return both.to_numpy(), (a[both] / b[both]).to_numpy()
