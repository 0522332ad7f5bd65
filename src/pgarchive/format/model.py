"""The typed model of an archive's metadata: header and TOC entries.

These are plain immutable values, made by the parsers in :mod:`pgarchive.format` and used by
everything above them.  A TocEntry knows nothing about files: where its data lies is a
value (an offset or a file name), and the container turns that into bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from .constants import (
    ArchiveFormat,
    Compression,
    OffsetFlag,
    Section,
)


class Header(NamedTuple):
    """The archive header, as stored (custom file, or toc.dat of directory and tar).

    A NamedTuple, as :class:`TocEntry`: a dataclass costs its module a compiled method per
    class at import, which ``ls`` pays at every start (issue 10); ``_replace`` derives a
    changed copy."""

    vmaj: int
    vmin: int
    vrev: int
    int_size: int
    off_size: int
    #: The format byte as stored: what the header says, not the archive's kind (a
    #: directory archive's toc.dat says TAR); :attr:`pgarchive.Archive.kind` is the kind.
    format_code: ArchiveFormat
    #: The compression algorithm of the data streams.
    compression: Compression
    #: The zlib level stored by archives before 1.15 (-1 = default); None from 1.15 on.
    compression_level: int | None
    #: struct tm as pg_dump stored it: sec, min, hour, mday, mon (0-11), year-1900, isdst.
    created_tm: tuple[int, int, int, int, int, int, int]
    dbname: str | None
    server_version: str | None
    dump_version: str | None
    toc_count: int
    #: Byte offset of the first TOC entry in its file (just after tocCount).
    toc_offset: int

    @property
    def version(self) -> int:
        """The version packed as pg_restore compares it (K_VERS_* in constants)."""
        return (self.vmaj << 16) | (self.vmin << 8) | self.vrev

    @property
    def version_text(self) -> str:
        """``1.16-0`` as pg_restore -l prints it."""
        return f"{self.vmaj}.{self.vmin}-{self.vrev}"

    @property
    def compression_name(self) -> str:
        """none, gzip, lz4 or zstd: what pg_restore 16+ prints."""
        return self.compression.name.lower()

    def created_timestamp(self) -> float | None:
        """The creation time as pg_restore rebuilds it: mktime() in the reader's zone.

        The stored fields are pg_dump's local time, so the result depends on the TZ of this
        process exactly as pg_restore's does (set TZ=UTC for reproducible output).
        """
        sec, mins, hour, mday, mon, year, isdst = self.created_tm
        for dst in (isdst, -1):
            try:
                return time.mktime((year + 1900, mon + 1, mday, hour, mins, sec, 0, 0, dst))
            except (OverflowError, ValueError):
                continue
        return None

    def created_text(self) -> str:
        """``2026-11-21 17:25:00 UTC``, or ``[unknown]`` as pg_restore prints it."""
        t = self.created_timestamp()
        if t is None:
            return "[unknown]"
        try:
            return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t))
        except (OverflowError, ValueError, OSError):
            return "[unknown]"



class TocEntry(NamedTuple):
    """One TOC entry, every field as the archive stores it (NULL strings are None).

    An immutable record.  It is a NamedTuple rather than a frozen dataclass because a
    100,000-entry TOC is built in a tenth of the time (0.02 s against 0.27 s), which
    matters for ``ls`` on big archives; use ``_replace`` to derive a changed copy.
    """

    dump_id: int
    had_dumper: bool
    table_oid: int
    oid: int
    tag: str
    desc: str
    section: Section
    defn: str | None
    drop_stmt: str | None
    copy_stmt: str | None
    namespace: str | None
    tablespace: str | None
    tableam: str | None
    #: pg_class.relkind as pg_dump wrote it, a C char (-128..255; the reader refuses
    #: anything else); 0 when absent (before 1.16, and for entries that are no relation).
    relkind: int
    owner: str | None
    with_oids: bool
    dependencies: tuple[int, ...]
    #: custom format: offset flag and absolute position of the data block.
    offset_flag: OffsetFlag | None = None
    data_offset: int | None = None
    #: directory and tar formats: the file name of the entry's data ("" when none).
    filename: str | None = None
    #: Where the entry starts in the TOC file; for error messages.
    toc_position: int = 0

    @property
    def has_data(self) -> bool:
        """True when the archive holds a data stream for this entry."""
        if not self.had_dumper:
            return False
        return self.offset_flag != OffsetFlag.NO_DATA

    @property
    def relkind_char(self) -> str | None:
        """The relkind as a one-character string (a signed char is taken as its byte)."""
        return chr(self.relkind & 0xFF) if self.relkind else None

    @property
    def label(self) -> str:
        """A short human name for messages: ``3392 TABLE DATA s1 t1``."""
        ns = f"{self.namespace} " if self.namespace else ""
        return f"{self.dump_id} {self.desc} {ns}{self.tag}".replace("\n", " ")


def database_name(entries: Iterable[TocEntry], default: str) -> str:
    """The name of the database the archive's DATABASE entry creates (its tag), or
    ``default`` when there is none: the one place that looks it up."""
    return next((e.tag for e in entries if e.desc == "DATABASE"), default)
