"""Output files of fit, plot and report: checked before the work, never half-written, one-line errors."""

import contextlib
from pathlib import Path

from bench.errors import UserError


def _tmp(out):
    """The temporary file beside out that is written first and then moved over it."""
    return out.with_name(out.name + ".tmp")


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
    """Call write(tmp), then move tmp over out: out is whole or untouched, even on Ctrl-C (UserError if not writable)."""
    out = Path(out)
    tmp = _tmp(out)
    try:
        write(tmp)
        tmp.replace(out)
    except OSError as e:
        raise UserError(f"{out}: cannot write ({e.strerror or e})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # only left when write or replace failed
    return out
