"""A Markdown report of one or more results CSVs: environment, sweeps, fits vs theory, speedups, figures.

It reads the results CSV, its fits CSV and its plots; a fits file or plot that is missing
or older than its input is made first (by bench.fit / bench.plot), and the report says so.
"""

import datetime
import os
from pathlib import Path

from bench.errors import UserError
from bench.fit import excluded, fits_path, load_fits, ok_rows
from bench.output import check_writable, write_atomic
from bench.plot import KINDS, panels, plot_file
from bench.schema import TIME, read_results
from bench.sweep_summary import seconds as fmt_time  # one formatter of durations: sweep summary and report

ENVIRONMENT = ("python", "numpy", "blas", "blas_threads", "cpu", "profile")
RULES = {
    "offset": "t = a + c n^k, all points, least squares on log t (the constant a absorbs per-call overhead)",
    "all": "OLS of log t on log n over all points",
}


def fmt_ratio(x):
    """A ratio: 3.2, 45.6, 8,390."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def values(series):
    """Distinct values, compact: '16' or '1, 2, 4, 8, 16, 32' ."""
    return ", ".join(str(v) for v in sorted(series.unique()))


def rule_text(rule):
    """The fit rule in words."""
    if rule in RULES:
        return RULES[rule]
    kind, _, arg = rule.partition(":")
    return {"top": f"OLS of log y on log n over the {arg} largest n",
            "ratio": f"OLS of log y on log n over the points at least {arg} times the smallest",
            "upper": f"OLS of log y on log n over n >= (largest n) / {arg}"}.get(kind, rule)


def table(header, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def ensure_plots(path, plots_dir):
    """The plot paths of a results CSV, drawing them first if missing or older than its fits: (paths, notes)."""
    name = Path(path).stem
    fits_mtime = fits_path(path).stat().st_mtime
    pngs = [Path(plots_dir) / f"{name}-{kind}.png" for kind in KINDS]
    if any(p.is_file() for p in pngs) and all(p.stat().st_mtime >= fits_mtime for p in pngs if p.is_file()):
        return [p for p in pngs if p.is_file()], []
    written, notes = plot_file(path, plots_dir)
    return [p for p in written if p.suffix == ".png"], [f"drew the plots of {path}"] + notes


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
    rules = sorted({rule for fits in all_fits.values() for rule in fits["fit_rule"]})
    lines = ["## Growth exponents against theory", "",
             "Fitted y = c n^k per method and swept variable (time: the fastest of pyperf's values, seconds of one call; "
             "ops: exact multiplications); E is the number of edges (weights plus alpha), swept through "
             "the depth or the width. 95% confidence intervals from the t distribution. Theory: naive "
             "costs E (E + V), so 2 in E and in depth and 4 in width (E grows as width^2 when the input "
             "dimension follows the width); backprop and the forward pass cost E + V: 1 in E and depth, "
             "2 in width; every method is linear in the batch.", "", "Fit rules used:", ""]
    lines += [f"- `{rule}`: {rule_text(rule)}" for rule in rules]
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


def default_out(paths):
    """results/<name>.md for one file, results/report.md beside the first of several."""
    first = Path(paths[0])
    return first.with_suffix(".md") if len(paths) == 1 else first.with_name("report.md")


def write_report(paths, out=None, plots_dir="plots", command=None):
    """Write the Markdown report of the results CSVs: (out path, notes)."""
    frames = {Path(p).stem: read_results(p) for p in paths}  # every file checked before any work
    if len(frames) < len(paths):
        raise UserError(f"two results files share a name ({', '.join(map(str, paths))}): "
                        "their fits and plots would overwrite each other")
    if command is None:
        command = "gradbench report " + " ".join(map(str, paths)) + (f" --out {out}" if out else "")
    out = Path(out) if out else default_out(paths)
    check_writable(out)  # a bad --out fails before any fitting or drawing
    notes, all_fits, plots = [], {}, {}
    for p in paths:
        name = Path(p).stem
        all_fits[name], note = load_fits(p)
        notes += [note] if note else []
        plots[name], plot_notes = ensure_plots(p, plots_dir)
        notes += plot_notes
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data = ", ".join(f"[{Path(p).name}]({Path(os.path.relpath(p, out.parent)).as_posix()})" for p in paths)
    lines = [f"# gradbench report: {', '.join(frames)}", "",
             f"Written {stamp} by `{command}` "
             f"from {data} and their fits files.", ""]
    for section in (summary_section(frames, all_fits), environment_section(frames), sweep_section(frames),
                    fits_section(all_fits),
                    speedup_section(frames), figures_section(plots, out.parent)):
        lines += section + [""]
    write_atomic(out, lambda tmp: tmp.write_text("\n".join(lines).rstrip() + "\n"))
    return out, notes

