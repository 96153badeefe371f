"""The results reader every later stage uses: read_results checks a results CSV and its values
(so a hand-edited cell gives one line, not a traceback), and the results-level helpers: the
ok rows, the excluded ones, and the sweeps a file holds (Sweep: what one fit is drawn from and
keyed by).
"""

import csv
import io
import numbers
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote

from bench import placement
from bench.errors import UserError
from bench.placement import PLACEMENT, Placement
from bench.schema import (
    ADDED_IN_3,
    ADDED_IN_4,
    COUNTS,
    MEASURES,
    NAMES,
    OK_TIMES,
    POINT_KEY,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    STATUSES,
    TIME_RANGE,
    V1_DEFAULTS,
)
from bench.sweep.points import Point, normal_device

VARIABLES = ("depth", "width", "batch")
BYTE_COLUMNS = ("peak_mem_bytes", "work_mem_bytes", "mem_model_bytes", "l2_bytes", "llc_bytes")


def read_results(path, *, text=None, allow_empty=False, allow_duplicates=False):
    """Read a gradbench results CSV (from `text` if given), or raise UserError naming what is wrong.

    Numeric columns come back as numbers, the others as strings ("" when empty); a row's line
    number in messages is its line in the file. A file with a header and no rows is refused unless
    allow_empty (sweep --resume continues it); two rows of one point unless allow_duplicates
    (sweep --resume keeps one of them).
    """
    import pandas as pd  # a quarter second: the command line loads this module at start

    path = Path(path)
    header, rows, lines = _records(path, text)
    if "schema_version" not in header:
        raise UserError(f"{path}: not a gradbench results file (no schema_version column)")
    twice = sorted({n for n in header if header.count(n) > 1})
    if twice:
        raise UserError(f"{path}: not a gradbench results file (column {twice[0]!r} appears twice)")
    for fields, line in zip(rows, lines):
        if fields == header:
            raise UserError(f"{path}: line {line} repeats the header (two files joined?): "
                            "delete that line, or keep the two files apart")
        if len(fields) != len(header):
            raise UserError(f"{path}: line {line} has {len(fields)} fields, the header has "
                            f"{len(header)}")
    if not rows and not allow_empty:
        raise UserError(f"{path}: no rows (only a header): nothing was measured yet")
    header, rows = _upgraded(path, header, rows)
    missing = [n for n in NAMES if n not in header]
    if missing:
        raise UserError(f"{path}: not a gradbench results file (missing columns: "
                        f"{', '.join(missing)})")
    raw = pd.DataFrame(rows, columns=header, dtype=object)  # the cells as read, for messages
    df = raw.copy()
    df["schema_version"] = SCHEMA_VERSION
    # a file written by hand may say cuda: it is cuda:0
    df["device"] = df["device"].map(normal_device)
    check = lambda bad, name, why: _refuse(raw, df, bad, name, path, why, lines)  # noqa: E731
    for name in [*COUNTS, *MEASURES]:
        empty = raw[name].str.strip().str.lower().isin(["", "nan"])
        df[name] = pd.to_numeric(raw[name].where(~empty), errors="coerce")
        check(~empty & df[name].isna(), name, "not a number")
    for name, least in COUNTS.items():
        exact = raw[name].map(whole_number)  # an int, exact at any size (a float: 53 bits)
        bad = exact.map(lambda n, least=least: n is None or not least <= n < 2**63)
        check(bad, name, f"expected a whole number >= {least}")
        df[name] = exact.astype("int64")
    check(~df["status"].isin(STATUSES), "status", f"expected one of {', '.join(STATUSES)}")
    ok = df["status"] == "ok"
    for name in OK_TIMES:
        check(ok & ~((df[name] > 0) & (df[name] < float("inf"))), name,
              "an ok row needs a positive, finite time")
        check(ok & ~df[name].between(*TIME_RANGE), name,
              f"an ok row's time must lie between {TIME_RANGE[0]:g} and {TIME_RANGE[1]:g} s")
    check(ok & ((df["time_min_s"] > df["time_median_s"])
                | (df["time_median_s"] > df["time_max_s"])),
          "time_median_s", "an ok row needs time_min_s <= time_median_s <= time_max_s")
    for name in BYTE_COLUMNS:  # drawn and tabled: inf or 1e308 would reach the axes' limits
        check(df[name].notna() & ~(df[name].abs() < 2**63), name,
              "expected a finite byte count below 2^63 or an empty cell")
    paired = df["time_vs_backprop"]
    check(paired.notna() & ~((paired > 0) & (paired < float("inf"))), "time_vs_backprop",
          "expected a positive, finite ratio or an empty cell")
    if not allow_duplicates:
        _refuse_duplicates(df, path, lines)
    return df.reset_index(drop=True)


