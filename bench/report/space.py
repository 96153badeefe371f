"""The report's section on space: working-memory exponents, memory at the largest point, and what
checkpointing trades: its time and memory over backprop's, beside the op-count ratio, per point.
"""

from bench.fit import fits_for
from bench.formatting import nbytes, table
from bench.formatting import ratio as fmt_ratio
from bench.report.growth import cell, sort_fits
from bench.results import ok_rows, panels
from bench.schema import TIME

MEMORY, MODEL, PAIRED = "work_mem_bytes", "mem_model_bytes", "time_vs_backprop"
CHECKPOINT = ("Checkpointed backprop against backprop, per point. Time: the ratio of their times "
              "(each the 10th percentile of its rounds), and the median over the rounds they "
              "shared of the ratio of their blocks (time_vs_backprop, same rounds), which a slow "
              "spell of a shared machine cannot put on one side only.")
THEORY = ("Working memory is what a call keeps alive besides the gradient it returns "
          "(tracemalloc's peak during the call minus that gradient's bytes; every method must "
          "return the same E + 1 numbers). Theory, from what each method stores "
          "(gradients.memory_count is the model): backprop every u and z, B V numbers, 1 in depth "
          "and width; checkpoint the z of about sqrt(L) segment boundaries and one segment's u and "
          "z, 1/2 in depth; the forward pass one layer, 0 in depth; naive the forward pass and one "
          "block of chains, capped at max_bytes (256 MiB), 1 in depth and 3 in width below its "
          "cap. Every method is linear in the batch, except naive at its cap.")


def _measured(rows):
    return rows[rows[MEMORY] > 0] if MEMORY in rows else rows.iloc[:0]


def regime(nbytes_stored, row):
    """Where backprop's stored arrays sit: in the level 2 cache, the last-level cache, or beyond."""
    l2, llc = row.get("l2_bytes"), row.get("llc_bytes")
    if llc != llc or llc is None:  # NaN: unknown
        return "?"
    if l2 == l2 and l2 is not None and nbytes_stored <= l2:
        return "in L2"
    return "in LLC" if nbytes_stored <= llc else "beyond LLC"


def _exponents(name, fits, sweep):
    ks = [f"{r.method} {r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}] (theory {r.theory_k:g})"
          for r in sort_fits(fits_for(fits, sweep, "memory")).itertuples()]
    return [f"- {name}, working memory vs {sweep.variable} ({sweep.label}): exponents "
            + ", ".join(ks) + "."] if ks else []


def _largest(rows, var):
    """A table row per method at its largest measured value of the variable."""
    out = []
    for method, s in rows.groupby("method", sort=False):
        r = s.sort_values(var).iloc[-1]
        model = r.get(MODEL, float("nan"))
        out.append([method, r[var], nbytes(r[MEMORY]), cell(model, nbytes),
                    cell(r[MEMORY] / model if model > 0 else float("nan"), lambda x: f"{x:.2f}"),
                    cell(r["peak_mem_bytes"], nbytes)])
    return table(["method", var, "working memory", "model", "measured / model", "whole peak"], out)


def _checkpoint(rows, var):
    """checkpoint over backprop per value: time (two ways), ops, working memory, where backprop's
    arrays sit."""
    piv = rows.pivot_table(index=var, columns="method", values=[TIME, "ops", MEMORY],
                           aggfunc="first")
    if not {"checkpoint", "backprop"} <= set(piv[TIME].columns):
        return []
    times = (piv[TIME]["checkpoint"] / piv[TIME]["backprop"]).dropna()
    ops = (piv["ops"]["checkpoint"] / piv["ops"]["backprop"]).dropna()
    checkpoint = rows[rows["method"] == "checkpoint"].set_index(var)
    paired = checkpoint[PAIRED].dropna() if PAIRED in checkpoint else checkpoint.iloc[:0, 0]
    nan = float("nan")
    out = []
    for n in piv.index:
        bp = piv[MEMORY].loc[n, "backprop"]
        first = rows[rows[var] == n].iloc[0]
        out.append([n, cell(bp, nbytes), regime(bp, first) if bp == bp else "?",
                    cell(times.get(n, nan), fmt_ratio),
                    cell(paired.get(n, nan), fmt_ratio), cell(ops.get(n, nan), fmt_ratio),
                    cell(piv[MEMORY].loc[n, "checkpoint"] / bp, fmt_ratio)])
    header = [var, "backprop's working memory", "where it sits", "checkpoint / backprop time",
              "same rounds", "checkpoint / backprop ops", "checkpoint / backprop memory"]
    common = paired[paired.index.isin(times.index)]  # the summary's ranges span the same points
    return ["", CHECKPOINT, ""] + table(header, out) + ["", _summary(times, common, ops)]


def _summary(times, paired, ops):
    """A sentence: ranges of checkpoint's time ratios (both ways) and of its op-count ratio."""
    span = lambda r: f"{fmt_ratio(r.min())} to {fmt_ratio(r.max())}"  # noqa: E731
    if not len(times):
        return ""
    both = f", and {span(paired)} round by round" if len(paired) else ""
    return (f"Across these {len(times)} points checkpoint took {span(times)} times backprop's "
            f"time{both}, for {span(ops)} times its multiplications.")


def space_section(frames, all_fits):
    """Exponents, memory at the largest point, checkpoint's trade-off, per file and variable."""
    lines = ["## Working memory", "", THEORY, ""]
    found = False
    for name, df in frames.items():
        fits = all_fits[name]
        for sweep, rows in panels(ok_rows(df)):
            rows = _measured(rows)
            if rows.empty:
                continue
            found = True
            var = sweep.variable
            lines += [f"### {name}: {var} ({sweep.label})", ""]
            lines += _exponents(name, fits, sweep) + [""]
            lines += _largest(rows, var) + _checkpoint(rows, var) + [""]
    if not found:
        lines.append("No working memory was measured in these files (files of schema version 1 "
                     "have none).")
    return lines
