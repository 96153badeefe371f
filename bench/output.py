"""Output files of every command: checked before the work, never half-written, one-line errors.

What an output path may be: a regular file or a new name, in a folder that can be written.
Refused, with one line naming it and nothing written: an empty name, a name ending in a slash,
a folder, a FIFO, a device or a socket, a name with a control character (a newline would break
the CSV that records it) or not valid UTF-8, a name or path longer than the file system takes.

Symlinks are followed on purpose: a link to a regular file is written through (its target gets
the new content, the link stays a link); a link to a missing file is refused, so that nothing is
created somewhere the user did not name.

Files a command writes whole (fits, figures, reports, a rewritten results file, a series'
pyperf JSON) go through write_atomic: written to a temporary name beside the target, flushed to
disk, then renamed over it, so the target is always either the old file or the complete new one.
Files that grow a row at a time (the sweep's results, train's epochs) use append_line: one
system call per row, and a short write (a full disk) is cut back, so every row there is whole.
Every OSError while writing becomes a UserError: one line, exit status 2.
"""

import contextlib
import errno
import os
import re
import resource
import secrets
import stat
from pathlib import Path

from bench.errors import UserError

# a name must leave room for what gradbench derives from it: <out>.pyperf, <name>.fits.csv,
# <name>-vs-forward.svg
RESERVED = 16
KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
         stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def _why(e):
    if e.errno == errno.EFBIG and size_limit() is not None:  # not the disk: the process's limit
        return f"File too large: the file size limit, ulimit -f, is {size_limit()} bytes"
    return e.strerror or str(e)


def size_limit():
    """The largest file this process may write (RLIMIT_FSIZE, `ulimit -f`), or None: no limit."""
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def check_size_limit(path, need, label):
    """Refuse, before writing, `need` bytes more than `path` holds where the size limit is lower."""
    limit = size_limit()
    have = path.stat().st_size if path.is_file() else 0
    if limit is not None and have + need > limit:
        raise UserError(f"{label}: the file size limit, ulimit -f, is {limit} bytes, and this "
                        f"needs {have + need} or more: raise it (ulimit -f unlimited)")


def kind(path):
    """What `path` is, in words, for a message: None where it does not exist."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(st.st_mode):
        if not os.path.exists(path):  # dangling, or a loop
            return f"a symlink to a missing file, {os.path.realpath(path)}"
        st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return KINDS.get(stat.S_IFMT(st.st_mode), "of another kind")


def check_name(text, label=None):
    """Refuse, from the text alone, a path no command should write: UserError naming it `label`."""
    text = os.fspath(text)
    label = label or text
    if text == "":
        raise UserError(f"{label}: empty path")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UserError(f"{label}: cannot write (a control character, such as a newline, in the "
                        "name)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{label}: cannot write (the name is not valid UTF-8)") from None
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise UserError(f"{label}: cannot write (it names a folder, not a file)")


def _name_max(folder):
    """NAME_MAX and PATH_MAX of the nearest existing folder at or above `folder`."""
    folder = Path(folder).absolute()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX"), os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError):
        return 255, 4096


def _check_length(out, label, reserve=RESERVED):
    """Refuse a name or path the file system will not take (ENAMETOOLONG), with `reserve` bytes
    of room for the names gradbench derives from it (none for a derived name itself)."""
    name_max, path_max = _name_max(out.parent)
    *folders, name = out.absolute().parts
    for part in folders:
        if len(os.fsencode(part)) > name_max:
            raise UserError(f"{label}: cannot write (a folder name longer than this file system "
                            f"takes, {name_max} bytes)")
    size = len(os.fsencode(name))
    if size > name_max - reserve:
        room = f", and gradbench needs {reserve} of them for the files it names after it"
        raise UserError(f"{label}: cannot write (a name of {size} bytes; this file system takes "
                        f"{name_max}{room if reserve else ''})")
    if len(os.fsencode(out.absolute())) > path_max - reserve:
        raise UserError(f"{label}: cannot write (the path is longer than this file system takes, "
                        f"{path_max} bytes)")


def parent_is_a_file(out, label):
    """The message for a path under a file: names the file."""
    parent = next((p for p in Path(out).parents if p.exists() and not p.is_dir()), Path(out).parent)
    return f"{label}: cannot write (a parent of it is a file: {parent} is not a folder)"


def target(out, label=None, reserve=RESERVED):
    """The regular file to write for `out` (a symlink resolved), or UserError: see the module
    docstring.

    reserve: the bytes of the name left for the names derived from it (0 for a derived name itself).
    """
    check_name(out, label)
    out = Path(out)
    label = label or str(out)
    _check_length(out, label, reserve)
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return out
    except NotADirectoryError:
        raise UserError(parent_is_a_file(out, label)) from None
    except OSError as e:  # ELOOP, EACCES
        raise UserError(f"{label}: cannot write ({_why(e)})") from None
    if stat.S_ISLNK(st.st_mode):
        real = Path(os.path.realpath(out))
        if not real.exists():
            raise UserError(f"{label}: cannot write (it is a symlink to a missing file, {real})")
        _check_length(real, label, reserve)
        st = os.stat(real)
        out = real
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{label}: cannot write (it is a folder)")
    if not stat.S_ISREG(st.st_mode):
        kind = KINDS.get(stat.S_IFMT(st.st_mode), "of another kind")
        raise UserError(f"{label}: cannot write (it is {kind}, not a regular file)")
    return out


def temporary(out):
    """A fresh temporary name beside out, short whatever out's length, unique to this process."""
    return out.with_name(f".gradbench-{os.getpid()}-{secrets.token_hex(4)}.tmp")


