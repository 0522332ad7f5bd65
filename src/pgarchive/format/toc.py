"""The fast reader of the archive header and TOC: a buffer in, a Header and TocEntries out.

Pure: it takes any bytes-like buffer (bytes, memoryview, mmap) and positions, never a file.
It is the hot path of ``ls`` on 100,000-entry archives, so it reads fields with precompiled
``struct`` unpackers instead of construct; :mod:`pgarchive.format.structs` remains the
specification and the tests prove both agree.  Every length is checked against the end of
the buffer before it is used, so a hostile length allocates nothing.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any, NamedTuple

from . import tocscan
from .constants import (
    K_VERS_1_2,
    K_VERS_1_4,
    K_VERS_1_7,
    K_VERS_1_10,
    K_VERS_1_15,
    K_VERS_MAX,
    K_VERS_MIN,
    MAGIC,
    MAX_INT_SIZE,
    ArchiveFormat,
    Compression,
    OffsetFlag,
    Section,
    TocExtra,
)
from .errors import FormatError, TruncatedError, UnsupportedVersionError
from .limits import MAX_DEFN, MAX_NAME
from .model import Header, TocEntry

Buffer = Any  # bytes | memoryview | mmap: anything struct.unpack_from and slicing accept

_UNSIGNED = {1: "B", 2: "H", 4: "I", 8: "Q"}
_SECTIONS = {int(s): s for s in Section}
_FLAGS = {int(f): f for f in OffsetFlag}


class IntReader:
    """Reads pg_dump Ints of one intSize from a buffer; the one place that knows how."""

    def __init__(self, int_size: int) -> None:
        self.size = 1 + int_size
        code = _UNSIGNED.get(int_size)
        self._unpack = struct.Struct("<B" + code).unpack_from if code else None
        self.int_size = int_size

    def raw(self, buf: Buffer, pos: int) -> tuple[int, int]:
        """(sign, magnitude) at pos; raises struct.error / IndexError past the end."""
        if self._unpack is not None:
            return self._unpack(buf, pos)
        end = pos + self.size
        if end > len(buf):
            raise struct.error("short")
        return buf[pos], int.from_bytes(buf[pos + 1:end], "little")

    def read(self, buf: Buffer, pos: int) -> int:
        """The Int at ``pos``, with its sign applied."""
        sign, mag = self.raw(buf, pos)
        return -mag if sign else mag


def _truncated(what: str, pos: int) -> TruncatedError:
    return TruncatedError(f"archive is truncated: {what} extends past the end of the file",
                          offset=pos)


def parse_header(buf: Buffer, pos: int = 0, end: int | None = None) -> Header:
    """Parse the header starting at ``pos`` (0 for custom files and toc.dat)."""
    end = len(buf) if end is None else end
    if end - pos < 5 or bytes(buf[pos:pos + 5]) != MAGIC:
        raise FormatError("not a pg_dump archive (no PGDMP magic)", offset=pos)
    p = pos + 5
    if end - p < 3:
        raise _truncated("header", p)
    vmaj, vmin = buf[p], buf[p + 1]
    p += 2
    vrev = 0
    if vmaj > 1 or (vmaj == 1 and vmin > 0):
        vrev = buf[p]
        p += 1
    version = (vmaj << 16) | (vmin << 8) | vrev
    if version > K_VERS_MAX:
        raise UnsupportedVersionError(
            f"unsupported archive version {vmaj}.{vmin}: this reader knows versions "
            f"up to 1.16 (pg_dump 17 and 18)", offset=pos + 5)
    if version < K_VERS_MIN:
        raise UnsupportedVersionError(
            f"unsupported archive version {vmaj}.{vmin}: archives older than 1.10 "
            f"(pg_dump 8.0) are not supported", offset=pos + 5)
    if end - p < 3:
        raise _truncated("header", p)
    int_size = buf[p]
    p += 1
    if not 1 <= int_size <= MAX_INT_SIZE:
        raise FormatError(f"sanity check on integer size ({int_size}) failed", offset=p - 1)
    off_size = int_size
    if version >= K_VERS_1_7:
        off_size = buf[p]
        p += 1
        if off_size < 1 or off_size > MAX_INT_SIZE:
            raise FormatError(f"sanity check on offset size ({off_size}) failed", offset=p - 1)
    fmt_byte = buf[p]
    p += 1
    try:
        fmt = ArchiveFormat(fmt_byte)
    except ValueError:
        raise FormatError(f"unrecognized file format \"{fmt_byte}\"", offset=p - 1) from None
    ints = IntReader(int_size)

    def rint() -> int:
        nonlocal p
        if p + ints.size > end:
            raise _truncated("header", p)
        v = ints.read(buf, p)
        p += ints.size
        return v

    def rstr() -> str | None:
        nonlocal p
        n = rint()
        if n < 0:
            return None
        if n > end - p:
            raise _truncated("header string", p)
        s = str(buf[p:p + n], "utf-8", "surrogateescape")
        p += n
        return s

    level: int | None = None
    if version >= K_VERS_1_15:
        if p >= end:
            raise _truncated("header", p)
        code = buf[p]
        p += 1
        try:
            compression = Compression(code)
        except ValueError:
            raise FormatError(f"invalid compression code: {code}", offset=p - 1) from None
    else:
        if version >= K_VERS_1_4:
            level = rint()
        elif version >= K_VERS_1_2:
            if p >= end:
                raise _truncated("header", p)
            level = buf[p]
            p += 1
        else:
            level = -1
        compression = Compression.NONE if level == 0 else Compression.GZIP
    tm = (0, 0, 0, 0, 0, 0, 0)
    dbname = None
    if version >= K_VERS_1_4:
        tm = (rint(), rint(), rint(), rint(), rint(), rint(), rint())
        dbname = rstr()
    server_version = dump_version = None
    if version >= K_VERS_1_10:
        server_version = rstr()
        dump_version = rstr()
    toc_count = rint()
    if toc_count < 0:
        raise FormatError(f"invalid TOC entry count {toc_count}", offset=p - ints.size)
    return Header(vmaj, vmin, vrev, int_size, off_size, fmt, compression, level, tm, dbname,
                  server_version, dump_version, toc_count, p)


class TocRead(NamedTuple):
    """What a walk over a whole TOC gave: entries (ROWS) or list lines (LIST)."""

    entries: list[TocEntry]
    lines: list[bytes]
    end: int  # file offset just after the TOC
    max_offset: int  # largest SET data offset (custom), -1 if none


#: How much of the TOC is read at a time; one entry bigger than this is read whole, in
#: one read of the size it needs.
WINDOW = 1 << 20


class TocWalk:
    """A walk over the TOC that starts at ``header.toc_offset``, in batches.

    ``read(offset, size)`` returns file bytes (fewer at the end); ``file_end`` is where the
    TOC must end at the latest.  The TOC is read a window at a time, so neither its size
    nor a hostile count makes it allocate more than the largest entry (bounded by
    :mod:`pgarchive.limits`) plus a window.  Strings are decoded with ``encoding`` and
    ``surrogateescape``, so any byte round-trips.  After the batches, ``end`` is where the
    TOC ends and ``max_offset`` the largest set data offset.
    """

    def __init__(self, read: Callable[[int, int], bytes], file_end: int, header: Header,
                 extra: TocExtra | str, encoding: str = "utf-8", mode: int = tocscan.ROWS,
                 statistics: bool = True) -> None:
        self.read, self.file_end, self.header = read, file_end, header
        self.extra = TocExtra(extra)  # (the containers still pass its value)
        self.encoding, self.mode, self.statistics = encoding, mode, statistics
        self.end = header.toc_offset
        self.max_offset = -1
        isz = 1 + header.int_size
        if header.toc_count > (file_end - header.toc_offset) // (isz * 4):
            raise _truncated(f"TOC of {header.toc_count} entries", header.toc_offset)

    def batches(self) -> Iterator[tuple[list[TocEntry], list[bytes]]]:
        """(entries, list lines) of each window, in file order."""
        header, file_end = self.header, self.file_end
        count = header.toc_count
        base = header.toc_offset
        buf = self.read(base, min(WINDOW, file_end - base))
        p = 0
        done = 0
        offset_extra = self.extra is TocExtra.OFFSET
        make = tuple.__new__
        limits = tocscan.Limits(MAX_NAME, MAX_DEFN, tuple(Section(i) for i in range(1, 5)),
                                (OffsetFlag.NOT_SET, OffsetFlag.SET, OffsetFlag.NO_DATA))
        while done < count:
            try:
                res = tocscan.walk(buf, base, p, count - done, header.version,
                                   header.int_size, header.off_size, offset_extra, self.mode,
                                   self.encoding, self.statistics, limits)
            except tocscan.ScanError as e:
                err = (TruncatedError if e.truncated else FormatError)(e.message, offset=e.pos)
                raise err.located(entry=f"#{done + e.index + 1} of {count}") from None
            # tuple.__new__ straight (rows have TocEntry's fields): _make is Python code,
            # 7% of `sql -s` on a 100,000-entry TOC
            entries = (list(map(make, repeat(TocEntry), res.rows))
                       if self.mode == tocscan.ROWS else [])
            self.max_offset = max(self.max_offset, res.max_offset)
            done += res.done
            p = res.pos
            self.end = base + p
            yield entries, res.lines
            if done == count:
                break
            if base + len(buf) >= file_end:
                raise _truncated(f"TOC entry #{done + 1}", base + p).located(
                    entry=f"#{done + 1} of {count}")
            # Read on from the entry that did not fit: a window, or what that entry needs
            # as far as known (a string's length); when the same entry is short again (many
            # dependencies), twice the window, so one big entry is read O(log) times.
            grow = 2 * len(buf) if res.done == 0 else WINDOW
            base += p
            size = min(max(grow, res.need - p + WINDOW), file_end - base)
            buf = b""  # drop the old window before reading the new one
            buf = self.read(base, size)
            p = 0


def read_toc(
    read: Callable[[int, int], bytes],
    file_end: int,
    header: Header,
    extra: TocExtra | str,
    encoding: str = "utf-8",
    mode: int = tocscan.ROWS,
    statistics: bool = True,
) -> TocRead:
    """Walk the whole TOC at once (see :class:`TocWalk`)."""
    walk = TocWalk(read, file_end, header, extra, encoding, mode, statistics)
    entries: list[TocEntry] = []
    lines: list[bytes] = []
    for batch, batch_lines in walk.batches():
        entries += batch
        lines += batch_lines
    return TocRead(entries, lines, walk.end, walk.max_offset)


def parse_toc(
    buf: Buffer,
    header: Header,
    extra: TocExtra | str,
    end: int | None = None,
    encoding: str = "utf-8",
) -> tuple[list[TocEntry], int]:
    """Read the TOC from a buffer holding the file (or the toc.dat member) at offset 0."""
    end = len(buf) if end is None else end

    def read(offset: int, size: int) -> bytes:
        return bytes(buf[offset:offset + size])

    res = read_toc(read, end, header, extra, encoding)
    return res.entries, res.end


def decimal_uint(text: str | bytes) -> int:
    """Parse a decimal OID or id as strtoul does: leading blanks and digits, else 0;
    truncated to 32 bits; more than 20 digits saturate (a hostile 10,000-digit string is
    not a reason to spend time or fail).  The walker's own parser, for text outside it."""
    return tocscan.uint_text(text.encode("utf-8", "surrogateescape")
                             if isinstance(text, str) else text)


