"""The sweep's results file: one writer, append-only, one whole line per row, safe to kill anytime.

One writer: the sweep holds an advisory lock (fcntl.flock) on the file from before it reads,
truncates or writes anything until it ends, so a second sweep on the same file is refused with
one line (after waiting LOCK_WAIT_S: a sweep killed as it started a child leaves the lock with the
child for the moment it takes to close the descriptor). A file that is replaced (--force, or a
--resume that drops rows) is replaced by a new file that is locked before it takes the name, and
a sweep that locked a file which meanwhile lost its name locks the new one instead, so the lock
always goes with the name.

Each row is written with a single os.write of the whole line, then fsync'd, so a Ctrl-C or a
kill leaves only complete rows, and a full disk cuts the short row back (bench.output.append_line).
Rows are never edited in place. --resume keeps the rows whose status is ok and drops the others
of the points about to be run again, so the file never holds two rows for one point; readers
refuse a file that does (bench.results).
"""

import csv
import errno
import fcntl
import io
import os
import stat
import time
from pathlib import Path

from bench import output
from bench.errors import UserError
from bench.results import parse_row, read_results
from bench.schema import NAMES
from bench.sweep.points import Point

HEADER = ",".join(NAMES) + "\n"
OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
LOCK_WAIT_S = 0.5  # how long a held lock is waited for before the sweep is refused


def format_row(row):
    """One CSV line (with its newline) of a row dict; missing columns are empty."""
    buffer = io.StringIO()
    cells = ["" if row.get(n) is None else row[n] for n in NAMES]
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


class ResultsFile:
    """An open, locked results CSV: `write(row)` appends one durable line; `close()` unlocks it."""

    def __init__(self, path, fd, done, label):
        self.path, self._fd, self.label = Path(path), fd, label
        self.done = done  # {point key: row dict} of the ok rows already in the file

    def write(self, row):
        """Append one row as one complete line, flushed to disk before returning."""
        output.append_line(self._fd, format_row(row).encode(), self.label)

    def close(self):
        os.close(self._fd)  # releases the lock

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_results(path, planned_keys, resume=False, force=False):
    """Open and lock --out for `planned_keys`: new, resumed (--resume) or restarted (--force).

    Raises UserError, before changing any file, for an existing file without --resume or
    --force, a file of another schema, a file another sweep is writing, or a path that
    cannot be written.
    """
    label = f"--out {path}"
    if resume and force:
        raise UserError("--resume and --force contradict each other: choose one")
    output.check_name(path, label)
    if Path(path).is_dir():
        raise UserError(f"--out {path}: is a directory")
    real = output.target(path, label)  # a symlink: the file it points to
    if real.is_file() and real.stat().st_size > 0 and not (resume or force):  # before any lock
        raise UserError(f"--out {path} already exists: add --resume to continue it "
                        "or --force to start afresh")
    _make_folder(real, path)
    output.remove_stale_temporaries(real.parent)  # a killed sweep's rewrite, a killed fit's file
    existed = real.exists()
    fd = _open_locked(real, label)
    try:
        text = _read(fd, path)
        done = {}
        if not text:  # new, or killed before its header
            try:
                output.append_line(fd, HEADER.encode(), label)
            except UserError:
                if not existed:
                    # made by us, and empty: no trace of a sweep that could not start
                    real.unlink(missing_ok=True)
                raise
        elif not (resume or force):  # written meanwhile by a sweep that has now finished
            raise UserError(f"--out {path} already exists: add --resume to continue it "
                            "or --force to start afresh")
        elif force:
            fd = _replace_locked(real, HEADER, fd, label)
        else:
            done, lines, dropped = _resumable(path, text, set(planned_keys))
            if dropped:
                fd = _replace_locked(real, HEADER + "".join(lines), fd, label)
    except BaseException:
        os.close(fd)
        raise
    return ResultsFile(real, fd, done, label)


def _make_folder(real, path):
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(output.parent_is_a_file(real, f"--out {path}")) from None
    except OSError as e:
        raise UserError(f"--out {path}: cannot write ({e.strerror or e})") from None