def _upgraded(path, header, rows):
    """(header, rows) in the current schema: the columns an older version lacks are added, empty.

    Version 1 came before the backends and the memory columns: its rows ran on NumPy, on the CPU, in
    float64. Version 2 came before time_vs_backprop; versions 1 to 3 before the rounds: their time_s
    is their time_min_s, the fastest pyperf value, which is what they fitted and drew.
    """
    versions = {f[header.index("schema_version")] for f in rows} - {""}
    readable = {str(v) for v in READABLE_VERSIONS}
    if rows and (len(versions) != 1 or not versions <= readable):
        found = ", ".join(sorted(versions)) or "none"
        *first, last = sorted(readable)
        raise UserError(f"{path}: schema version {found}, this gradbench reads versions "
                        f"{', '.join(first)} and {last}")
    added = [n for n in NAMES if n not in header]
    if (versions == {str(SCHEMA_VERSION)}
            or (not versions and not set(added) <= ADDED_IN_3 | ADDED_IN_4)):
        # (a header alone lacking more than the later columns is not ours: refused below)
        return header, rows
    defaults = V1_DEFAULTS if versions == {"1"} else {}
    header, rows = header + added, [f + [defaults.get(n, "") for n in added] for f in rows]
    if "time_s" in added and "time_min_s" in header:
        fastest, time_s = header.index("time_min_s"), header.index("time_s")
        for f in rows:
            f[time_s] = f[fastest]
    return header, rows


def _records(path, text):
    """(header, rows, line of each row) of a CSV file; blank lines, rows of empty cells left out."""
    if text is None:
        if not path.is_file():
            raise UserError(f"{path}: "
                            + ("not a regular file" if path.exists() else "no such file"))
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise UserError(f"{path}: not a CSV file ({e})") from None
        except OSError as e:
            raise UserError(f"{path}: cannot read ({e.strerror or e})") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark, as spreadsheets save UTF-8
    records, lines = [], []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for fields in reader:
            if any(cell.strip() for cell in fields):
                records.append(fields)
                # the record's last line: a quoted cell may span lines
                lines.append(reader.line_num)
    except csv.Error as e:
        raise UserError(f"{path}: not a CSV file ({e})") from None
    if not records:
        raise UserError(f"{path}: not a CSV file (no header, no rows)")
    return records[0], records[1:], lines[1:]


def _refuse(raw, df, bad, name, path, why, lines):
    """UserError naming the line, column and cell where `bad` first holds.

    The cell is shown as read, a number as a number."""
    if bad.any():
        index = bad[bad].index[0]
        value = df.loc[index, name]
        is_number = isinstance(value, numbers.Number) and value == value
        cell = str(value) if is_number else str(raw.loc[index, name])
        cell = "empty" if cell.strip() == "" else repr(cell)
        raise UserError(f"{path}: line {lines[index]}, column {name}: {cell}: {why}")


def _refuse_duplicates(df, path, lines):
    """UserError naming the first two lines that hold the same point (a sweep never writes them)."""
    again = df.duplicated(POINT_KEY, keep=False)
    if again.any():
        first, second = again[again].index[:2]
        point = " ".join(f"{k}={df.loc[first, k]}" for k in POINT_KEY)
        raise UserError(f"{path}: lines {lines[first]} and {lines[second]} hold the same point "
                        f"({point}); a sweep writes one row per point: delete one of them "
                        "(--resume keeps the ok one)")


