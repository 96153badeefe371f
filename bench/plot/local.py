"""The local-exponent figure: the slope of log time between neighbouring points, from same-round
ratios, against n: where each method's asymptotic regime starts."""

import numpy as np

from bench.fit import theory_k
from bench.plot.style import fit_row, method_color, method_marker, methods, series

LOCAL = "local_k"  # the column the figure needs measured (files of schema 4)


def draw_local(ax, rows, sweep, fits):
    """Local exponent of each method at the geometric middle of each step, its 95% interval a band,
    its theory a dashed line of its colour: (legend entries, title)."""
    var = sweep.variable
    ax.set_yscale("linear")
    entries = []
    for m in methods(rows):
        s = series(rows, m, var)
        n = s[var].to_numpy(float)  # (points,)
        mid = np.sqrt(n[1:] * n[:-1])  # (points - 1,): the middle of each step on a log axis
        k, lo, hi = (s[c].to_numpy(float)[1:] for c in (LOCAL, "local_k_lo", "local_k_hi"))
        if not np.isfinite(k).any():
            continue
        color = method_color(m)
        ax.fill_between(mid, lo, hi, color=color, alpha=0.18, lw=0)
        (line,) = ax.plot(mid, k, method_marker(m) + "-", ms=4.5, color=color)
        fit = fit_row(fits, sweep, "time", m)  # its theory knows how E grows in this sweep
        theory = fit["theory_k"] if fit is not None else theory_k(m, var)
        label = f"{m}"
        if np.isfinite(theory):
            ax.axhline(theory, color=color, ls="--", lw=0.9, alpha=0.7)
            label += f" (theory {theory:g}, dashed)"
        entries.append((line, label))
    ax.set_ylabel(f"local exponent d log t / d log {var}")
    ax.set_title(f"Local exponent of time vs {var}")
    return entries, "Band: 95% interval from the rounds (same-round ratios); dashed: theory."
