"""Two runs side by side: how a user checks that a result reproduces, or what a change did.

For every time law both files fit (same method and sweep: variable, fixed settings, placement)
the two exponents, their difference and whether their 95% intervals overlap; for every point both
timed, the two times, their ratio and whether their intervals overlap. Fits are made here from the
results and their rounds (the fits files are not needed, nor written).
"""

from pathlib import Path

import numpy as np

from bench.fit import fit_results
from bench.formatting import seconds, table
from bench.output import write_text
from bench.results import ok_rows, read_results, read_rounds
from bench.schema import POINT_KEY, TIME

LAW_KEY = ["method", "variable", "sweep"]  # the sweep key names its settings and placement


def _overlap(lo_a, hi_a, lo_b, hi_b):
    if not all(np.isfinite([lo_a, hi_a, lo_b, hi_b])):
        return "-"
    return "yes" if lo_a <= hi_b and lo_b <= hi_a else "NO"


def laws(a, b):
    """Both runs' time laws, joined: a DataFrame with k, k_lo, k_hi of each, the difference."""
    fits = [fit_results(df, rounds=rounds)[lambda f: f["quantity"] == "time"]
            for df, rounds in (a, b)]
    both = fits[0].merge(fits[1], on=LAW_KEY, suffixes=("_a", "_b"))
    both["diff"] = both["k_b"] - both["k_a"]
    intervals = both[["k_lo_a", "k_hi_a", "k_lo_b", "k_hi_b"]].to_numpy()
    both["overlap"] = [_overlap(*v) for v in intervals]
    return both


def points(a, b):
    """The points both runs timed: each run's time and interval, B over A, the overlap."""
    cols = [*POINT_KEY, TIME, "time_lo_s", "time_hi_s"]
    both = ok_rows(a[0])[cols].merge(ok_rows(b[0])[cols], on=POINT_KEY, suffixes=("_a", "_b"))
    both["ratio"] = both[f"{TIME}_b"] / both[f"{TIME}_a"]
    both["overlap"] = [_overlap(*v) for v in
                       both[["time_lo_s_a", "time_hi_s_a", "time_lo_s_b",
                             "time_hi_s_b"]].to_numpy(float)]
    return both


def compare(path_a, path_b, out=None):
    """The comparison as Markdown lines (written to `out` when given): (lines, out or None)."""
    runs = []
    for path in (path_a, path_b):
        df = read_results(path)
        runs.append((df, read_rounds(path, df)))
    name_a, name_b = str(path_a), str(path_b)
    k = laws(*runs)
    rows = [[r.method, r.variable, f"{r.k_a:.3f} [{r.k_lo_a:.3f}, {r.k_hi_a:.3f}]",
             f"{r.k_b:.3f} [{r.k_lo_b:.3f}, {r.k_hi_b:.3f}]", f"{r.diff:+.3f}", r.overlap,
             r.fixed_a]
            for r in k.itertuples()]
    lines = [f"# gradbench compare: A = {name_a}, B = {name_b}", "",
             "## Time exponents", ""]
    lines += (table(["method", "variable", "k in A [95% CI]", "k in B [95% CI]", "B - A",
                     "CIs overlap", "fixed"], rows)
              if rows else ["No time law is fitted in both files."])
    p = points(*runs)
    rows = [[r.method, f"depth={r.depth} width={r.width} batch={r.batch}",
             seconds(getattr(r, f"{TIME}_a")), seconds(getattr(r, f"{TIME}_b")), f"{r.ratio:.3f}",
             r.overlap]
            for r in p.itertuples()]
    lines += ["", "## Times of the points both timed", ""]
    lines += table(["method", "point", "A", "B", "B / A", "CIs overlap"], rows) if rows else [
        "No point is timed in both files."]
    if len(p):
        lines += ["", f"B / A over {len(p)} points: median {p['ratio'].median():.3f}, "
                      f"from {p['ratio'].min():.3f} to {p['ratio'].max():.3f}; "
                      f"{(p['overlap'] == 'NO').sum()} point(s) whose intervals do not overlap."]
    if out is not None:
        out = write_text(Path(out), "\n".join(lines) + "\n")
    return lines, out