def whole_number(text):
    """A cell's whole number as an exact int ('9007199254740993', '8.0', '1e3'), else None."""
    text = str(text).strip()
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)  # exact, where int(float(text)) rounds past 2**53
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None  # is_integer: False for inf and NaN


def parse_row(row):
    """A row of CSV strings (csv.reader's) as Python values: numbers, True/False, None for empty."""
    typed = {}
    for name, text in row.items():
        if text == "":
            typed[name] = None
        elif name in COUNTS:
            typed[name] = whole_number(text)
        elif name in MEASURES:
            typed[name] = float(text)
        elif name == "agree" and text in ("True", "False"):
            typed[name] = text == "True"
        else:
            typed[name] = text
    return typed


def read_rounds(path, df):
    """Each row's round values from the pyperf suite its pyperf_json names (beside `path`), as a
    list aligned with df's rows; None where the row has none (not ok, a file before version 4, a
    suite moved or damaged: its fits fall back to the spread of the times)."""
    import pyperf  # only a fit of rounds pays for it

    suites, values = {}, []
    for _, row in df.iterrows():
        name = row.get("pyperf_json", "")
        if row["status"] != "ok" or not row.get("series") or not name:
            values.append(None)
            continue
        if name not in suites:
            try:
                suites[name] = pyperf.BenchmarkSuite.load(str(Path(path).parent / name))
            except Exception:  # missing, not JSON, not pyperf's: no rounds from it
                suites[name] = None
        try:
            values.append(list(suites[name].get_benchmark(Point.from_row(row).slug).get_values()))
        except Exception:  # no such benchmark in it
            values.append(None)
    return values


def ok_rows(df):
    """The rows with status ok, the only ones fitted, drawn and tabled."""
    return df[df["status"] == "ok"]


def excluded_rows(df):
    """The rows whose status is not ok (skipped, timeout, error): left out of fits and figures."""
    return df[df["status"] != "ok"]


def excluded(df):
    """One line counting the rows left out of fits and plots, or '' when none."""
    bad = excluded_rows(df)
    if bad.empty:
        return ""
    counts = ", ".join(f"{n} {s}" for s, n in bad["status"].value_counts().sort_index().items())
    return f"excluded {len(bad)} point(s) with status != ok ({counts})"


