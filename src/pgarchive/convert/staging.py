"""Atomic output: the archive is written to a temporary file or folder beside its destination
and renamed over it only when complete (and verified, if asked), so an interrupted or
failed convert leaves nothing behind -- and the source is never written to.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from ..errors import UsageError
from ..format.constants import TOC_FILES

PREFIX = ".pgarchive-convert-"


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _is_directory_archive(path: str) -> bool:
    return any(os.path.isfile(os.path.join(path, n))
               for n in TOC_FILES.values())


def destination(src: str, dst: str, kind: str, force: bool) -> str:
    """The real path to write to (through a symbolic link), after refusing what would
    touch the source or overwrite something unasked."""
    if dst in ("", "-"):
        raise UsageError("DST must be a path: a custom archive needs a seekable file for its "
                         "data offsets, and the output is renamed into place when complete")
    real_src, real_dst = _real(src), _real(dst)
    if real_src == real_dst or (os.path.exists(dst) and os.path.exists(src)
                                and os.path.samefile(src, dst)):
        raise UsageError("SRC and DST are the same archive: convert never writes to its "
                         "source; name another destination", path=dst)
    if os.path.isdir(real_src) and _inside(real_dst, real_src):
        raise UsageError("DST is inside the source directory archive; convert never writes "
                         "to its source", path=dst)
    if os.path.isdir(real_dst) and _inside(real_src, real_dst):
        raise UsageError("DST is a folder that holds the source archive", path=dst)
    parent = os.path.dirname(real_dst)
    if not os.path.isdir(parent):
        raise UsageError(f"folder {parent} does not exist", path=dst)
    if os.path.lexists(real_dst):
        if kind == "directory":
            if not os.path.isdir(real_dst):
                raise UsageError("DST exists and is not a folder", path=dst)
            if os.listdir(real_dst):
                if not force:
                    raise UsageError("DST is a folder that is not empty (pg_dump -Fd also "
                                     "refuses); --force replaces a directory archive",
                                     path=dst)
                if not _is_directory_archive(real_dst):
                    raise UsageError("DST is a folder that is not a directory archive; "
                                     "--force replaces only archives", path=dst)
        else:
            if not os.path.isfile(real_dst):
                raise UsageError("DST exists and is not a regular file", path=dst)
            if not force:
                raise UsageError("DST exists; --force replaces it", path=dst)
    return real_dst


@contextlib.contextmanager
def staged(dst: str, kind: str, sync: bool = True) -> Iterator[str]:
    """A temporary file (or folder, for a directory archive) next to ``dst``; renamed to
    ``dst`` when the block ends normally, deleted when it raises."""
    parent = os.path.dirname(dst)
    try:
        if kind == "directory":
            tmp = tempfile.mkdtemp(prefix=PREFIX, dir=parent)  # 0700, as pg_dump's mkdir
        else:
            fd, tmp = tempfile.mkstemp(prefix=PREFIX, suffix=".partial", dir=parent)
            os.close(fd)
    except OSError as e:
        raise UsageError(f"cannot write in {parent}: {e.strerror}", path=dst) from None
    try:
        yield tmp
        if kind == "directory":
            if sync:
                _sync_tree(tmp)
            _replace_folder(tmp, dst)
        else:
            if sync:
                _fsync(tmp)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # as a file pg_dump creates
            os.replace(tmp, dst)
        if sync:
            _fsync_dir(parent)
    except BaseException:
        with contextlib.suppress(OSError):
            if os.path.isdir(tmp) and not os.path.islink(tmp):
                shutil.rmtree(tmp)
            else:
                os.unlink(tmp)
        raise


def _replace_folder(tmp: str, dst: str) -> None:
    """Rename the new folder into place; an old archive folder (--force) is moved aside
    first and deleted after."""
    if os.path.isdir(dst) and os.listdir(dst):
        old = tempfile.mkdtemp(prefix=PREFIX + "old-", dir=os.path.dirname(dst))
        os.rmdir(old)
        os.rename(dst, old)
        try:
            os.rename(tmp, dst)
        except BaseException:
            os.rename(old, dst)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(tmp, dst)  # an empty folder is replaced atomically


def _fsync(path: str) -> None:
    """fsync a file or a folder (whose entries a rename changes)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        _fsync(path)


def _sync_tree(folder: str) -> None:
    for name in os.listdir(folder):
        _fsync(os.path.join(folder, name))
    _fsync_dir(folder)
