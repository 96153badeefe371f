"""Growth exponents: fit time, op counts and working memory = c * n^k per method and swept variable.

A swept variable is one of depth, width, batch with more than one value while the
others are held fixed; E (edges) is fitted over the same points as depth and width.
The exponent k comes with a 95% confidence interval: for time, a bootstrap over the rounds the
points shared (bench.rounds), so a slow spell that hit every point of a round does not widen it;
for op counts, memory and files without rounds, the t distribution of the least-squares slope.

Small sizes are dominated by per-call overhead (time) and lower-order terms (time and
ops: naive's count in depth is ~ (L-1)(L-2) w^4 / 2), so by default times are fitted over
the upper part of the range, n >= n_max / 8, and op counts over their 3 largest n.

Working memory (the bytes a call keeps alive besides the gradient it returns) is fitted
like time, over the upper part of the range, where the arrays, not fixed allocations, set it.

The fit rules, which points a law is fitted on, are in bench.rules.
"""

import csv
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

import gradients
from bench import rules
from bench.errors import UserError
from bench.output import write_atomic
from bench.placement import fit_labels
from bench.results import Sweep, excluded, ok_rows, read_results, read_rounds, sweeps, unfitted_note
from bench.rounds import law_interval
from bench.schema import TIME

LEVEL = 0.95
MIN_POINTS = 3
FIT_COLUMNS = ["method", "backend", "device", "dtype", "variable", "quantity", "k", "k_lo", "k_hi",
               "r2", "n_min", "n_max", "n_points", "fit_rule", "theory_k", "covers_theory", "fixed",
               "c", "a", "interval", "sweep"]
# how k_lo..k_hi was found: a bootstrap over the rounds the points shared, or (no rounds: op counts,
# memory, files before version 4, the offset law) the t distribution of the least-squares slope
INTERVALS = ("rounds", "t")

# quantity -> the column fitted
QUANTITIES = {"time": TIME, "ops": "ops", "memory": "work_mem_bytes"}
# the values plot and report compute with, and their sane ranges (a damaged file is refused where
# it is read)
FIT_RANGES = {"k": (-1e3, 1e3), "k_lo": (-1e3, 1e3), "k_hi": (-1e3, 1e3), "r2": (-1e3, 1),
              "n_min": (1, 2**63), "n_max": (1, 2**63), "n_points": (1, 2**63),
              "theory_k": (-1e3, 1e3), "c": (0, 1e300), "a": (0, 1e300)}
# no interval, a constant series, a method without a theory
MAY_BE_NAN = {"k_lo", "k_hi", "r2", "theory_k"}
TEXT_COLUMNS = ["method", "backend", "device", "dtype", "variable", "quantity", "fit_rule", "fixed",
                "interval", "sweep"]
# what a fits file was fitted from, on every row: the results file's name and the SHA-256 of its
# bytes (absent from files written before them: such a file is never taken as current)
SOURCE_COLUMNS = ["results_file", "results_sha256"]


def theory_k(method, variable, e_in_width=2, quantity="time", via="depth"):
    """Theoretical exponent of the method's quantity in the variable (NaN if unknown).

    via: for variable E, the variable that swept it (depth or width). The exponents are the
    method's record's (gradients.registry).
    """
    record = gradients.record(method, strict=False)
    if quantity == "memory":
        if variable == "batch":
            return 1.0
        k_depth, k_width = record.memory_in_depth, record.memory_in_width
        if variable == "E":  # E grows as depth, or as width^e_in_width
            return k_depth if via == "depth" else k_width / e_in_width
        return k_depth if variable == "depth" else k_width
    k_e = record.time_in_e
    return {"depth": k_e, "E": k_e, "width": k_e * e_in_width, "batch": 1.0}[variable]


def power_fit(n, t, level=LEVEL):
    """OLS of log t on log n: dict of k, its CI, c, a=0 and R^2 (needs 3+ points)."""
    x, y = np.log(np.asarray(n, float)), np.log(np.asarray(t, float))  # (m,), (m,)
    m = len(x)
    X = np.column_stack([np.ones(m), x])  # (m, 2)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)  # (2,): log c, k
    resid = y - X @ beta  # (m,)
    s2 = resid @ resid / (m - 2)
    se_k = np.sqrt(s2 / np.sum((x - x.mean()) ** 2))
    half = stats.t.ppf(0.5 + level / 2, m - 2) * se_k
    return dict(k=beta[1], k_lo=beta[1] - half, k_hi=beta[1] + half,
                c=np.exp(beta[0]), a=0.0, r2=_r2(y, resid))