@dataclass(frozen=True)
class Sweep:
    """What one fit is drawn from: a variable swept while the other settings are held fixed, on one
    placement (None: across every placement of the rows, as the placements figure draws them).

    fixed: ((name, value as text), ...): the other variables, activation, seed, input_dim ('width'
    where it followed the width). E is fitted over a depth or width sweep's points: variable E,
    via that variable. `key` names the sweep in a fits file, the same whatever else the file
    holds; `label` is how people read it, naming the placement only in a file of several.
    """

    variable: str
    fixed: tuple
    placement: Placement | None = None
    via: str = ""
    named: bool = field(default=False, compare=False)  # its label names the placement

    @property
    def key(self):
        """'variable=depth width=16 ... input_dim=16 backend=numpy device=cpu dtype=float64'."""
        head = [("variable", self.variable)] + [("via", self.via)] * bool(self.via)
        where = list(zip(PLACEMENT, self.placement)) if self.placement else []
        items = head + list(self.fixed) + where
        return " ".join(f"{k}={quote(str(v), safe=':')}" for k, v in items)

    @classmethod
    def from_key(cls, key):
        """The Sweep whose key is `key`, or ValueError where `key` is not one."""
        items = [item.partition("=") for item in str(key).split(" ")]
        if any(not name or not eq for name, eq, _ in items):
            raise ValueError(f"not a sweep key: {key!r}")
        pairs = [(name, unquote(value)) for name, _, value in items]
        (first, variable), rest = pairs[0], pairs[1:]
        via = rest.pop(0)[1] if rest and rest[0][0] == "via" else ""
        where = None
        if tuple(name for name, _ in rest[-3:]) == PLACEMENT:
            where, rest = Placement(*(value for _, value in rest[-3:])), rest[:-3]
        names = [name for name, _ in rest]
        sweep = cls(variable, tuple(rest), where, via)
        if (first != "variable" or variable not in (*VARIABLES, "E")
                or (variable == "E") != bool(via) or len(set(names)) < len(names)
                or set(names) & {*PLACEMENT, "variable", "via"}
                or sweep.key != key):  # one spelling per sweep
            raise ValueError(f"not a sweep key: {key!r}")
        return sweep

    @property
    def label(self):
        """'width=16 batch=1 activation=relu seed=0 input_dim=16 (E via depth)'."""
        where = list(zip(PLACEMENT, self.placement)) if self.named and self.placement else []
        text = " ".join(f"{k}={v}" for k, v in list(self.fixed) + where)
        return text + (f" (E via {self.via})" if self.via else "")

    @property
    def e_in_width(self):
        """E grows as width^2, unless the network is one layer on a fixed input (E ~ width)."""
        held = dict(self.fixed)
        var = self.via or self.variable
        grows = var != "width" or held.get("input_dim") == "width" or int(held["depth"]) >= 2
        return 2 if grows else 1

    def at(self, placement):
        """This sweep on one placement (a sweep across placements, as its fits are keyed)."""
        return replace(self, placement=placement)

    def over_edges(self):
        """The E sweep drawn from this depth or width sweep's points."""
        return replace(self, variable="E", via=self.variable)


def sweeps(df, by_placement=True):
    """Yield (Sweep, rows) for every swept variable, each depth or width sweep followed by its E.

    Each sweep is one placement's, unless by_placement is False: then a sweep holds every
    placement of its rows (and its placement is None).
    """
    covary = bool((df["input_dim"] == df["width"]).all())
    named = by_placement and placement.several(df)
    for var in VARIABLES:
        others = [v for v in VARIABLES if v != var] + ["activation", "seed"]
        if not (var == "width" and covary):
            others.append("input_dim")
        for key, rows in df.groupby(others + list(PLACEMENT) * by_placement, sort=True):
            if rows[var].nunique() < 2:
                continue
            fixed = [(k, str(v)) for k, v in zip(others, key)]
            if var == "width" and covary:
                fixed.append(("input_dim", "width"))
            where = Placement(*map(str, key[len(others):])) if by_placement else None
            sweep = Sweep(var, tuple(fixed), where, named=named)
            yield sweep, rows
            if var in ("depth", "width"):
                yield sweep.over_edges(), rows


def panels(df, by_placement=True):
    """(Sweep, rows) for every swept variable of the frame, E excluded (see sweeps)."""
    return [(sweep, rows) for sweep, rows in sweeps(df, by_placement) if sweep.variable != "E"]


def too_short(df, min_points):
    """Why a law could not be fitted: {Sweep: 'N values of VAR (a, b); a law needs M'}.

    A sweep is named where one of its methods has fewer than min_points ok points (E aside:
    it has the points of its depth or width sweep).
    """
    short = {}
    for sweep, rows in panels(ok_rows(df)):
        var = sweep.variable
        counts = rows.groupby("method")[var].nunique()
        if (counts < min_points).any():
            few = sorted(counts[counts < min_points].index)
            values = ", ".join(f"{v:g}" for v in sorted(rows[var].unique()))
            n = int(counts.min())
            short[sweep] = (f"{n} value{'s' * (n != 1)} of {var} ({values}) for "
                                 f"{', '.join(few)}; a law needs {min_points}")
    return short


def unfitted_note(df, min_points):
    """One line naming the sweeps no law could be fitted to and why, or None."""
    short = too_short(df, min_points)
    if not short:
        return None
    return "could not fit a law: " + "; ".join(f"{s.variable} sweep ({s.label}): {why}"
                                               for s, why in short.items()) + \
        f"; sweep {min_points} or more values"
