"""The report's sections on growth: headline exponents, fits vs theory, speedups per swept value."""

import gradients
from bench import rules
from bench.fit import MIN_POINTS, fits_for
from bench.formatting import ratio as fmt_ratio
from bench.formatting import seconds as fmt_time
from bench.formatting import table
from bench.placement import fit_labels
from bench.results import ok_rows, panels, too_short
from bench.schema import TIME
from gradients.registry import baseline


def cell(x, fmt):
    """A formatted number, or '-' where a point is missing."""
    return fmt(x) if x == x else "-"


VARIABLES = ["depth", "width", "batch", "E"]  # in reading order


def method_order(method):
    """A method's place in tables: its record's order (the expensive first), unknown ones last."""
    return gradients.record(method, strict=False).order


def sort_fits(fits):
    """Rows in reading order: variable, then method (the expensive first)."""
    v = fits["variable"].map(lambda v: VARIABLES.index(v) if v in VARIABLES else 99)
    return (fits.assign(_v=v, _m=fits["method"].map(method_order))
            .sort_values(["_v", "_m"], kind="stable"))


def fits_section(all_fits, frames=None):
    """Every exponent with its 95% CI next to the theory: a time table, then an op-count table.

    The sweeps of frames no law could be fitted to are named first, with why.
    """
    fit_rules = sorted({rule for fits in all_fits.values() for rule in fits["fit_rule"]})
    lines = ["## Growth exponents against theory", "",
             "Fitted y = c n^k per method and swept variable (time: seconds of one call, the 10th "
             "percentile of the point's rounds; ops: exact multiplications); E is the number of "
             "edges (weights plus alpha), swept through the depth or the width. 95% confidence "
             "intervals: for time, by resampling the rounds the points shared (column `interval`: "
             "rounds); for op counts and memory, from the t distribution of the slope. Theory: "
             "naive costs E (E + V), so 2 in E and in depth and 4 in width (E grows as width^2 "
             "when the input dimension follows the width); backprop and the forward pass cost E + "
             "V: 1 in E and depth, 2 in width; every method is linear in the batch.", "",
             "Fit rules used:", ""]
    lines += [f"- `{rule}`: {rules.describe(rule)}" for rule in fit_rules]
    short = [f"- {name}, {sweep.variable} ({sweep.label}): {why}"
             for name, df in (frames or {}).items()
             for sweep, why in too_short(df, MIN_POINTS).items()]
    lines += ["", "Laws not fitted (too few points):", ""] + short if short else []
    lines += ["",
              "Small sizes are left out of the time fits on purpose: there a call's fixed Python "
              "and numpy overhead, not the algorithm, sets the time. Operation counts are exact: "
              "their interval only reflects how lower-order terms bend the curve over the points "
              "used.", ""]
    header = ["file", "variable", "method", "k", "95% CI", "theory", "in CI", "k - theory", "R^2",
              "n used (points)", "rule", "fixed"]
    for quantity, title in (("time", "Time"), ("ops", "Operation counts"),
                            ("memory", "Working memory")):
        rows = []
        for name, fits in all_fits.items():
            # the method, with its placement where a file has several
            fits = fits.assign(label=fit_labels(fits))
            for r in sort_fits(fits[fits["quantity"] == quantity]).itertuples():
                rows.append([name, r.variable, r.label, f"{r.k:.3f}",
                             f"[{r.k_lo:.3f}, {r.k_hi:.3f}]", f"{r.theory_k:g}",
                             "yes" if r.covers_theory else "no", f"{r.k - r.theory_k:+.3f}",
                             f"{r.r2:.4f}", f"{r.n_min:g}..{r.n_max:g} ({r.n_points})",
                             f"`{r.fit_rule}`",
                             r.fixed])
        lines += [f"### {title}", ""] + table(header, rows) + [""]
    return lines


def summary_section(frames, all_fits):
    """The headline numbers: each sweep's time exponents and its largest naive/backprop speedup."""
    lines = ["## Summary", ""]
    for name, fits in all_fits.items():
        for sweep, rows in panels(ok_rows(frames[name])):
            var = sweep.variable
            ks = [f"{r.method} {r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}] (theory {r.theory_k:g})"
                  for r in sort_fits(fits_for(fits, sweep, "time")).itertuples()]
            why = too_short(frames[name], MIN_POINTS).get(sweep)
            line = f"- {name}, time vs {var} ({sweep.label}): " + (
                "exponents " + ", ".join(ks) + "." if ks else f"no law fitted ({why or 'no fit'}).")
            t = rows.pivot_table(index=var, columns="method", values=[TIME, "ops"], aggfunc="first")
            if {"naive", "backprop"} <= set(t[TIME].columns):
                both = t[TIME][["naive", "backprop"]].dropna()
                if len(both):
                    n = both.index.max()
                    naive, backprop = both.loc[n, "naive"], both.loc[n, "backprop"]
                    ops = t["ops"].loc[n]
                    line += (f" At {var} {n}, backprop is {fmt_ratio(speedup(rows, var, n))}x "
                             f"faster than naive ({fmt_time(naive)} vs {fmt_time(backprop)}; "
                             f"op-count ratio {fmt_ratio(ops['naive'] / ops['backprop'])}).")
            lines.append(line)
    return lines


def speedup(rows, var, n):
    """naive / backprop at var = n: same-round ratio where rounds were shared, else times'."""
    naive = rows[(rows["method"] == "naive") & (rows[var] == n)]
    backprop = rows[(rows["method"] == "backprop") & (rows[var] == n)]
    if naive.empty or backprop.empty:
        return float("nan")
    paired = naive["time_vs_backprop"].iloc[0]
    return paired if paired == paired else naive[TIME].iloc[0] / backprop[TIME].iloc[0]


def speedup_section(frames):
    """Per swept value: times, and naive/backprop and gradient/forward ratios."""
    lines = ["## Speedup of backprop over naive", ""]
    for name, df in frames.items():
        for sweep, rows in panels(ok_rows(df)):
            var = sweep.variable
            piv = rows.pivot_table(index=var, columns="method", values=[TIME, "ops", "edges"],
                                   aggfunc="first")
            t, ops = piv[TIME], piv["ops"]
            methods = sorted((m for m in t.columns if gradients.record(m, strict=False).contender),
                             key=method_order)
            pair = {"naive", "backprop"} <= set(methods)
            base = baseline()
            per_base = [m for m in methods if m != base and base in methods]
            header = ([var, "E"] + [f"{m} time" for m in methods]
                      + ["naive / backprop time", "naive / backprop ops"] * pair
                      + [f"{m} / {base} time" for m in per_base])
            out = []
            for n in piv.index:
                row = ([n, f"{piv['edges'].loc[n].max():g}"]
                       + [cell(t.loc[n, m], fmt_time) for m in methods])
                if pair:
                    row += [cell(speedup(rows, var, n), fmt_ratio),
                            cell(ops.loc[n, "naive"] / ops.loc[n, "backprop"], fmt_ratio)]
                row += [cell(t.loc[n, m] / t.loc[n, base], fmt_ratio) for m in per_base]
                out.append(row)
            lines += [f"### {name}: {var} ({sweep.label})", ""] + table(header, out) + [""]
    return lines
