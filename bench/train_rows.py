"""`gradbench train`'s rows file: each epoch's row appended whole as it comes, the file named --out only at the end."""

import contextlib
import csv
import io
import os

from bench import output
from bench.errors import UserError


class RowWriter:
    """Rows to a CSV file as they come, each one whole (a no-op without a path).

    They go to a temporary file beside `path`, which takes its name when the run ends, however it
    ends, once its header is there: an old file is replaced only by complete rows.
    """

    def __init__(self, path, label, columns):
        self.path, self.label, self.columns, self.fd = path, label, columns, None

    def __enter__(self):
        if self.path is not None:
            self.tmp = output.temporary(self.path)
            try:
                self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o644)
                self._line(dict(zip(self.columns, self.columns)))  # the header
            except BaseException as e:
                self._discard()
                if isinstance(e, OSError):
                    raise UserError(f"{self.label}: cannot write ({e.strerror or e})") from None
                raise
        return self

    def __call__(self, row):
        if self.fd is not None:
            self._line(row)

    def _line(self, row):
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n").writerow(row)  # floats as repr
        output.append_line(self.fd, buffer.getvalue().encode(), self.label, sync=False)

    def _discard(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)

    def __exit__(self, *exc):
        if self.fd is None:
            return
        try:
            os.fsync(self.fd)
            os.replace(self.tmp, self.path)
            output.sync_folder(self.path.parent)
        except OSError as e:
            if exc[0] is None:  # else the error already on its way says what went wrong first
                raise UserError(f"{self.label}: cannot write ({e.strerror or e})") from None
        finally:
            self._discard()
