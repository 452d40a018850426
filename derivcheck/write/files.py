"""Writing files so that nothing is lost and nothing lands outside its folder.

* :func:`write_atomic` writes a temporary file beside the target and renames it over the
  target: a full disk or a kill leaves the old file (or none) whole, never half a file.
* :func:`same_file` tells whether two paths name one file, by any path (symlinks, ``./``,
  hard links).
* :func:`file_in` maps a name a user chose (a network's name in a question file) to a file
  name inside a folder, never outside it.

Every failure is an :class:`~derivcheck.errors.OutputError` that says which file could not
be written and why (exit 2), never a traceback.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_atomic(d / "a.txt", "hello").read_text()
'hello'
>>> same_file(d / "a.txt", d / "." / "a.txt")
True
>>> file_in(d, "sheet-", "../../etc/X", ".pdf").name
'sheet-.._.._etc_X.pdf'
"""
from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from ..errors import OutputError

__all__ = ["write_atomic", "same_file", "file_in", "safe_name", "output_error",
           "check_writable"]

#: Characters kept in a file name made from a user's name; the rest become ``_``.
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
#: Longest file name made from a user's name (most file systems allow 255 bytes).
MAX_NAME = 100


def output_error(path, exc: OSError, *, kept: str = "") -> OutputError:
    """The error for an ``OSError`` raised while writing ``path``.

    >>> import errno
    >>> print(output_error("out/a.pdf", OSError(errno.ENOSPC, "No space left on device")))
    error: cannot write 'out/a.pdf': No space left on device
    hint: free some space (or choose another folder) and run the command again
    """
    reason = exc.strerror or type(exc).__name__
    hints = {"ENOSPC": "free some space (or choose another folder) and run the command again",
             "EDQUOT": "free some space (or choose another folder) and run the command again",
             "EACCES": "choose a folder you may write to",
             "EROFS": "the file system is read-only: choose another folder",
             "EISDIR": "give a file name, not a folder",
             "ENOENT": "create the folder first, or choose one that exists"}
    hint = hints.get(errno.errorcode.get(exc.errno or 0, ""), "choose another output path")
    return OutputError(f"cannot write {str(path)!r}: {reason}{kept}", hint=hint)


def check_writable(path) -> Path:
    """Refuse, before any work, an output path that cannot be written: a folder, a path
    under a file, or a folder (or its nearest existing ancestor) that is not writable.

    >>> check_writable("/")
    Traceback (most recent call last):
    derivcheck.errors.OutputError: error: cannot write '/': it is a folder
    hint: give a file name, not a folder
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: it is a folder",
                          hint="give a file name, not a folder")
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: {str(folder)!r} is not a folder",
                          hint="choose an output path in a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {str(path)!r}: {str(folder)!r} is not writable",
                          hint="choose a folder you may write to")
    return path


def write_atomic(path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed over it; returns the
    path (creating its folder). On any failure the temporary file is removed and ``path``
    is as it was. A path that names a character device or a pipe (``/dev/stdout``,
    ``/dev/null``, a named pipe) is written straight, never replaced."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: it is a folder",
                          hint="give a file name, not a folder")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode
    except OSError:   # nothing there yet
        mode = 0
    tmp = None
    try:
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            with open(path, "wb") as fh:
                fh.write(raw)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:50]}.", suffix=".tmp",
                                   dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def same_file(a, b) -> bool:
    """Whether ``a`` and ``b`` are one file (same device and inode, or the same real
    path); False when either does not exist yet and their real paths differ."""
    try:
        sa, sb = os.stat(a), os.stat(b)
        if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
            return True
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def safe_name(name: str) -> str:
    """``name`` as a harmless file name part: letters, digits, ``. _ + -`` kept, the rest
    ``_``; never empty, never only dots, at most :data:`MAX_NAME` characters.

    >>> safe_name("three_layer"), safe_name("a/b"), safe_name(".."), safe_name("")
    ('three_layer', 'a_b', '_..', '_')
    """
    name = _UNSAFE.sub("_", name)[:MAX_NAME]
    return "_" + name if not name.strip(".") else name


def file_in(folder, prefix: str, name: str, suffix: str) -> Path:
    """``folder / (prefix + safe_name(name) + suffix)``, checked to lie inside ``folder``."""
    folder = Path(folder)
    path = folder / f"{prefix}{safe_name(name)}{suffix}"
    if os.path.dirname(os.path.abspath(path)) != os.path.abspath(folder):
        raise OutputError(f"the name {name!r} cannot be a file name in {str(folder)!r}")
    return path
