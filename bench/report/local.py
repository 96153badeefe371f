"""The report's local exponents: each step's slope of log time from same-round ratios, and for a
time law whose interval misses theory, how far the sweep is from the asymptotic regime."""

import numpy as np

from bench.fit import fits_for
from bench.formatting import table
from bench.report.growth import sort_fits
from bench.results import ok_rows, panels

TREND_POINTS = 3  # the last local exponents whose trend in log n is extrapolated


def steps(rows, method, var, column="local_k"):
    """(middle n of each step, local exponents, lo, hi, op-count local exponents) of one method."""
    s = rows[rows["method"] == method].sort_values(var)
    n = s[var].to_numpy(float)  # (points,)
    ops = s["ops"].to_numpy(float)
    mid = np.sqrt(n[1:] * n[:-1])  # (points - 1,)
    k_ops = np.log(ops[1:] / ops[:-1]) / np.log(n[1:] / n[:-1])
    k, lo, hi = (s[c].to_numpy(float)[1:] for c in (column, "local_k_lo", "local_k_hi"))
    return mid, k, lo, hi, k_ops


def meeting(mid, k, target):
    """The n where the trend of the last local exponents (linear in log n) reaches `target`: a
    number, 'now' where the top one has, or None where the trend does not approach it."""
    keep = np.isfinite(k)
    mid, k = mid[keep][-TREND_POINTS:], k[keep][-TREND_POINTS:]
    if len(k) < 2:
        return None
    if abs(k[-1] - target) <= 0.05:
        return "now"
    slope, intercept = np.polyfit(np.log(mid), k, 1)
    if slope == 0 or (target - k[-1]) / slope <= 0:  # flat, or moving away
        return None
    return float(np.exp((target - intercept) / slope))


def explain(r, rows, var):
    """A sentence for a time fit whose interval misses theory: top local exponent, the op count's,
    and where the trend would meet it."""
    mid, k, lo, hi, k_ops = steps(rows, r.method, var)
    if not np.isfinite(k).any():
        return None
    i = np.flatnonzero(np.isfinite(k))[-1]
    target = k_ops[-1]
    at = "now" if lo[i] <= target <= hi[i] else meeting(mid, k, target)
    if at == "now":
        where = "the two agree already"
    elif k[i] > target:
        where = f"the local exponent has passed it (by {k[i] - target:.2f})"
    elif at is None:
        where = "the trend of the last local exponents does not approach it"
    else:
        where = f"their trend would reach it near {var} {at:,.0f}"
    return (f"{r.method} vs {var}: k = {r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}] misses theory "
            f"{r.theory_k:g}; its top local exponent is {k[i]:.2f} [{lo[i]:.2f}, {hi[i]:.2f}] "
            f"({var} {mid[i]:.3g}), the op count's there {k_ops[-1]:.2f}: {where}.")


def local_section(frames, all_fits):
    """Per sweep, every method's local exponents; then what each missed time law lacks."""
    lines = ["## Local exponents", "",
             "The slope of log time between neighbouring points, log(t2 / t1) / log(n2 / n1), from "
             "the ratio of the two points' times in each round they shared (median over rounds, "
             "95% interval by resampling rounds), beside the exponent of the exact op counts over "
             "the same step. Where the local exponent still climbs, the sweep has not reached the "
             "asymptotic regime: per-call overhead still counts.", ""]
    found = False
    for name, df in frames.items():
        ok = ok_rows(df)
        if "local_k" not in ok or ok["local_k"].isna().all():
            continue
        fits = all_fits.get(name)
        for sweep, rows in panels(ok):
            var = sweep.variable
            rows_out = []
            for method in sorted(rows["method"].unique()):
                mid, k, lo, hi, k_ops = steps(rows, method, var)
                rows_out += [[method, f"{m:.3g}", f"{a:.2f}", f"[{b:.2f}, {c:.2f}]", f"{o:.2f}"]
                             for m, a, b, c, o in zip(mid, k, lo, hi, k_ops) if np.isfinite(a)]
            if not rows_out:
                continue
            found = True
            lines += [f"### {name}: {var} ({sweep.label})", ""]
            lines += table(["method", f"{var} (middle of step)", "local k", "95% CI", "op-count k"],
                           rows_out)
            lines.append("")
            if fits is None:
                continue
            missed = fits_for(fits, sweep, "time")
            # astype: indexing by an empty object column would pick columns, not rows
            missed = missed[~missed["covers_theory"].astype(bool)]
            notes = [explain(r, rows, var) for r in sort_fits(missed).itertuples()]
            lines += [f"- {n}" for n in notes if n] + ([""] if any(notes) else [])
    return lines if found else []
