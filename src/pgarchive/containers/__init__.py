"""Where an archive's bytes live: detect the container and open it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import ArchiveError, NotAnArchiveError
from ..format.constants import MAGIC
from .base import Container, EntryData, Finding, LargeObjectStream, StoredStream
from .custom import CustomContainer
from .source import ByteSource, FileSource, MemorySource
from .spool import readable_path

if TYPE_CHECKING:  # loaded on first use: a custom archive's `ls` needs neither (start-up)
    from .directory import DirectoryContainer
    from .tar import TarContainer

__all__ = ["ByteSource", "Container", "CustomContainer", "DirectoryContainer", "EntryData",
           "FileSource", "Finding", "LargeObjectStream", "MemorySource", "StoredStream",
           "TarContainer", "converted_to_crlf", "open_container", "readable_path"]

_TEXT_DUMP = (b"--\n-- PostgreSQL database dump\n--\n\n",
              b"--\n-- PostgreSQL database cluster dump\n--\n\n")


def open_container(path: str) -> Container:
    """Open ``path`` as a custom, directory or tar archive, detected as pg_restore does."""
    try:
        real = readable_path(path)  # standard input, a pipe, a .gz/.zst/...: a local copy
        if os.path.isdir(real):
            from .directory import DirectoryContainer

            return DirectoryContainer(real)
        source = FileSource(real, name=path)
        head = b"".join(source.stream(0, 512))
    except ArchiveError:
        raise
    except OSError as e:
        raise ArchiveError(e.strerror or str(e), path=path) from None
    try:
        return _container_of(source, head)
    except BaseException:
        source.close()
        raise


def _container_of(source: ByteSource, head: bytes) -> Container:
    """The container a file's first 512 bytes say it is, reading it through ``source``."""
    path = source.name
    if head.startswith(MAGIC):
        return CustomContainer(source)
    if not head:
        raise NotAnArchiveError("file is empty", path=path)
    if any(head.startswith(t) for t in _TEXT_DUMP):
        raise NotAnArchiveError("input file appears to be a text format dump; use psql to "
                                "restore it", path=path)
    if len(head) == 512 and _is_tar_header(head):
        from .tar import TarContainer

        return TarContainer(source)
    raise NotAnArchiveError("input file does not appear to be a valid archive", path=path)


def _is_tar_header(block: bytes) -> bool:
    import tarfile

    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return block[257:263] in (b"ustar\x00", b"ustar ") or block[257:265] == b"ustar00\x00"


def converted_to_crlf(path: str | None) -> bool:
    """Whether a file that failed to read looks like an archive whose line feeds were all
    turned into CR LF (git's text conversion, FTP in ASCII mode): its header and TOC hold
    many line feeds (the SQL of each entry), and in such a copy every one follows a CR."""
    if not path:
        return False
    if os.path.isdir(path):
        path = os.path.join(path, "toc.dat")
    try:
        with FileSource(path) as f:
            head = b"".join(f.stream(0, 1 << 20))
    except (OSError, ArchiveError):  # not a file to look into
        return False
    lf = head.count(b"\n")
    return lf >= 4 and head.count(b"\r\n") == lf


def __getattr__(name: str) -> Any:
    """DirectoryContainer and TarContainer, imported when first named."""
    if name == "DirectoryContainer":
        from .directory import DirectoryContainer

        return DirectoryContainer
    if name == "TarContainer":
        from .tar import TarContainer

        return TarContainer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
