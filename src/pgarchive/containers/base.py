"""What every container (custom file, directory, tar) offers: one view of an archive.

A container owns the I/O: it finds the header and TOC bytes, hands them to the pure
parsers, and turns a TocEntry's data location into a stream of stored chunks.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from ..compression import DEFAULT_OUT_SIZE, decompress
from ..encodings import python_codec
from ..errors import ArchiveError, NotAnArchiveError, UsageError
from ..format.constants import Compression
from ..format.toc import Buffer, parse_header, parse_toc
from ..model import Header, TocEntry


@dataclass(frozen=True, slots=True)
class LargeObjectStream:
    """One large object of a BLOBS entry: its oid and its decompressed bytes, in pieces."""

    oid: int
    chunks: Iterator[bytes]


@dataclass(frozen=True, slots=True)
class StoredStream:
    """One stored (possibly compressed) stream and where it starts, for error messages."""

    chunks: Iterator[bytes]
    offset: int | None
    path: str


def read_header_and_toc(
    buf: Buffer, start: int, end: int, extra: str
) -> tuple[Header, list[TocEntry], int, str]:
    """Parse header and TOC; decode strings in the archive's own encoding.

    Names are decoded as UTF-8 first (pg_dump puts the ENCODING entry first, and it is
    ASCII); if the archive declares another encoding that Python knows, the TOC is read
    again with it.  Returns header, entries, end of TOC, and the Python codec used.
    """
    header = parse_header(buf, start, end)
    entries, toc_end = parse_toc(buf, header, extra, end)
    codec = "utf-8"
    for e in entries:
        if e.desc == "ENCODING":
            codec = python_codec(e.defn or "")
            break
    if codec != "utf-8":
        entries, toc_end = parse_toc(buf, header, extra, end, encoding=codec)
    return header, entries, toc_end, codec


def release_pages(buf: Buffer, start: int, end: int) -> None:
    """Drop the pages of a read-only map between start and end from memory (they are
    read again from the file if needed), so streaming a big archive keeps RSS flat."""
    if not isinstance(buf, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return
    first = (start // mmap.PAGESIZE + 1) * mmap.PAGESIZE
    last = (end // mmap.PAGESIZE) * mmap.PAGESIZE
    if last > first:
        with contextlib.suppress(OSError, ValueError):
            buf.madvise(mmap.MADV_DONTNEED, first, last - first)


def map_file(f: BinaryIO, path: str) -> Buffer:
    """A read-only memory map of an open file (bytes for an empty one)."""
    size = os.fstat(f.fileno()).st_size
    if size == 0:
        raise NotAnArchiveError("file is empty", path=path)
    return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


class Container(ABC):
    """One archive's header, TOC and data, whatever its container format."""

    kind: ClassVar[str]  # "custom", "directory" or "tar": what pg_restore -l calls Format

    def __init__(self, path: str) -> None:
        self.path = path
        self.header: Header
        self.entries: list[TocEntry]
        self.codec = "utf-8"
        self._closers: list[object] = []

    @property
    def format_name(self) -> str:
        """CUSTOM, DIRECTORY or TAR, as pg_restore -l prints it."""
        return self.kind.upper()

    @property
    def can_seek_data(self) -> bool:
        """Whether data can be read in any order (what parallel restore needs)."""
        return True

    @abstractmethod
    def stored_size(self, entry: TocEntry) -> int | None:
        """The bytes the entry's data takes in the archive, when known without reading it."""

    @abstractmethod
    def stored_streams(self, entry: TocEntry) -> Iterator[tuple[int | None, StoredStream]]:
        """The entry's stored streams: one (None, stream) for table data; (oid, stream) for
        each large object of a BLOBS entry."""

    def data_area_size(self) -> int | None:
        """Bytes of stored data in all, without reading any of it."""
        sizes = [self.stored_size(e) for e in self.entries if e.has_data]
        return None if None in sizes else sum(s for s in sizes if s is not None)

    def gzip_files(self) -> bool:
        """Whether gzip streams are gzip files (directory) rather than zlib (custom)."""
        return False

    def compression_of(self, entry: TocEntry) -> Compression:
        return self.header.compression

    def data(self, entry: TocEntry, out_size: int = DEFAULT_OUT_SIZE) -> Iterator[bytes]:
        """The decompressed data of a table-data-like entry, in pieces of <= out_size."""
        self._require_data(entry)
        if entry.desc == "BLOBS":
            raise UsageError("use large_objects() for a BLOBS entry", path=self.path,
                             entry=entry.label)
        for _oid, stream in self.stored_streams(entry):
            yield from self._decompressed(entry, stream, out_size)

    def large_objects(self, entry: TocEntry,
                      out_size: int = DEFAULT_OUT_SIZE) -> Iterator[LargeObjectStream]:
        """The large objects of one BLOBS entry, each as decompressed pieces."""
        self._require_data(entry)
        for oid, stream in self.stored_streams(entry):
            if oid is None:
                raise ArchiveError("BLOBS data without large object ids", path=self.path,
                                   entry=entry.label)
            yield LargeObjectStream(oid, self._decompressed(entry, stream, out_size))

    def _decompressed(self, entry: TocEntry, stream: StoredStream,
                      out_size: int) -> Iterator[bytes]:
        try:
            yield from decompress(self.compression_of(entry), stream.chunks,
                                  gzip_file=self.gzip_files(), out_size=out_size)
        except ArchiveError as e:
            raise e.located(path=stream.path, offset=stream.offset, entry=entry.label) from None

    def _require_data(self, entry: TocEntry) -> None:
        if not entry.has_data:
            raise UsageError("entry has no data in this archive", path=self.path,
                             entry=entry.label)

    def close(self) -> None:
        for c in self._closers:
            with contextlib.suppress(Exception):
                c.close()  # type: ignore[attr-defined]
        self._closers.clear()
