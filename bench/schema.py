"""The results CSV: its columns, its version, and the one reader every later stage uses.

One row per (method, depth, width, batch, input_dim, activation) point. The CSV is the
interface between `sweep` and `fit`/`plot`/`report`; bump SCHEMA_VERSION when a column
changes meaning, and readers refuse files of another version.
"""

from pathlib import Path

import pandas as pd

from bench.errors import UserError

SCHEMA_VERSION = 1

# (name, meaning) in file order; the README's schema table is written from this list.
COLUMNS = [
    ("schema_version", "version of this column layout (readers refuse others)"),
    ("method", "gradient method (naive, backprop, numerical) or forward (loss only)"),
    ("depth", "L, the number of weight matrices"),
    ("width", "hidden width n[2..L+1]"),
    ("input_dim", "d = n[1]"),
    ("batch", "B, examples in the mini-batch"),
    ("activation", "relu or identity"),
    ("params", "trainable parameters, E + 1"),
    ("edges", "E = sum_t n[t+1]*n[t] + n[L+1] (weights plus alpha)"),
    ("nodes", "V = sum_t n[t] + 1"),
    ("ops", "exact multiplications of one call (gradients.op_count)"),
    ("time_median_s", "median seconds of one call (pyperf values)"),
    ("time_mean_s", "mean seconds of one call"),
    ("time_stdev_s", "standard deviation of the values"),
    ("time_min_s", "fastest value"),
    ("time_max_s", "slowest value"),
    ("n_values", "number of timed values pyperf kept"),
    ("max_rel_err", "largest relative difference from backprop on the same network and batch"),
    ("agree", "max_rel_err within tolerance (1e-8; numerical 1e-5)"),
    ("peak_mem_bytes", "peak extra memory of one call (tracemalloc)"),
    ("status", "ok, skipped (over budget), timeout, or error"),
    ("reason", "why a point was skipped, timed out or failed; empty when ok"),
    ("seed", "seed of the network and data"),
    ("profile", "pyperf profile: quick, default, rigorous"),
    ("pyperf_json", "the point's pyperf JSON, relative to the CSV's folder"),
    ("python", "Python version"),
    ("numpy", "NumPy version"),
    ("blas", "BLAS library NumPy uses"),
    ("blas_threads", "BLAS threads in the timing workers"),
    ("cpu", "CPU model"),
    ("timestamp", "UTC time the row was written (ISO 8601)"),
    # pyperf's metadata of the timing run (empty when the point was not timed)
    ("loops", "calls of the method per pyperf value (time_* columns are per call)"),
    ("pyperf", "pyperf version"),
    ("hostname", "machine that ran the timing workers"),
    ("platform", "operating system, as pyperf records it"),
    ("cpu_count", "logical CPUs of the machine"),
]
NAMES = [name for name, _ in COLUMNS]
POINT_KEY = ["method", "depth", "width", "input_dim", "batch", "activation", "seed"]


def read_results(path) -> pd.DataFrame:
    """Read a gradbench results CSV, or raise UserError naming what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a CSV file ({str(e).splitlines()[0]})") from None
    if "schema_version" not in df.columns:
        raise UserError(f"{path}: not a gradbench results file (no schema_version column)")
    versions = set(df["schema_version"].dropna().unique())
    if versions != {SCHEMA_VERSION}:
        found = ", ".join(str(v) for v in sorted(versions, key=str)) or "none"
        raise UserError(f"{path}: schema version {found}, this gradbench reads version {SCHEMA_VERSION}")
    missing = [n for n in NAMES if n not in df.columns]
    if missing:
        raise UserError(f"{path}: not a gradbench results file (missing columns: {', '.join(missing)})")
    return df