def offset_fit(n, t, level=LEVEL):
    """Least squares of log t on log(a + c n^k), a >= 0: dict as power_fit (needs 4+ points)."""
    n, y = np.asarray(n, float), np.log(np.asarray(t, float))  # (m,), (m,)
    start = power_fit(n, np.exp(y))
    a0 = 0.5 * np.exp(y).min()
    k0 = max(start["k"], 0.1)
    lc0 = np.log(max(np.exp(y).max() - a0, 1e-300)) - k0 * np.log(n.max())

    def model(n, a, log_c, k):
        return np.log(a + np.exp(log_c + k * np.log(n)))

    try:
        p, cov = optimize.curve_fit(model, n, y, p0=[a0, lc0, k0],
                                    bounds=([0, -np.inf, 0], [np.inf, np.inf, 10]),
                                    x_scale=[a0 or 1.0, 1.0, 1.0], max_nfev=10_000)
    except (RuntimeError, ValueError):
        return None
    resid = y - model(n, *p)  # (m,)
    dof = len(n) - 3
    se_k = np.sqrt(cov[2, 2]) if np.isfinite(cov[2, 2]) else np.nan
    half = stats.t.ppf(0.5 + level / 2, dof) * se_k
    return dict(k=p[2], k_lo=p[2] - half, k_hi=p[2] + half, c=np.exp(p[1]), a=p[0],
                r2=_r2(y, resid))


def _r2(y, resid):
    """Coefficient of determination on the log scale."""
    tot = np.sum((y - y.mean()) ** 2)
    return 1.0 - (resid @ resid) / tot if tot > 0 else np.nan


def fit_points(n, t, rule):
    """Fit one series under a rule: (fit dict or None when under 3 points, n used, rule used)."""
    kind, x = rules.parse(rule)
    n, t = np.asarray(n, float), np.asarray(t, float)  # (m,), (m,)
    order = np.argsort(n)
    n, t = n[order], t[order]
    if kind == "offset":
        if len(n) > MIN_POINTS:  # three parameters need four points
            fit = offset_fit(n, t)
            if fit is not None and np.isfinite(fit["k_hi"] - fit["k_lo"]):
                return fit, n, rule
        kind, rule = "all", "all"  # too few points, or no fit with an interval: the plain law
    if kind == "all":
        keep = np.ones(len(n), bool)  # (m,)
    elif kind == "top":
        keep = np.arange(len(n)) >= len(n) - x  # (m,)
    elif kind == "ratio":
        keep = t >= x * t.min()  # (m,)
    else:  # upper
        keep = n >= n.max() / x  # (m,)
    if keep.sum() < MIN_POINTS:  # too few for an interval: the largest three
        keep, rule = np.arange(len(n)) >= len(n) - MIN_POINTS, f"top:{MIN_POINTS}"
    n, t = n[keep], t[keep]
    return (power_fit(n, t) if len(n) >= MIN_POINTS else None), n, rule


