"""The sweep's results file: append-only, one complete line per row, safe to kill at any moment.

Each row is written with a single os.write of the whole line, then fsync'd, so a Ctrl-C or a
kill leaves only complete rows. Rows are never edited in place. --resume keeps the rows whose
status is ok and drops the others of the points about to be run again (by writing the kept lines,
byte for byte, to a file that replaces it atomically: bench.output.write_text), so the file never holds two rows
for one point.
"""

import csv
import io
import os
from pathlib import Path

from bench.errors import UserError
from bench.output import write_text
from bench.results import parse_row, read_results
from bench.schema import NAMES
from bench.sweep.points import Point

HEADER = ",".join(NAMES) + "\n"


def format_row(row):
    """One CSV line (with its newline) of a row dict; missing columns are empty."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["" if row.get(n) is None else row[n] for n in NAMES])
    return buffer.getvalue()


class ResultsFile:
    """An open results CSV: `write(row)` appends one durable line."""

    def __init__(self, path, done):
        self.path = Path(path)
        self.done = done  # {point key: row dict} of the ok rows already in the file
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as e:
            raise UserError(f"--out {path}: cannot write ({e.strerror or e})") from None

    def write(self, row):
        """Append one row as one complete line, flushed to disk before returning."""
        line = format_row(row).encode()
        os.write(self._fd, line)  # one system call: a kill cannot split the line
        os.fsync(self._fd)

    def close(self):
        os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_results(path, planned_keys, resume=False, force=False):
    """Open --out for a sweep of `planned_keys`: new, resumed (--resume) or restarted (--force).

    Raises UserError, before touching any file, for an existing file without --resume or
    --force, a file of another schema, or a path that cannot be written.
    """
    path = Path(path)
    if resume and force:
        raise UserError("--resume and --force contradict each other: choose one")
    if path.is_dir():
        raise UserError(f"--out {path}: is a directory")
    exists = path.is_file() and path.stat().st_size > 0  # an empty file: killed before its header
    if exists and not (resume or force):
        raise UserError(f"--out {path} already exists: add --resume to continue it or --force to start afresh")
    done = {}
    if exists and resume:
        done, lines, dropped = _resumable(path, set(planned_keys))
        if dropped:
            write_text(path, HEADER + "".join(lines))
    elif not exists or force:
        _create(path)
    return ResultsFile(path, done)


def _resumable(path, planned_keys):
    """The ok rows to keep (as Python values), every kept line, and whether any line was dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not a CSV file ({e})") from None
    header, _, body = text.partition("\n")
    *complete, torn = body.split("\n")  # torn: text after the last newline, a half row (power loss)
    # the schema and values check of the complete rows: a UserError, and no change, for a foreign file;
    # a header alone is a sweep killed during its first point, resumed like any other
    read_results(path, text=text[: len(text) - len(torn)], allow_empty=True)
    if header + "\n" != HEADER:
        raise UserError(f"--resume {path}: its columns differ from this gradbench's; start a new file")
    lines = [line + "\n" for line in complete if line]
    # a torn last row, a blank line, or a file not ending in a newline (the next row would join
    # its last line): rewrite the kept lines
    dropped = bool(torn) or not text.endswith("\n") or len(lines) < len(complete)
    rows = [parse_row(dict(zip(NAMES, next(csv.reader([line]))))) for line in lines]
    done = {}
    for row in rows:
        if row["status"] == "ok":
            done.setdefault(Point.from_row(row).key(), row)
    kept, seen = [], set()
    for line, row in zip(lines, rows):
        key = Point.from_row(row).key()
        ours = done.get(key) is row or (key not in done and key not in planned_keys)
        if ours and key not in seen:
            kept.append(line)
            seen.add(key)
        else:
            dropped = True  # to be run again, or a duplicate: its new row replaces it
    return done, kept, dropped


def _create(path):
    """A fresh file holding only the header (replacing any old one atomically)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"--out {path}: {path.parent} is not a folder") from None
    except OSError as e:
        raise UserError(f"--out {path}: cannot write ({e.strerror or e})") from None
    write_text(path, HEADER)
