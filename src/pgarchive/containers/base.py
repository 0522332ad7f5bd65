"""What every container (custom file, directory, tar) offers: one view of an archive.

A container owns the layout: it finds the header and TOC bytes, hands them to the pure
parsers, turns a TocEntry's data location into a stream of stored chunks, and knows what
is wrong with how the data is laid out (verify only checks what the streams hold).  Its
bytes come through byte sources (source.py), never from files it opens itself.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, ClassVar, NamedTuple, TypeVar

from ..encodings import python_codec
from ..errors import ArchiveError, FormatError, NotAnArchiveError, UsageError
from ..format import tocscan
from ..format.constants import DEFAULT_OUT_SIZE, K_VERS_1_7, ArchiveFormat, Compression
from ..format.model import Header, TocEntry
from ..format.toc import Buffer, TocRead, TocWalk, read_toc
from .source import ByteSource

if TYPE_CHECKING:
    from ..compression import InflateLimit

T = TypeVar("T")

#: How a finding about bytes pg_restore never reads ends.
IGNORED = "pg_restore ignores it"


class LargeObjectStream(NamedTuple):
    """One large object of a BLOBS entry: its oid and its decompressed bytes, in pieces."""

    oid: int
    chunks: Iterator[bytes]


class StoredStream(NamedTuple):
    """One stored (possibly compressed) stream and where it starts, for error messages.

    ``ends``, where given, receives where the stream's stored bytes end once they have
    been read to the end (a custom data block's end, which its EntryData's finish then
    need not walk again); a reader in another process appends it here itself."""

    chunks: Iterator[bytes]
    offset: int | None
    path: str
    ends: list[int] | None = None


def window_reader(source: ByteSource) -> Callable[[int, int], bytes]:
    """read(offset, size) over a source's view, returning bytes."""
    buf = source.view()

    def read(offset: int, size: int) -> bytes:
        out = bytes(buf[offset:offset + size])
        source.release(offset, offset + size)  # copied: a huge TOC leaves no RSS behind
        return out

    return read


def mapped(source: ByteSource) -> Buffer:
    """The view of a source that must hold an archive file (refused when empty)."""
    if not source.size:
        raise NotAnArchiveError("file is empty", path=source.name)
    return source.view()


class Finding(NamedTuple):
    """Something wrong in how the archive lays its data out (framing, order, files no
    reader reads), found by the container, which alone knows the layout."""

    message: str
    path: str
    offset: int | None = None
    dump_id: int | None = None
    entry: str | None = None


class EntryData:
    """One entry's stored data as a walk over the data meets it.

    ``problems`` were found before reading (its data is damaged or, when not ``found``,
    missing, whatever it holds); ``start`` and ``end`` are where the data lies in the
    archive's file when the container knows (custom), ``end`` set once read past.
    ``finish``, after reading (all or part of) ``streams``: where the data ends, found by
    its framing if the reader stopped early; raises ArchiveError if the framing is broken.

    A plain class, not a dataclass: this module is on ``ls``'s start-up path, where
    building a dataclass costs more than the whole listing (issue 10)."""

    __slots__ = ("end", "entry", "finish", "found", "problems", "start", "streams")

    def __init__(self, entry: TocEntry, streams: Iterator[tuple[int | None, StoredStream]],
                 problems: list[Finding] | None = None, found: bool = True,
                 start: int | None = None, end: int | None = None,
                 finish: Callable[[], int | None] = lambda: None) -> None:
        self.entry = entry
        self.streams = streams
        self.problems: list[Finding] = [] if problems is None else problems
        self.found = found
        self.start = start
        self.end = end
        self.finish = finish


