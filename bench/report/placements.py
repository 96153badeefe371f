"""The report's section on placements: the same methods on several backends, devices and dtypes,
side by side.

Only a file of several placements has it. Per swept variable, each (method, placement) at the
largest value every curve has, against NumPy's backprop at that value; a file of shapes that
sweep no variable (`make bench-torch`'s five) gets a row per shape instead.
"""

from bench import placement
from bench.fit import fits_for
from bench.formatting import ratio as fmt_ratio
from bench.formatting import seconds as fmt_time
from bench.formatting import table, values
from bench.report.growth import cell, method_order
from bench.results import ok_rows, panels
from bench.schema import TIME

INTRO = ("The same methods on each placement (backend, device, dtype) of a file, at the largest "
         "value of the swept variable that every (method, placement) has an ok point at. Ratio: "
         "the time over NumPy's backprop at that point (float64 where the file has it); below 1 is "
         "faster than NumPy's backprop. k: the placement's own fitted time exponent, 95% CI.")
# a row per network and batch
SHAPE = ["depth", "width", "input_dim", "batch", "activation", "seed"]
POINTS = ("No variable is swept across these placements: each shape's time per (method, "
          "placement), and in brackets over NumPy's backprop at that shape (below 1 is faster).")
HEADER = ["method", "backend", "device", "dtype", "time", "/ numpy backprop", "k", "95% CI",
          "device_name", "framework"]


def reference(rows):
    """The placement of NumPy's backprop in a sweep (the float64 one first), or None."""
    found = [p for p in placement.placements(rows[rows["method"] == "backprop"])
             if p.backend == "numpy"]
    return min(found, key=lambda p: (p.dtype != "float64", p)) if found else None


def curves(rows):
    """{(method, placement): its rows} of a sweep, in placements() order, then methods."""
    out = {}
    for where in placement.placements(rows):
        here = placement.rows_of(rows, where)
        for method in sorted(here["method"].unique(), key=method_order):
            out[method, where] = here[here["method"] == method]
    return out


def sweep_table(rows, sweep, fits):
    """One sweep's table: its heading, a row per (method, placement), or why there are none."""
    var = sweep.variable
    found = curves(rows)
    common = set.intersection(*(set(s[var]) for s in found.values()))
    if not common:
        return [f"No value of {var} has an ok point of every (method, placement) ({sweep.label})."]
    n = max(common)
    ref = reference(rows)
    ref_time = found[("backprop", ref)].set_index(var)[TIME].loc[n] if ref else float("nan")
    out = []
    for (method, where), s in found.items():
        t = s.set_index(var)[TIME].loc[n]
        fit = fits_for(fits, sweep.at(where), "time", method)
        fit = None if fit.empty else fit.iloc[0]
        k, ci = (("-", "-") if fit is None
                 else (f"{fit['k']:.3f}", f"[{fit['k_lo']:.3f}, {fit['k_hi']:.3f}]"))
        framework = s["framework"].astype(str).str.strip()
        out.append([method, *where, fmt_time(t), cell(t / ref_time, fmt_ratio), k, ci,
                    placement.device_name(s), values(framework[framework != ""]) or "-"])
    note = (f"Ratio against backprop ({ref.label})." if ref
            else "No backprop on NumPy in this sweep: no ratio.")
    return [f"At {var} {n} ({sweep.label}). {note}", ""] + table(HEADER, out)


def _time_at(rows, shape):
    """The time of the row of this shape, NaN where there is none."""
    hit = rows
    for column, value in zip(SHAPE, shape):
        hit = hit[hit[column] == value]
    return hit[TIME].iloc[0] if len(hit) else float("nan")


def points_table(rows):
    """A row per shape, a column per (method, placement): time, and ratio to NumPy's backprop."""
    found, ref = curves(rows), reference(rows)
    # smallest first
    by_size = rows.assign(size=rows["edges"] * rows["batch"]).sort_values(["size", *SHAPE])
    out = []
    for shape in dict.fromkeys(by_size[SHAPE].itertuples(index=False, name=None)):
        times = {key: _time_at(s, shape) for key, s in found.items()}
        r = times[("backprop", ref)] if ref else float("nan")
        out.append([*shape, *(_time_ratio(t, r) for t in times.values())])
    return table(SHAPE + [placement.method_label(m, where) for m, where in found], out)


def _time_ratio(t, r):
    """'1.2 ms (0.85)': a time and its ratio to r; the time alone without r, '-' without a time."""
    return cell(t, lambda t: fmt_time(t) + (f" ({fmt_ratio(t / r)})" if r == r else ""))


def placements_section(frames, all_fits):
    """The Backends section of the files holding several placements; no lines when none does."""
    lines = []
    for name, df in frames.items():
        ok = ok_rows(df)
        if not placement.several(ok):
            continue
        swept = [(sweep, rows) for sweep, rows in panels(ok, by_placement=False)
                 if placement.several(rows)]
        for sweep, rows in swept:
            lines += [f"### {name}: {sweep.variable}", ""]
            lines += sweep_table(rows, sweep, all_fits[name]) + [""]
        if not swept:
            lines += [f"### {name}: per shape", "", POINTS, ""] + points_table(ok) + [""]
    return ["## Backends", "", INTRO, ""] + lines if lines else []
