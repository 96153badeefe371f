"""A Markdown report of one or more results frames: environment, sweeps, fits vs theory, speedups, figures.

It tabulates what it is given (results, fits, figure paths) and writes only the report;
bench.pipeline reads the files and makes missing fits and figures first.
"""

import datetime
import os
from pathlib import Path

from bench import rules
from bench.formatting import ratio as fmt_ratio
from bench.formatting import seconds as fmt_time
from bench.formatting import table, values
from bench.output import write_text
from bench.results import excluded, ok_rows, panels
from bench.schema import TIME

ENVIRONMENT = ("python", "numpy", "blas", "blas_threads", "cpu", "profile")


def environment_section(frames):
    """Environment columns, one column of the table per file."""
    rows = [[key] + [values(df[key].astype(str)) for df in frames.values()] for key in ENVIRONMENT]
    rows.append(["measured (UTC)"] + [f"{df['timestamp'].min()} .. {df['timestamp'].max()}"
                                      for df in frames.values()])
    return ["## Environment", ""] + table(["", *frames], rows)


def sweep_section(frames):
    """What each file swept, how many points are ok, and the gradient agreement."""
    rows, notes = [], []
    for name, df in frames.items():
        ok = ok_rows(df)
        grads = ok[~ok["method"].isin(["forward", "backprop"])]  # backprop is the reference itself
        if grads.empty:
            agree = "n/a (no gradient method but backprop)"
        else:
            agree = "all agree" if grads["agree"].astype(str).str.lower().eq("true").all() else "DISAGREEMENT"
            agree += f" (max rel err {grads['max_rel_err'].max():.1e})"
        rows.append([name, values(df["method"]), values(df["depth"]), values(df["width"]),
                     values(df["input_dim"]), values(df["batch"]), values(df["activation"]),
                     values(df["seed"]), f"{len(ok)} of {len(df)}", agree])
        if excluded(df):
            notes.append(f"- {name}: {excluded(df)}; they are left out of the fits, tables and figures:")
            for r in ok_rows(df, ok=False).itertuples():
                notes.append(f"  - {r.method} depth={r.depth} width={r.width} batch={r.batch}: "
                             f"{r.status} ({r.reason})")
    header = ["file", "methods", "depth", "width", "input_dim", "batch", "activation", "seed",
              "points ok", "gradients vs backprop"]
    return ["## Sweeps", ""] + table(header, rows) + [""] + notes


ORDER = {"variable": ["depth", "width", "batch", "E"], "method": ["naive", "backprop", "forward", "numerical"]}


def _sorted(fits):
    """Rows in reading order: variable, then method (the expensive first)."""
    key = {c: fits[c].map(lambda v, c=c: ORDER[c].index(v) if v in ORDER[c] else 99) for c in ORDER}
    return fits.assign(_v=key["variable"], _m=key["method"]).sort_values(["_v", "_m"], kind="stable")


def fits_section(all_fits):
    """Every exponent with its 95% CI next to the theory: a time table, then an op-count table."""
    fit_rules = sorted({rule for fits in all_fits.values() for rule in fits["fit_rule"]})
    lines = ["## Growth exponents against theory", "",
             "Fitted y = c n^k per method and swept variable (time: the fastest of pyperf's values, seconds of "
             "one call; "
             "ops: exact multiplications); E is the number of edges (weights plus alpha), swept through "
             "the depth or the width. 95% confidence intervals from the t distribution. Theory: naive "
             "costs E (E + V), so 2 in E and in depth and 4 in width (E grows as width^2 when the input "
             "dimension follows the width); backprop and the forward pass cost E + V: 1 in E and depth, "
             "2 in width; every method is linear in the batch.", "", "Fit rules used:", ""]
    lines += [f"- `{rule}`: {rules.describe(rule)}" for rule in fit_rules]
    lines += ["", "Small sizes are left out of the time fits on purpose: there a call's fixed Python and "
              "numpy overhead, not the algorithm, sets the time. Operation counts are exact: their "
              "interval only reflects how lower-order terms bend the curve over the points used.", ""]
    header = ["file", "variable", "method", "k", "95% CI", "theory", "in CI", "k - theory", "R^2",
              "n used (points)", "rule", "fixed"]
    for quantity, title in (("time", "Time"), ("ops", "Operation counts")):
        rows = []
        for name, fits in all_fits.items():
            for r in _sorted(fits[fits["quantity"] == quantity]).itertuples():
                rows.append([name, r.variable, r.method, f"{r.k:.3f}", f"[{r.k_lo:.3f}, {r.k_hi:.3f}]",
                             f"{r.theory_k:g}", "yes" if r.covers_theory else "no", f"{r.k - r.theory_k:+.3f}",
                             f"{r.r2:.4f}", f"{r.n_min:g}..{r.n_max:g} ({r.n_points})", f"`{r.fit_rule}`",
                             r.fixed])
        lines += [f"### {title}", ""] + table(header, rows) + [""]
    return lines