class Container(ABC):
    """One archive's header, TOC and data, whatever its container format."""

    kind: ClassVar[str]  # "custom", "directory" or "tar": what pg_restore -l calls Format

    def __init__(self, path: str) -> None:
        self.path = path
        self.header: Header
        self.codec = "utf-8"
        self._codec_known = False  # whether iter_entries has looked for ENCODING
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
            if not self._codec_known:  # the ENCODING entry comes first: look for it
                for batch, _ in TocWalk(read, end, self.header, extra).batches():
                    found = next((e for e in batch if e.desc == "ENCODING"), None)
                    if found is not None:
                        self.codec = python_codec(found.defn or "")
                        break
                # (once: a TOC without one is not walked twice on each later pass)
                self._codec_known = True
            walk = TocWalk(read, end, self.header, extra, self.codec)
            for batch, _ in walk.batches():
                yield from batch
            self._after_toc(TocRead([], [], walk.end, walk.max_offset))
        except ArchiveError as e:
            raise e.located(path=where) from None

    def scan_entries(self, consume: Callable[[Iterator[TocEntry]], T]) -> T:
        """``consume`` over one pass of :meth:`iter_entries`, without its first walk that
        looks for the ENCODING entry: the pass decodes as UTF-8 and, as :attr:`entries`
        does, is made again in the archive's encoding if it names another (``consume``
        must start afresh).  A TOC without ENCODING is walked once, not twice."""
        if self._codec_known or self._entries is not None:
            return consume(self.iter_entries())
        found: list[str] = []

        def watched(entries: Iterator[TocEntry]) -> Iterator[TocEntry]:
            for e in entries:
                if not found and e.desc == "ENCODING":
                    found.append(python_codec(e.defn or ""))
                yield e

        self._codec_known = True
        result = consume(watched(self.iter_entries()))
        if found and found[0] != self.codec:
            self.codec = found[0]
            result = consume(self.iter_entries())
        return result

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
        """How the entry's stored data is compressed (the header's method; a directory's
        files say their own)."""
        return self.header.compression

    def data(self, entry: TocEntry, out_size: int = DEFAULT_OUT_SIZE) -> Iterator[bytes]:
        """The decompressed data of a table-data-like entry, in pieces of <= out_size."""
        self._require_data(entry)
        if entry.desc == "BLOBS":
            raise UsageError("use large_objects() for a BLOBS entry", path=self.path,
                             entry=entry.label)
        for _oid, stream in self.stored_streams(entry):
            yield from self.decompressed(entry, stream, out_size)

    def large_objects(self, entry: TocEntry,
                      out_size: int = DEFAULT_OUT_SIZE) -> Iterator[LargeObjectStream]:
        """The large objects of one BLOBS entry, each as decompressed pieces."""
        from ..compression import InflateLimit  # (not at import: ls reads no data)

        self._require_data(entry)
        limit = InflateLimit()  # one for all the entry's large objects
        for oid, stream in self.stored_streams(entry):
            if oid is None:
                raise ArchiveError("BLOBS data without large object ids", path=self.path,
                                   entry=entry.label)
            yield LargeObjectStream(oid, self.decompressed(entry, stream, out_size, limit))

    def decompressed(self, entry: TocEntry, stream: StoredStream,
                     out_size: int = DEFAULT_OUT_SIZE,
                     limit: InflateLimit | None = None) -> Iterator[bytes]:
        """The decompressed bytes of one of the entry's stored streams, in pieces of
        <= out_size; ``limit``: one inflation bound shared by several streams."""
        from ..compression import decompress

        try:
            yield from decompress(self.compression_of(entry), stream.chunks,
                                  gzip_file=self.gzip_files(), out_size=out_size, limit=limit)
        except ArchiveError as e:
            raise e.located(path=stream.path, offset=stream.offset, entry=entry.label) from None

    def _require_data(self, entry: TocEntry) -> None:
        if not entry.has_data:
            raise UsageError("entry has no data in this archive", path=self.path,
                             entry=entry.label)

    def _open_source(self, source: ByteSource) -> Buffer:
        """Take ``source`` (closed by close()); sets buf and size to its view."""
        self.source = source
        self._closers.append(source)
        self.buf = mapped(source)
        self.size = len(self.buf)
        return self.buf

    # -- what verify needs: the data, walked as the container is best read ---------------

    def data_walk(self, wanted: AbstractSet[int] | None = None
                  ) -> Iterator[EntryData | Finding]:
        """The data of every entry with data (of the dump ids in ``wanted``), once per
        dump id, in the order the container is best read; and, as met, what is wrong
        with the layout outside any entry's data.  Unwanted data is not read."""
        seen: set[int] = set()
        for e in self.entries:
            if e.has_data and e.dump_id not in seen:
                seen.add(e.dump_id)
                if wanted is None or e.dump_id in wanted:
                    yield self.entry_data(e)

    def entry_data(self, entry: TocEntry) -> EntryData:
        """One entry's data on its own (read in any order when :attr:`can_seek_data`)."""
        return EntryData(entry, self.stored_streams(entry))

    def layout_problems(self, extents: Mapping[int, tuple[int | None, int | None]]
                        ) -> list[Finding]:
        """After reading entries with :meth:`entry_data` rather than :meth:`data_walk`:
        what is wrong between them.  ``extents`` maps each dump id read to where its data
        was found (start, end); the container measures the others' itself."""
        return []

    def order_problems(self) -> list[Finding]:
        """Entries whose data a strictly forward reader (pg_restore) would not read as
        stored, each finding naming its entry's dump id."""
        return []

    def unexpected_files(self) -> list[Finding]:
        """Files (or members) of the archive that pg_restore never reads."""
        return []

    def stored_extent(self, entry: TocEntry) -> tuple[int, int] | None:
        """(start, end) of the entry's whole stored data in the archive's one file, when
        it lies there as one piece that can be copied as it is (custom); else None."""
        return None

    def stored_ranges(self, entry: TocEntry) -> Iterator[tuple[int, int]] | None:
        """Where the pieces of the entry's one stored stream lie in the archive's one file,
        (start, length) each, when they can be copied from there as they are (a custom
        archive's table data: its chunks without their lengths); else None."""
        return None

    def chunk_list(self, entry: TocEntry) -> int | None:
        """Where the chunk list of the entry's table data starts in the archive's one file
        (custom), for reading its chunks in bulk; else None."""
        return None

    def script_member(self) -> bytes | None:
        """The psql script pg_dump adds for people (tar's ``restore.sql``), or None."""
        return None

    def close(self) -> None:
        """Close what the container holds open (its byte sources, maps, files)."""
        for c in self._closers:
            with contextlib.suppress(Exception):
                c.close()  # type: ignore[attr-defined]
        self._closers.clear()
