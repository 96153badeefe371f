"""`gradbench train`'s rows file: each epoch's row appended whole as it comes, to --out from the
first row on."""

import contextlib
import csv
import io
import os
import time

from bench import output
from bench.errors import UserError


class RowWriter:
    """Rows to a CSV file as they come, each one whole (a no-op without a path).

    The header goes to a temporary file beside `path`, which takes its name with the first row (or
    when the run ends, however it ends): an old file is replaced only once a new row is whole.
    Later rows are appended to `path` itself, one write each, so a process killed at any moment
    (SIGKILL included) leaves every finished epoch there; they reach the disk (fsync) at least once
    a second and at the end. The temporaries of runs killed before their first row are removed by
    the next run writing in that folder.
    """

    SYNC_EVERY_S = 1.0

    def __init__(self, path, label, columns):
        self.path, self.label, self.columns, self.fd = path, label, columns, None
        self.named, self.synced = False, 0.0

    def __enter__(self):
        if self.path is not None:
            output.remove_stale_temporaries(self.path.parent)
            self.tmp = output.temporary(self.path)
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
                self.fd = os.open(self.tmp, flags, 0o644)
                self._line(dict(zip(self.columns, self.columns)))  # the header
            except BaseException as e:
                self._discard()
                if isinstance(e, OSError):
                    raise UserError(f"{self.label}: cannot write ({e.strerror or e})") from None
                raise
        return self

    def __call__(self, row):
        if self.fd is None:
            return
        self._line(row)
        if not self.named:
            self._name()
        elif time.monotonic() - self.synced >= self.SYNC_EVERY_S:
            self._sync()

    def _line(self, row):
        buffer = io.StringIO()
        # floats as repr
        csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n").writerow(row)
        output.append_line(self.fd, buffer.getvalue().encode(), self.label, sync=False)

    def _sync(self):
        try:
            os.fsync(self.fd)
        except OSError as e:
            raise UserError(f"{self.label}: cannot write ({e.strerror or e})") from None
        self.synced = time.monotonic()

    def _name(self):
        """The temporary file takes the name `path`; the open descriptor goes on appending to it."""
        self._sync()
        try:
            os.replace(self.tmp, self.path)
        except OSError as e:
            raise UserError(f"{self.label}: cannot write ({e.strerror or e})") from None
        self.named = True
        output.sync_folder(self.path.parent)

    def _discard(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if not self.named:
            with contextlib.suppress(OSError):
                self.tmp.unlink(missing_ok=True)

    def __exit__(self, *exc):
        if self.fd is None:
            return
        try:
            if self.named:
                self._sync()
            else:
                self._name()
        except UserError:
            if exc[0] is None:  # else the error already on its way says what went wrong first
                raise
        finally:
            self._discard()
