"""The results reader every later stage uses: read_results checks a results CSV and its values
(so a hand-edited cell gives one line, not a traceback), and the results-level helpers: the
ok rows, the excluded ones, and the sweeps a file holds.
"""

from pathlib import Path

from bench.errors import UserError
from bench.schema import COUNTS, MEASURES, NAMES, OK_TIMES, READABLE_VERSIONS, V1_DEFAULTS

VARIABLES = ("depth", "width", "batch")


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
    if not df.empty and (len(versions) != 1 or not versions <= set(READABLE_VERSIONS)):
        found = ", ".join(str(v) for v in sorted(versions, key=str)) or "none"
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise UserError(f"{path}: schema version {found}, this gradbench reads versions {readable}")
    if versions == {1}:
        df = _upgrade_v1(df)
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


def _upgrade_v1(df):
    """A version 1 frame with the version 2 columns: NumPy, CPU, float64, no memory measurement."""
    import pandas as pd

    df = df.copy()
    for name in NAMES:
        if name not in df.columns:
            df[name] = V1_DEFAULTS.get(name, pd.NA if name not in MEASURES else float("nan"))
    return df


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


def ok_rows(df, ok=True):
    """The rows with status ok, the only ones fitted, drawn and tabled (ok=False: the others)."""
    return df[(df["status"] == "ok") == ok]


def excluded(df):
    """One line counting the rows left out of fits and plots, or '' when none."""
    bad = ok_rows(df, ok=False)
    if bad.empty:
        return ""
    counts = ", ".join(f"{n} {s}" for s, n in bad["status"].value_counts().sort_index().items())
    return f"excluded {len(bad)} point(s) with status != ok ({counts})"


def sweeps(df):
    """Yield (variable, fixed, rows, e_in_width) for every swept variable, then E for depth/width."""
    covary = bool((df["input_dim"] == df["width"]).all())
    for var in VARIABLES:
        others = [v for v in VARIABLES if v != var] + ["activation", "seed"]
        if not (var == "width" and covary):
            others.append("input_dim")
        for key, rows in df.groupby(others, sort=True):
            if rows[var].nunique() < 2:
                continue
            fixed = dict(zip(others, key))
            # E ~ width^2 unless the network is one layer on a fixed input (E ~ width)
            e_in_width = 2 if (var != "width" or covary or fixed["depth"] >= 2) else 1
            label = " ".join(f"{k}={v}" for k, v in fixed.items())
            if var == "width" and covary:
                label += " input_dim=width"
            yield var, label, rows, e_in_width
            if var in ("depth", "width"):
                yield "E", label + f" (E via {var})", rows, e_in_width



def panels(df):
    """(variable, fixed label, rows) for every swept variable of the frame, E excluded."""
    return [(var, fixed, rows) for var, fixed, rows, _ in sweeps(df) if var != "E"]
