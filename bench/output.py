"""Output files of every stage: checked before the work, never half-written, one-line errors.

Every file a command writes whole (fits, figures, reports, a rewritten results file, a point's
pyperf JSON) goes through write_atomic: it is written to a temporary name beside its target,
flushed to disk, and renamed over the target, so the target is always either the old file or the
complete new one, even on Ctrl-C or a kill. The temporary name carries this process's id, so
two processes never share one.
"""

import contextlib
import os
from pathlib import Path

from bench.errors import UserError


def _tmp(out):
    """The temporary file beside out that is written first and then moved over it."""
    return out.with_name(f".{out.name}.tmp{os.getpid()}")


def check_writable(out):
    """Make out's folder and try a file beside out, so a bad path fails before any work (UserError)."""
    out = Path(out)
    if out.is_dir():
        raise UserError(f"{out}: cannot write (it is a folder)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _tmp(out).touch()
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{out}: cannot write (a parent of it is a file, not a folder)") from None
    except OSError as e:
        raise UserError(f"{out}: cannot write ({e.strerror or e})") from None
    finally:
        with contextlib.suppress(OSError):
            _tmp(out).unlink(missing_ok=True)


def write_atomic(out, write):
    """Call write(tmp), fsync tmp, then move it over out: out is whole or untouched (UserError if not writable)."""
    out = Path(out)
    tmp = _tmp(out)
    try:
        tmp.unlink(missing_ok=True)  # a writer that refuses to overwrite (pyperf -o) still works
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(out)
    except OSError as e:
        raise UserError(f"{out}: cannot write ({e.strerror or e})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # only left when write or replace failed
    return out


def write_text(out, text):
    """write_atomic of a text file (UTF-8, newlines as given)."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    return write_atomic(out, write)
