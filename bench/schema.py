"""The results CSV: its columns, its version, and the one reader every later stage uses.

One row per (method, depth, width, batch, input_dim, activation) point. The CSV is the
interface between `sweep` and `fit`/`plot`/`report`; bump SCHEMA_VERSION when a column
changes meaning, and readers refuse files of another version. read_results also checks the
values fit, plot and report compute with, so a hand-edited cell gives one line, not a traceback.
"""

from pathlib import Path

from bench.errors import UserError

SCHEMA_VERSION = 1

# (name, meaning) in file order; docs/results-csv.md's column table is generated from it (markdown_table).
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
    ("profile", "pyperf profile: quick, study, default, rigorous"),
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
# The time of a point in summaries, fits, plots and tables: the fastest of pyperf's values (each
# value is itself a mean over a loop of calls). On a shared machine noise only ever adds time,
# and a whole worker process can run slow; the fastest value is the least disturbed estimate
# of what the call costs, where a median over three processes can still land on a slow one.
TIME = "time_min_s"
POINT_KEY = ["method", "depth", "width", "input_dim", "batch", "activation", "seed"]
# numeric columns readers compute with: whole numbers known before anything runs (every row has them),
# and measurements (empty when their step did not run)
COUNTS = {"depth": 1, "width": 1, "input_dim": 1, "batch": 1, "seed": 0, "params": 1, "edges": 1, "nodes": 1,
          "ops": 1}  # column -> smallest valid value
MEASURES = ["time_median_s", "time_mean_s", "time_stdev_s", "time_min_s", "time_max_s", "n_values",
            "max_rel_err", "peak_mem_bytes"]
OK_TIMES = ["time_min_s", "time_median_s", "time_max_s"]  # an ok row has them, positive and in this order


def markdown_table():
    """The Markdown table of COLUMNS, one row per column in file order, as docs/results-csv.md holds it."""
    rows = ["| `{}` | {} |".format(name, meaning.replace("|", r"\|")) for name, meaning in COLUMNS]  # | splits cells
    return "\n".join(["| column | meaning |", "|---|---|", *rows]) + "\n"


def read_results(path, *, text=None, allow_empty=False):
    """Read a gradbench results CSV (from `text` if given), or raise UserError naming what is wrong with it.

    Numeric columns come back as numbers; a row's line number in messages is its line in the file.
    A file with a header and no rows is refused unless allow_empty (sweep --resume continues it).
    """
    import io

    import pandas as pd

    path = Path(path)
    if text is None and not path.is_file():
        raise UserError(f"{path}: no such file")
    try:  # blank lines kept (all-empty rows, dropped below) so that index + 2 is the line number
        df = pd.read_csv(path if text is None else io.StringIO(text), skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a CSV file ({str(e).splitlines()[0]})") from None
    df = df.dropna(how="all")
    if "schema_version" not in df.columns:
        raise UserError(f"{path}: not a gradbench results file (no schema_version column)")
    if df.empty and not allow_empty:
        raise UserError(f"{path}: no rows (only a header): nothing was measured yet")
    versions = set(df["schema_version"].dropna().unique())
    if not df.empty and versions != {SCHEMA_VERSION}:
        found = ", ".join(str(v) for v in sorted(versions, key=str)) or "none"
        raise UserError(f"{path}: schema version {found}, this gradbench reads version {SCHEMA_VERSION}")
    missing = [n for n in NAMES if n not in df.columns]
    if missing:
        raise UserError(f"{path}: not a gradbench results file (missing columns: {', '.join(missing)})")
    raw = df.copy()  # the cells as read, for messages
    for name in [*COUNTS, *MEASURES]:
        df[name] = pd.to_numeric(raw[name], errors="coerce")
        _refuse(raw, raw[name].notna() & df[name].isna(), name, path, "not a number")
    for name, least in COUNTS.items():
        _refuse(raw, df[name].isna() | (df[name] < least) | (df[name] % 1 != 0) | (df[name] >= 2**63), name, path,
                f"expected a whole number >= {least}")
        df[name] = df[name].astype("int64")
    ok = df["status"] == "ok"
    for name in OK_TIMES:
        _refuse(raw, ok & ~((df[name] > 0) & (df[name] < float("inf"))), name, path,
                "an ok row needs a positive, finite time")
    _refuse(raw, ok & ((df["time_min_s"] > df["time_median_s"]) | (df["time_median_s"] > df["time_max_s"])),
            "time_median_s", path, "an ok row needs time_min_s <= time_median_s <= time_max_s")
    return df.reset_index(drop=True)


def _refuse(raw, bad, name, path, why):
    """UserError naming the file line, column and cell of the first row where `bad` holds."""
    if bad.any():
        import pandas as pd

        index = bad[bad].index[0]
        cell = raw.loc[index, name]
        cell = "empty" if pd.isna(cell) else repr(str(cell))
        raise UserError(f"{path}: line {index + 2}, column {name}: {cell}: {why}")


def parse_row(row):
    """A row of CSV strings (as csv.reader gives) as Python values: numbers, True/False, None for empty."""
    typed = {}
    for name, text in row.items():
        if text == "":
            typed[name] = None
        elif name in COUNTS:
            typed[name] = int(float(text))
        elif name in MEASURES:
            typed[name] = float(text)
        elif name == "agree" and text in ("True", "False"):
            typed[name] = text == "True"
        else:
            typed[name] = text
    return typed