TEMPORARY = re.compile(r"\.gradbench-(\d+)-[0-9a-f]{8}\.tmp")


def remove_stale_temporaries(folder):
    """Delete the temporary files in `folder` whose process is gone (killed by SIGKILL or a power
    cut before it could rename or remove them); a live process's are left alone."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = TEMPORARY.fullmatch(entry.name)
            if match and not _alive(int(match[1])) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process, or no pid at all: leave it
        return True
    return True


def check_writable(out, label=None, reserve=RESERVED):
    """Check out and its folder before any work, making the folder: the file to write.

    A symlink is resolved."""
    label = label or str(out)
    real = target(out, label, reserve)
    tmp = temporary(real)
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        tmp.touch()
    except (FileExistsError, NotADirectoryError):
        raise UserError(parent_is_a_file(real, label)) from None
    except OSError as e:
        raise UserError(f"{label}: cannot write ({_why(e)})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return real


def sync_folder(folder):
    """fsync a folder, so a rename in it survives a power cut (a no-op where folders can't open)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(out, write):
    """Call write(tmp), fsync tmp, then move it over out: out is whole or untouched (UserError if
    not writable).

    Its name was checked as a choice (with room for derived names) where it was chosen, if it was.
    """
    real = target(out, str(out), reserve=0)
    tmp = temporary(real)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(real)
        sync_folder(real.parent)
    except OSError as e:
        raise UserError(f"{out}: cannot write ({_why(e)})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # only left when write or replace failed
    return Path(out)


def write_text(out, text):
    """write_atomic of a text file (UTF-8, newlines as given)."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    return write_atomic(out, write)


def append_line(fd, data, label, sync=True):
    """Append bytes in one write, all or nothing; a short or failed one is cut back (UserError)."""
    start = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
        # a short write (the disk filled up mid-row, or the file size limit): the rest, so that the
        # kernel names the cause (ENOSPC, EFBIG); a rare success leaves the row whole
        rest = len(data) - written
        if rest and (written == 0 or os.write(fd, data[written:]) != rest):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if sync:
            os.fsync(fd)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)  # the rows before stay whole; no torn row is left
        raise UserError(f"{label}: cannot write ({_why(e)}); the rows before are "
                        "complete") from None