def fit_results(df, time_rule=rules.TIME_RULE, ops_rule=rules.OPS_RULE,
                memory_rule=rules.MEMORY_RULE, rounds=None):
    """A results frame's fits table (ok rows only): a row per method/placement/variable/quantity.

    A sweep holds one placement (bench.results.sweeps), so a method's fit never mixes backends,
    devices or dtypes. rounds: each row's round values (bench.results.read_rounds), for the time
    law's interval.
    """
    if rounds is not None:
        df = df.assign(_rounds=rounds)
    rule_of = {"time": time_rule, "ops": ops_rule, "memory": memory_rule}
    rows = []
    for sweep, group in sweeps(ok_rows(df)):
        var = sweep.variable
        x = "edges" if var == "E" else var
        for method, pts in group.groupby("method", sort=True):
            for quantity, col in QUANTITIES.items():
                if col not in pts:  # working memory: not in files of schema version 1
                    continue
                # not measured (empty): left out
                measured = pts[pd.to_numeric(pts[col], errors="coerce") > 0]
                if len(measured) < MIN_POINTS:
                    continue
                fit, used, rule_used = fit_points(measured[x], measured[col], rule_of[quantity])
                if fit is None or not np.isfinite(fit["k"]):
                    continue
                interval = "t"
                if quantity == "time" and rule_used != "offset":
                    interval = _rounds_interval(fit, measured[measured[x].isin(used)], x)
                theory = theory_k(method, var, sweep.e_in_width, quantity, sweep.via or "depth")
                rows.append(dict(
                    method=method, **sweep.placement._asdict(), variable=var, quantity=quantity,
                    k=fit["k"], k_lo=fit["k_lo"], k_hi=fit["k_hi"], r2=fit["r2"],
                    n_min=used.min(), n_max=used.max(), n_points=len(used), fit_rule=rule_used,
                    theory_k=theory, covers_theory=_covers(fit, theory),
                    fixed=sweep.label, c=fit["c"], a=fit["a"], interval=interval, sweep=sweep.key))
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def _rounds_interval(fit, used, x):
    """Replace the fit's t interval by a bootstrap over the points' shared rounds, where every
    point has rounds: 'rounds', else 't' (the interval left as it was)."""
    if ("_rounds" not in used or used["_rounds"].isna().any()
            or (used["_rounds"].map(len) < 2).any()):
        return "t"
    lo, hi = law_interval(used[x].to_numpy(float), list(used["_rounds"]), list(used["series"]))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "t"
    fit["k_lo"], fit["k_hi"] = lo, hi
    return "rounds"


def _covers(fit, theory):
    """The interval holds the theory (NaN: never).

    A zero-width interval (a constant series) holds it within rounding."""
    slack = 1e-9 * max(1.0, abs(theory)) if np.isfinite(theory) else 0.0
    return bool(fit["k_lo"] - slack <= theory <= fit["k_hi"] + slack)


def fits_path(results_path):
    """results/<name>.csv -> results/<name>.fits.csv"""
    p = Path(results_path)
    return p.with_name(p.stem + ".fits.csv")


def fit_file(path, out=None, time_rule=rules.TIME_RULE, ops_rule=rules.OPS_RULE,
             memory_rule=rules.MEMORY_RULE):
    """Fit a results CSV and write <name>.fits.csv beside it: (out path, fits, notes)."""
    rules.parse(time_rule, "time rule")  # refuse a bad rule before any work
    rules.parse(ops_rule, "ops rule")
    rules.parse(memory_rule, "memory rule")
    if not Path(path).is_file():  # a FIFO would block the hash's open: the reader says what it is
        read_results(path)
    try:
        source = fitted_source(path)  # before reading: a file growing meanwhile is refitted later
    except UserError:
        read_results(path)  # its message, where the file cannot be read at all
        raise
    df = read_results(path)
    fits = fit_results(df, time_rule, ops_rule, memory_rule, rounds=read_rounds(path, df))
    # exact in the file, not %.6g
    fits[["n_min", "n_max"]] = fits[["n_min", "n_max"]].astype("int64")
    fits, dropped = _drop_unreadable(fits)
    fits = fits.assign(**dict(zip(SOURCE_COLUMNS, source)))
    out = write_atomic(out or fits_path(path),
                       lambda tmp: fits.to_csv(tmp, index=False, float_format="%.6g"))
    asked = fits["quantity"].map({"time": time_rule, "ops": ops_rule, "memory": memory_rule})
    other = int((fits["fit_rule"] != asked).sum())
    notes = [excluded(df), unfitted_note(df, MIN_POINTS)] + [
        f"{other} fit(s) used another rule than asked (too few points, or the offset fit "
        "failed): see their fit_rule"] * bool(other) + dropped
    return out, fits, [n for n in notes if n]


def fitted_source(path):
    """(name, SHA-256) of a results file: what its fits file records and is checked against."""
    try:
        with open(path, "rb") as f:
            return Path(path).name, hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror or e})") from None


