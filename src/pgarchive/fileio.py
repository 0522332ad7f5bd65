"""Writing output files safely: a temporary file in the same folder, then a rename, so an
interrupted command never leaves a half-written list file or manifest behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable

from .errors import UsageError


def atomic_write(path: str, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or pieces of it) to ``path`` through a temporary file."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError("is a directory, expected a file name", path=path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pgarchive-", dir=folder)
    except OSError as e:
        raise UsageError(f"cannot write here: {e.strerror}", path=path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            for piece in [data] if isinstance(data, bytes) else data:
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
