"""Writing output files (``ls -o``, ``verify --write-manifest``) the way a user expects.

A path that names a regular file, or nothing yet, is written atomically: a temporary file in
the same folder, then a rename, so an interrupted command never leaves a half-written list
file or manifest behind.  The new file gets the mode a plain ``open()`` would give it (the
umask applies), and a file that is replaced keeps its mode (and, where we may, its owner).

Anything else is written through, as pg_restore's ``-f`` does: a device (``/dev/null``,
``/dev/stdout``, a terminal), a FIFO, or whatever a symbolic link points to.  Renaming over
those would turn a device node or a FIFO into a regular file, or replace a symlink.  A
directory or a socket is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile

from .errors import UsageError


def current_umask() -> int:
    """The process umask (read by setting it and putting it back: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``: atomically for regular files and new paths, through the
    node for devices, FIFOs and symlinks' targets."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        _replace(path, data, None)
        return
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        try:
            target = os.stat(path)
        except FileNotFoundError:  # a dangling link: create what it points to
            _replace(real, data, None, shown=path)
            return
        except OSError as e:
            raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
        # /dev/stdout and /proc/self/fd/N name an open file, not a place in a folder.
        if stat.S_ISREG(target.st_mode) and not real.startswith("/proc/"):
            _replace(real, data, target, shown=path)
        else:
            _write_through(path, data, target)
        return
    if stat.S_ISREG(st.st_mode):
        _replace(path, data, st)
    else:
        _write_through(path, data, st)


def _write_through(path: str, data: bytes, st: os.stat_result) -> None:
    """Open the existing node and write into it (fopen "w", as pg_restore -f does)."""
    if stat.S_ISDIR(st.st_mode):
        raise UsageError("is a directory, expected a file name", path=path)
    if stat.S_ISSOCK(st.st_mode):
        raise UsageError("is a socket; name a file, a device or a FIFO", path=path)
    flags = os.O_WRONLY | (os.O_TRUNC if stat.S_ISREG(st.st_mode) else 0)
    try:
        fd = os.open(path, flags)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except OSError as e:
        raise UsageError(f"cannot write: {e.strerror or e}", path=path) from None


def _replace(path: str, data: bytes, old: os.stat_result | None, shown: str | None = None
             ) -> None:
    """Write a temporary file beside ``path`` and rename it over ``path``."""
    shown = shown or path
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pgarchive-", dir=folder)
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=shown) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if old is None:
                os.fchmod(f.fileno(), 0o666 & ~current_umask())
            else:
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
                if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(OSError):  # only root may give files away
                        os.fchown(f.fileno(), old.st_uid, old.st_gid)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES,
                                                  errno.EROFS, errno.EISDIR):
            raise UsageError(f"cannot write: {e.strerror}", path=shown) from None
        raise