def _open_locked(real, label):
    """Open (creating it if new) and lock the file that has the name `real` now: the locked fd."""
    # each retry means another sweep replaced the file meanwhile: it then holds it
    for _ in range(100):
        try:
            fd = os.open(real, OPEN_FLAGS, 0o644)
        except OSError as e:
            raise UserError(f"{label}: cannot write ({e.strerror or e})") from None
        try:
            _lock(fd)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UserError(f"{label}: another gradbench sweep is writing it "
                                "(it holds the file's lock); "
                                "wait for it to end or choose another --out") from None
            raise UserError(f"{label}: cannot lock it ({e.strerror or e}), "
                            "so two sweeps could write it at once; "
                            "choose an --out on another file system") from None
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped in since bench.output.target looked
            os.close(fd)
            raise UserError(f"{label}: cannot write (not a regular file)")
        try:
            now = os.stat(real)
        except OSError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (opened.st_dev, opened.st_ino):
            os.set_blocking(fd, True)
            return fd
        os.close(fd)  # the name now belongs to a newer file: lock that one
    raise UserError(f"{label}: the file keeps being replaced by another process")


def _lock(fd):
    """flock(fd) exclusively, waiting up to LOCK_WAIT_S for a holder to let go (OSError if none
    does): a child whose start a kill -9 interrupted holds a copy of the sweep's descriptor until
    it closes it, milliseconds later, and a --resume right after the kill would meet it."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _read(fd, path):
    """The whole file as text (from the locked descriptor, not the name)."""
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not a CSV file ({e})") from None


def _replace_locked(real, text, old_fd, label):
    """Replace the file by one holding `text`, locked before it takes the name; old_fd is closed."""
    tmp = output.temporary(real)
    fd = os.open(tmp, OPEN_FLAGS | os.O_EXCL, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new name nobody else knows: never blocks
        os.set_blocking(fd, True)
        output.append_line(fd, text.encode(), label)
        os.replace(tmp, real)
    except BaseException as e:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise UserError(f"{label}: cannot write ({e.strerror or e})") from None
        raise
    output.sync_folder(real.parent)
    os.close(old_fd)
    return fd


def _resumable(path, text, planned_keys):
    """The ok rows to keep (as Python values), every kept line, and whether to rewrite the file.

    Read as fit reads it (bench.results.read_results): a BOM or CRLF line endings are taken, and
    the file rewritten without them; a last row without its newline is kept when the reader takes
    it, and dropped as torn (a power cut mid-write) only when it is not a whole row.
    """
    body = text.removeprefix("\ufeff")
    records, tail, crlf = _split(body)
    if not records and tail:  # a header alone, without its newline
        records, tail = [tail], ""
    lines = [record + "\n" for record in records]
    # the schema and values check of the complete rows: a UserError, and no change, for a foreign
    # file; a header alone is a sweep killed during its first point, resumed like any other;
    # duplicate points are allowed here (and only here): --resume is how a file joined by hand is
    # repaired
    read_results(path, text="".join(lines), allow_empty=True, allow_duplicates=True)
    if lines[0] != HEADER:
        raise UserError(f"--resume {path}: its columns differ from this gradbench's; "
                        "start a new file")
    if tail.strip() and _whole(path, lines, tail):
        lines.append(tail + "\n")
    # a BOM, CRLF, a last line without its newline (the next row would join it), a torn or blank
    # line: rewrite the kept lines
    dropped = body != text or crlf or not body.endswith("\n")
    fields = [next(csv.reader(io.StringIO(line, newline=""))) for line in lines[1:]]
    lines = [line for line, cells in zip(lines[1:], fields) if any(c.strip() for c in cells)]
    dropped |= len(lines) < len(fields)
    rows = [parse_row(dict(zip(NAMES, cells))) for cells in fields if any(c.strip() for c in cells)]
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


def _split(text):
    """(records, tail, crlf): the CSV records of the text, each without its line ending (a quoted
    cell's line breaks kept); what follows the last line ending; whether a record ended in CRLF."""
    pieces = text.split("\n")
    records, current, quotes, crlf = [], [], 0, False
    for piece in pieces[:-1]:
        current.append(piece)
        quotes += piece.count('"')
        if quotes % 2 == 0:  # outside quotes: the record ends here
            record = "\n".join(current)
            crlf |= record.endswith("\r")
            records.append(record.removesuffix("\r"))
            current, quotes = [], 0
    return records, "\n".join([*current, pieces[-1]]), crlf


def _whole(path, lines, tail):
    """The last line, without its newline, is a row the reader takes (else a torn one)."""
    try:
        read_results(path, text="".join(lines) + tail + "\n", allow_empty=True,
                     allow_duplicates=True)
    except UserError:
        return False
    return True
