"""Writing output files safely: a temporary file in the same folder, then a rename, so an
interrupted command never leaves a half-written list file or manifest behind."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from .errors import UsageError


def atomic_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError("is a directory, expected a file name", path=path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pgarchive-", dir=folder)
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[BinaryIO]:
    """Where a streaming command writes: stdout for None or ``-``; a regular file (or a new
    one) atomically, through a temporary file renamed at the end, so a failure leaves no
    half-written file; a device, FIFO or symlink is written through (``-o /dev/null``)."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if os.path.isdir(path):
        raise UsageError("is a directory, expected a file name", path=path)
    if os.path.lexists(path) and not stat.S_ISREG(os.lstat(path).st_mode):
        with open(path, "wb") as f:
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
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
