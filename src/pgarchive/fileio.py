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
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from .errors import ArchiveError, UsageError


def current_umask() -> int:
    """The process umask (read by setting it and putting it back: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or pieces of it) to ``path`` as :func:`output_stream` does."""
    with output_stream(path) as f:
        for piece in [data] if isinstance(data, bytes) else data:
            f.write(piece)


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[BinaryIO]:
    """A binary stream that writes ``path``: standard output for None or ``-``; atomically
    (a temporary file renamed over it only once everything was written) for regular files
    and new paths, so a failure leaves no half-written file; through the node for devices,
    FIFOs and symlinks' targets.  For output too big to hold in memory."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        with _replacing(path, None) as f:
            yield f
        return
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        try:
            target = os.stat(path)
        except FileNotFoundError:  # a dangling link: create what it points to
            with _replacing(real, None, shown=path) as f:
                yield f
            return
        except OSError as e:
            raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
        # /dev/stdout and /proc/self/fd/N name an open file, not a place in a folder.
        if stat.S_ISREG(target.st_mode) and not real.startswith("/proc/"):
            with _replacing(real, target, shown=path) as f:
                yield f
        else:
            with _writing_through(path, target) as f:
                yield f
        return
    if stat.S_ISREG(st.st_mode):
        with _replacing(path, st) as f:
            yield f
    else:
        with _writing_through(path, st) as f:
            yield f


@contextlib.contextmanager
def _writing_through(path: str, st: os.stat_result) -> Iterator[BinaryIO]:
    """Open the existing node and write into it (fopen "w", as pg_restore -f does)."""
    if stat.S_ISDIR(st.st_mode):
        raise UsageError("is a directory, expected a file name", path=path)
    if stat.S_ISSOCK(st.st_mode):
        raise UsageError("is a socket; name a file, a device or a FIFO", path=path)
    flags = os.O_WRONLY | (os.O_TRUNC if stat.S_ISREG(st.st_mode) else 0)
    try:
        f = os.fdopen(os.open(path, flags), "wb")
    except OSError as e:
        raise UsageError(f"cannot write: {e.strerror or e}", path=path) from None
    try:
        yield f
        f.flush()
    except OSError as e:
        if e.errno == errno.EPIPE:
            raise
        raise UsageError(f"cannot write: {e.strerror or e}", path=path) from None
    finally:
        # After a failed write the buffer still holds what did not fit; closing would try
        # it again and replace the error reported above with a bare OSError.
        with contextlib.suppress(OSError):
            f.close()


@contextlib.contextmanager
def _replacing(path: str, old: os.stat_result | None, shown: str | None = None
               ) -> Iterator[BinaryIO]:
    """A temporary file beside ``path``, renamed over ``path`` once written: a new file
    gets the mode a plain open() would give it, a replaced one keeps its mode and owner."""
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
            yield f
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


def read_limited(path: str, limit: int, what: str, size: int = 1 << 20) -> Iterator[bytes]:
    """A file given by the user (a list or filter file) in chunks, refused past ``limit``
    bytes (a FIFO is counted as it is read) rather than read whole; ``what`` names it in
    the error."""
    from .limits import size_text

    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > limit:
                raise ArchiveError(f"{what} of {st.st_size} bytes is larger than the limit of "
                                   f"{size_text(limit)} (see README, Limits)", path=path)
            total = 0
            while chunk := f.read(size):
                total += len(chunk)
                if total > limit:
                    raise ArchiveError(f"{what} is larger than the limit of "
                                       f"{size_text(limit)} (see README, Limits)", path=path)
                yield chunk
    except OSError as e:
        raise ArchiveError(e.strerror or str(e), path=path) from None


def text_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """The text lines of a file read in chunks (decoded as UTF-8, any byte kept)."""
    carry = b""
    for chunk in chunks:
        parts = (carry + chunk).split(b"\n")
        carry = parts.pop()
        for line in parts:
            yield line.decode("utf-8", "surrogateescape")
    if carry:
        yield carry.decode("utf-8", "surrogateescape")