def is_current(fits_file, results_path):
    """The fits file was fitted from this results file as it is now (its recorded name and hash)."""
    if not (Path(fits_file).is_file() and Path(results_path).is_file()):  # a FIFO blocks an open
        return False
    try:
        with open(fits_file, newline="", encoding="utf-8") as f:
            first = next(csv.DictReader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    if first is None:
        return False  # an empty fits file records nothing: refitting it is cheap
    if "sweep" not in first:  # written before fits named their sweep: fitted anew, as a stale one
        return False
    return (first.get("results_file"), first.get("results_sha256")) == fitted_source(results_path)


def _drop_unreadable(fits):
    """The fits whose values read_fits takes, and a note naming those left out (k_lo = -inf,
    c = 1e308)."""
    bad = pd.Series(False, index=fits.index)
    for name in FIT_RANGES:
        bad |= _out_of_range(fits[name], name)
    if not bad.any():
        return fits, []
    laws = "; ".join(f"{r.method} {r.quantity} vs {r.variable}" for r in fits[bad].itertuples())
    note = (f"left out {int(bad.sum())} law(s) whose fit is not a finite number in range "
            f"(the points do not follow a power law closely enough): {laws}")
    return fits[~bad].reset_index(drop=True), [note]


def _out_of_range(column, name):
    """Where a column's cells are not numbers in FIT_RANGES[name] (NaN allowed in MAY_BE_NAN's)."""
    lo, hi = FIT_RANGES[name]
    values = pd.to_numeric(column, errors="coerce")
    return ~values.between(lo, hi) & ~(values.isna() & (name in MAY_BE_NAN) & column.isna())


def read_fits(path):
    """Read a fit_file CSV, checking each value plot and report draw; UserError if damaged."""
    path = Path(path)
    if not path.is_file():
        why = "not a regular file" if path.exists() else "no such file"
        raise UserError(f"{path}: cannot read fits file ({why})")
    try:
        text = {c: str for c in TEXT_COLUMNS + SOURCE_COLUMNS}
        fits = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=text)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as e:
        raise UserError(f"{path}: cannot read fits file ({str(e).splitlines()[0]})") from None
    if "sweep" not in fits.columns:  # what keys a fit to its sweep: a display label did before
        source = path.with_name(path.name.removesuffix(".fits.csv") + ".csv")
        raise UserError(f"{path}: written by an older gradbench (no sweep column): "
                        f"run `gradbench fit {source}` again")
    missing = [c for c in FIT_COLUMNS if c not in fits.columns]
    if missing:
        raise UserError(f"{path}: not a gradbench fits file (missing columns: "
                        f"{', '.join(missing)})")
    for name, (lo, hi) in FIT_RANGES.items():
        values = pd.to_numeric(fits[name], errors="coerce")
        bad = _out_of_range(fits[name], name)
        if bad.any():
            i = bad[bad].index[0]
            raise UserError(f"{path}: line {i + 2}, column {name}: {str(fits.loc[i, name])!r}: "
                            f"expected a number from {lo:g} to {hi:g} (refit with `gradbench fit`)")
        fits[name] = values
    bad = ~fits["covers_theory"].astype(str).isin(["True", "False"])
    if bad.any():
        i = bad[bad].index[0]
        raise UserError(f"{path}: line {i + 2}, column covers_theory: "
                        f"{str(fits.loc[i, 'covers_theory'])!r}: expected True or False (refit "
                        "with `gradbench fit`)")
    fits["covers_theory"] = fits["covers_theory"].astype(str) == "True"
    fits[TEXT_COLUMNS] = fits[TEXT_COLUMNS].fillna("")
    for i, key in fits["sweep"].items():
        try:
            Sweep.from_key(key)
        except ValueError:
            raise UserError(f"{path}: line {i + 2}, column sweep: {key!r}: not a sweep's key "
                            "(refit with `gradbench fit`)") from None
    return fits


def fits_for(fits, sweep, quantity, method=None):
    """The fits of one sweep and quantity, of one method where given (none where fits is None):
    the one lookup of a fit that figures, the report and the README block make."""
    if fits is None:
        return pd.DataFrame(columns=FIT_COLUMNS)
    hit = fits[(fits["sweep"] == sweep.key) & (fits["quantity"] == quantity)]
    return hit if method is None else hit[hit["method"] == method]


def summary(fits):
    """Lines for the terminal: one per fit."""
    lines = []
    for r, method in zip(fits.itertuples(), fit_labels(fits)):
        cover = "covers" if r.covers_theory else "misses"
        lines.append(f"{method:9} {r.quantity:6} vs {r.variable:5} k = {r.k:6.3f} "
                     f"[{r.k_lo:.3f}, {r.k_hi:.3f}] R^2 {r.r2:.4f} n {r.n_min:g}..{r.n_max:g} "
                     f"({r.n_points} pts, {r.fit_rule}); theory {r.theory_k:g}: {cover}")
    return lines
