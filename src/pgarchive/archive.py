"""The Archive: one opened pg_dump archive, whatever its container, as the rest of the
program (and a Python user) sees it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

from .containers import Container, LargeObjectStream, StoredStream, open_container
from .errors import UsageError
from .format.constants import DEFAULT_OUT_SIZE, Compression
from .format.model import Header, TocEntry

T = TypeVar("T")


class Archive:
    """An open archive: ``header``, ``entries`` (file order) and access to the data.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, container: Container, read_toc: bool = True) -> None:
        self.container = container
        self.path = container.path
        self.header: Header = container.header
        if read_toc:
            try:
                _ = container.entries  # read and check the TOC now: open() fails on a bad one
            except BaseException:
                container.close()
                raise
        self._by_id: dict[int, TocEntry] | None = None

    @property
    def entries(self) -> list[TocEntry]:
        """The TOC in file order (read on first use)."""
        return self.container.entries

    def iter_entries(self) -> Iterator[TocEntry]:
        """The TOC in file order, one entry at a time and not kept: for one pass over a
        TOC too big to hold (a million entries); errors come as the pass reaches them."""
        return self.container.iter_entries()

    def scan_entries(self, consume: Callable[[Iterator[TocEntry]], T]) -> T:
        """``consume(one pass over the TOC)``, made again from the start in the archive's
        encoding when an ENCODING entry names another than UTF-8: for a pass that keeps
        a summary of the entries (one walk of a TOC, where :meth:`iter_entries` first
        walks it to find that entry)."""
        return self.container.scan_entries(consume)

    @property
    def kind(self) -> str:
        """The archive format: custom, directory or tar (the name convert's ``-F`` takes,
        and ``info`` and ``verify`` report as "format")."""
        return self.container.kind

    @property
    def format_name(self) -> str:
        """:attr:`kind` in capitals, as pg_restore -l prints it (``Format: CUSTOM``)."""
        return self.container.format_name

    @property
    def encoding(self) -> str:
        """The Python codec the archive's names and SQL are decoded with."""
        return self.container.codec

    @property
    def can_seek_data(self) -> bool:
        """False for tar and for custom archives written to a pipe (no data offsets)."""
        return self.container.can_seek_data

    def entry(self, dump_id: int) -> TocEntry:
        """The entry with this dump id (the first, if the TOC repeats one); UsageError if none."""
        if self._by_id is None:
            self._by_id = {}
            for e in self.entries:
                self._by_id.setdefault(e.dump_id, e)
        try:
            return self._by_id[dump_id]
        except KeyError:
            raise UsageError(f"no TOC entry with ID {dump_id}", path=self.path) from None

    def stored_size(self, entry: TocEntry) -> int | None:
        """Bytes the entry's data occupies in the archive (compressed), if known cheaply."""
        return self.container.stored_size(entry)

    def data_area_size(self) -> int | None:
        """Bytes of stored data in all (for custom archives, everything after the TOC)."""
        return self.container.data_area_size()

    def data(self, entry: TocEntry, chunk_size: int = DEFAULT_OUT_SIZE) -> Iterator[bytes]:
        """Stream the decompressed data of an entry (TABLE DATA etc.) in bounded pieces."""
        return self.container.data(entry, chunk_size)

    def stored_streams(self, entry: TocEntry) -> Iterator[tuple[int | None, StoredStream]]:
        """The entry's data as the archive stores it, still compressed and without the
        custom format's chunk framing: one (None, stream) for table data, one (oid, stream)
        per large object of a BLOBS entry.  For copying data without decompressing it;
        :meth:`stored_compression` says how to read it."""
        return self.container.stored_streams(entry)

    def stored_extent(self, entry: TocEntry) -> tuple[int, int] | None:
        """(start, end) of the entry's whole data block in a custom archive's file, its
        framing walked (chunk lengths only, no data read) and found whole; None for other
        containers.  For copying a block as it is, without going through its chunks."""
        return self.container.stored_extent(entry)

    def stored_ranges(self, entry: TocEntry) -> Iterator[tuple[int, int]] | None:
        """(start, length) of each piece of a custom archive's table data in its file: the
        stream :meth:`stored_streams` gives, without the chunk framing, for copying it in
        the kernel; the lengths are checked as the pieces are asked for.  None for other
        containers and for large objects."""
        return self.container.stored_ranges(entry)

    def chunk_list(self, entry: TocEntry) -> int | None:
        """Where the chunk list of a custom archive's table data starts in its file (after
        the block header, checked): for reading the chunks in bulk, their lengths checked
        by the reader.  None for other containers and for large objects."""
        return self.container.chunk_list(entry)

    def script_member(self) -> bytes | None:
        """The ``restore.sql`` member of a tar archive (the psql script pg_dump adds for
        people; pg_restore never reads it), or None."""
        return self.container.script_member()

    def stored_compression(self, entry: TocEntry) -> tuple[Compression, bool]:
        """(algorithm, gzip_file) of the entry's stored streams: gzip data is a gzip file
        (RFC 1952) in directory archives, a zlib stream (RFC 1950) in custom ones."""
        return self.container.compression_of(entry), self.container.gzip_files()

    def large_objects(self, entry: TocEntry | None = None,
                      chunk_size: int = DEFAULT_OUT_SIZE) -> Iterator[LargeObjectStream]:
        """Iterate large objects (of one BLOBS entry, or of all), each streamed in pieces."""
        targets = [entry] if entry else [e for e in self.entries
                                         if e.desc == "BLOBS" and e.has_data]
        for e in targets:
            yield from self.container.large_objects(e, chunk_size)

    def read_large_objects(self, entry: TocEntry | None = None) -> Iterator[tuple[int, bytes]]:
        """(oid, bytes) of each large object: convenient for small ones."""
        for lo in self.large_objects(entry):
            yield lo.oid, b"".join(lo.chunks)

    def close(self) -> None:
        """Close the archive's files (a context manager does it on leaving)."""
        self.container.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open(path: str, read_toc: bool = True) -> Archive:
    """Open a pg_dump archive (custom file, directory or tar) for reading.

    With ``read_toc=False`` the TOC is not read (nor checked) now: for a caller that makes
    one pass with :meth:`Archive.iter_entries` (``entries`` still reads it when asked)."""
    return Archive(open_container(str(path)), read_toc)


def default_list(path: str, statistics: bool = True) -> bytes:
    """``pg_restore -l`` output with default options, byte for byte, for the archive at
    ``path``: the fast path of ``ls --format list`` (entry lines come straight from the
    archive's bytes; no TocEntry is built).  Equal to rendering ``Archive.entries`` through
    the selection with default options -- the tests check it on every archive."""
    from .listing import header_text

    c = open_container(str(path))
    try:
        body = c.default_list_body(statistics)
        return header_text(c.header, c.format_name).encode("utf-8", "surrogateescape") + body
    finally:
        c.close()
