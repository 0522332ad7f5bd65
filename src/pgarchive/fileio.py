"""Writing output files safely: a temporary file in the same folder, then a rename, so an
interrupted command never leaves a half-written list file or manifest behind."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from .errors import UsageError


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` as :func:`output_stream` does (a device such as
    /dev/null is written through, never replaced by a regular file)."""
    with output_stream(path) as f:
        f.write(data)


@contextlib.contextmanager
def output_stream(path: str) -> Iterator[BinaryIO]:
    """A binary stream to write ``path`` through, for output too big to hold in memory.

    A regular file (or a new one) is written to a temporary file beside it and renamed
    over it only when the writing succeeded; a device, FIFO or symlink is written through
    (``/dev/null``, ``>(gzip > x)``, a link the user made on purpose).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError("is a directory, expected a file name", path=path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            f = open(path, "wb")  # noqa: SIM115 -- closed below
        except OSError as e:
            raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
        with f:
            yield f
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pgarchive-", dir=folder)
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
