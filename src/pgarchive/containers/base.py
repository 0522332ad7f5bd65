"""What every container (custom file, directory, tar) offers: one view of an archive.

A container owns the I/O: it finds the header and TOC bytes, hands them to the pure
parsers, and turns a TocEntry's data location into a stream of stored chunks.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from ..compression import DEFAULT_OUT_SIZE, InflateLimit, decompress
from ..encodings import python_codec
from ..errors import ArchiveError, FormatError, NotAnArchiveError, UsageError
from ..format import tocscan
from ..format.constants import K_VERS_1_7, ArchiveFormat, Compression
from ..format.model import Header, TocEntry
from ..format.toc import Buffer, TocRead, TocWalk, read_toc


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


def window_reader(buf: Buffer) -> Callable[[int, int], bytes]:
    """read(offset, size) over a buffer or memory map, returning bytes."""

    def read(offset: int, size: int) -> bytes:
        out = bytes(buf[offset:offset + size])
        release_pages(buf, offset, offset + size)  # copied: a huge TOC leaves no RSS behind
        return out

    return read


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
        self.codec = "utf-8"
        self._closers: list[object] = []
        self._entries: list[TocEntry] | None = None

    def _require_format(self, expected: ArchiveFormat, path: str, header_at: int = 0) -> None:
        """Refuse a header that names another format, as pg_restore's ReadHead does
        (closing the files first: this runs inside the constructor)."""
        found = self.header.format_code
        if found != expected:
            self.close()
            where = header_at + (10 if self.header.version >= K_VERS_1_7 else 9)
            raise FormatError(f"expected format ({expected.value}) differs from format found "
                              f"in file ({found.value})", path=path, offset=where)

    # -- the TOC, read on first use ---------------------------------------------------

    @abstractmethod
    def _toc_source(self) -> tuple[Callable[[int, int], bytes], int, str, str]:
        """(read, end of the TOC's file, "offset" or "filename", path for errors)."""

    @abstractmethod
    def _after_toc(self, res: TocRead) -> None:
        """Checks that need the whole TOC (where it ends, data offsets)."""

    def _walk(self, mode: int, codec: str = "utf-8", statistics: bool = True) -> TocRead:
        read, end, extra, where = self._toc_source()
        try:
            res = read_toc(read, end, self.header, extra, codec, mode, statistics)
            self._after_toc(res)
        except ArchiveError as e:
            raise e.located(path=where) from None
        return res

    @property
    def entries(self) -> list[TocEntry]:
        """Every TOC entry in file order, names decoded in the archive's own encoding.

        Decoded as UTF-8 first (pg_dump puts the ASCII ENCODING entry first); if the
        archive declares another encoding that Python knows, the TOC is read again with it.
        """
        if self._entries is None:
            entries = self._walk(tocscan.ROWS).entries
            for e in entries:
                if e.desc == "ENCODING":
                    self.codec = python_codec(e.defn or "")
                    break
            if self.codec != "utf-8":
                entries = self._walk(tocscan.ROWS, self.codec).entries
            self._entries = entries
        return self._entries

    def iter_entries(self) -> Iterator[TocEntry]:
        """Every TOC entry in file order, decoded as :attr:`entries` decodes them, without
        keeping them: one pass over a TOC of any size in the memory of a window (issue 12).
        The TOC's own checks run as it goes; the last ones when it ends."""
        if self._entries is not None:
            yield from self._entries
            return
        read, end, extra, where = self._toc_source()
        try:
            if self.codec == "utf-8":  # the ENCODING entry comes first: look for it
                for batch, _ in TocWalk(read, end, self.header, extra).batches():
                    found = next((e for e in batch if e.desc == "ENCODING"), None)
                    if found is not None:
                        self.codec = python_codec(found.defn or "")
                        break
            walk = TocWalk(read, end, self.header, extra, self.codec)
            for batch, _ in walk.batches():
                yield from batch
            self._after_toc(TocRead([], [], walk.end, walk.max_offset))
        except ArchiveError as e:
            raise e.located(path=where) from None

    def default_list_body(self, statistics: bool = True) -> bytes:
        """The entry lines of ``pg_restore -l`` with default options, as raw bytes (each
        ending in a newline), without building entries: the fast path of ``ls``."""
        return b"".join(self._walk(tocscan.LIST, statistics=statistics).lines)

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
        limit = InflateLimit()  # one for all the entry's large objects
        for oid, stream in self.stored_streams(entry):
            if oid is None:
                raise ArchiveError("BLOBS data without large object ids", path=self.path,
                                   entry=entry.label)
            yield LargeObjectStream(oid, self._decompressed(entry, stream, out_size, limit))

    def _decompressed(self, entry: TocEntry, stream: StoredStream, out_size: int,
                      limit: InflateLimit | None = None) -> Iterator[bytes]:
        try:
            yield from decompress(self.compression_of(entry), stream.chunks,
                                  gzip_file=self.gzip_files(), out_size=out_size, limit=limit)
        except ArchiveError as e:
            raise e.located(path=stream.path, offset=stream.offset, entry=entry.label) from None

    def _require_data(self, entry: TocEntry) -> None:
        if not entry.has_data:
            raise UsageError("entry has no data in this archive", path=self.path,
                             entry=entry.label)

    def _open_mapped(self) -> BinaryIO:
        """Open and memory-map ``self.path`` (closed by close()); sets buf and size."""
        f = open(self.path, "rb")  # noqa: SIM115 -- closed by close()
        self._closers.append(f)
        self.buf = map_file(f, self.path)
        self._closers.append(self.buf)
        self.size = len(self.buf)
        return f

    def close(self) -> None:
        for c in self._closers:
            with contextlib.suppress(Exception):
                c.close()  # type: ignore[attr-defined]
        self._closers.clear()