def summary_section(frames, all_fits):
    """The headline numbers: each sweep's time exponents and its largest naive/backprop speedup."""
    lines = ["## Summary", ""]
    for name, fits in all_fits.items():
        for var, fixed, rows in panels(ok_rows(frames[name])):
            f = fits[(fits["variable"] == var) & (fits["fixed"] == fixed) & (fits["quantity"] == "time")]
            ks = [f"{r.method} {r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}] (theory {r.theory_k:g})"
                  for r in _sorted(f).itertuples()]
            line = f"- {name}, time vs {var} ({fixed}): exponents " + ", ".join(ks) + "."
            t = rows.pivot_table(index=var, columns="method", values=[TIME, "ops"], aggfunc="first")
            if {"naive", "backprop"} <= set(t[TIME].columns):
                both = t[TIME][["naive", "backprop"]].dropna()
                if len(both):
                    n = both.index.max()
                    naive, backprop = both.loc[n, "naive"], both.loc[n, "backprop"]
                    ops = t["ops"].loc[n]
                    line += (f" At {var} {n}, backprop is {fmt_ratio(naive / backprop)}x faster than naive "
                             f"({fmt_time(naive)} vs {fmt_time(backprop)}; op-count ratio "
                             f"{fmt_ratio(ops['naive'] / ops['backprop'])}).")
            lines.append(line)
    return lines


def _cell(x, fmt):
    """A formatted number, or '-' where a point is missing."""
    return fmt(x) if x == x else "-"


def speedup_section(frames):
    """Per swept value: times, and naive/backprop and gradient/forward ratios."""
    lines = ["## Speedup of backprop over naive", ""]
    for name, df in frames.items():
        for var, fixed, rows in panels(ok_rows(df)):
            piv = rows.pivot_table(index=var, columns="method", values=[TIME, "ops", "edges"],
                                   aggfunc="first")
            t, ops = piv[TIME], piv["ops"]
            methods = [m for m in ("naive", "backprop", "forward") if m in t.columns]
            pair = {"naive", "backprop"} <= set(methods)
            per_forward = [m for m in ("naive", "backprop") if m in methods and "forward" in methods]
            header = ([var, "E"] + [f"{m} time" for m in methods]
                      + ["naive / backprop time", "naive / backprop ops"] * pair
                      + [f"{m} / forward time" for m in per_forward])
            out = []
            for n in piv.index:
                row = [n, f"{piv['edges'].loc[n].max():g}"] + [_cell(t.loc[n, m], fmt_time) for m in methods]
                if pair:
                    row += [_cell(t.loc[n, "naive"] / t.loc[n, "backprop"], fmt_ratio),
                            _cell(ops.loc[n, "naive"] / ops.loc[n, "backprop"], fmt_ratio)]
                row += [_cell(t.loc[n, m] / t.loc[n, "forward"], fmt_ratio) for m in per_forward]
                out.append(row)
            lines += [f"### {name}: {var} ({fixed})", ""] + table(header, out) + [""]
    return lines


def figures_section(plots, out_dir):
    """Relative image links, one subsection per file."""
    lines = ["## Figures", ""]
    for name, pngs in plots.items():
        lines += [f"### {name}", ""]
        for png in pngs:
            rel = Path(os.path.relpath(png, out_dir)).as_posix()
            lines += [f"![{png.stem}]({rel})", ""]
    return lines


def write_report(frames, all_fits, plots, out, command, sources):
    """Write the Markdown report of results frames {name: df}, their fits {name: df} and PNGs {name: [paths]}.

    command is the command line that wrote it; sources the results files, linked from the report.
    """
    out = Path(out)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = ", ".join(f"[{Path(p).name}]({Path(os.path.relpath(p, out.parent)).as_posix()})" for p in sources)
    lines = [f"# gradbench report: {', '.join(frames)}", "",
             f"Written {stamp} by `{command}` from {data} and their fits files.", ""]
    for section in (summary_section(frames, all_fits), environment_section(frames), sweep_section(frames),
                    fits_section(all_fits), speedup_section(frames), figures_section(plots, out.parent)):
        lines += section + [""]
    return write_text(out, "\n".join(lines).rstrip() + "\n")
