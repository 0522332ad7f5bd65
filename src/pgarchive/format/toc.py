"""The fast reader of the archive header and TOC: a buffer in, a Header and TocEntries out.

Pure: it takes any bytes-like buffer (bytes, memoryview, mmap) and positions, never a file.
It is the hot path of ``ls`` on 100,000-entry archives, so it reads fields with precompiled
``struct`` unpackers instead of construct; :mod:`pgarchive.format.structs` remains the
specification and the tests prove both agree.  Every length is checked against the end of
the buffer before it is used, so a hostile length allocates nothing.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from ..errors import FormatError, TruncatedError, UnsupportedVersionError
from ..model import Header, TocEntry
from .constants import (
    K_VERS_1_2,
    K_VERS_1_3,
    K_VERS_1_4,
    K_VERS_1_5,
    K_VERS_1_6,
    K_VERS_1_7,
    K_VERS_1_8,
    K_VERS_1_9,
    K_VERS_1_10,
    K_VERS_1_11,
    K_VERS_1_14,
    K_VERS_1_15,
    K_VERS_1_16,
    K_VERS_MAX,
    K_VERS_MIN,
    MAGIC,
    MAX_INT_SIZE,
    ArchiveFormat,
    Compression,
    OffsetFlag,
    Section,
    guess_section,
)

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


def parse_toc(
    buf: Buffer,
    header: Header,
    extra: str,
    end: int | None = None,
    encoding: str = "utf-8",
) -> tuple[list[TocEntry], int]:
    """Read ``header.toc_count`` entries from ``header.toc_offset``.

    ``extra`` is ``"offset"`` (custom) or ``"filename"`` (directory, tar).  Strings are decoded
    with ``encoding`` and ``surrogateescape``, so any byte round-trips.  Returns the entries in
    file order and the position just after the TOC.
    """
    end = len(buf) if end is None else end
    v = header.version
    ints = IntReader(header.int_size)
    isz = ints.size
    unpack = ints.raw
    count = header.toc_count
    # The smallest possible entry is a handful of Ints: a count this large cannot fit.
    if count > (end - header.toc_offset) // (isz * 4):
        raise _truncated(f"TOC of {count} entries", header.toc_offset)
    has_tableoid = v >= K_VERS_1_8
    has_section = v >= K_VERS_1_11
    has_copy = v >= K_VERS_1_3
    has_ns = v >= K_VERS_1_6
    has_ts = v >= K_VERS_1_10
    has_am = v >= K_VERS_1_14
    has_relkind = v >= K_VERS_1_16
    has_withoids = v >= K_VERS_1_9
    has_deps = v >= K_VERS_1_5
    offset_extra = extra == "offset"
    new_offsets = v >= K_VERS_1_7
    off_size = header.off_size
    errs = "surrogateescape"
    entries: list[TocEntry] = []
    append = entries.append
    p = header.toc_offset
    start = p
    i = 0

    def strs(k: int) -> list[str | None]:
        """Read k consecutive Str fields at p."""
        nonlocal p
        out: list[str | None] = []
        for _ in range(k):
            sign, n = unpack(buf, p)
            p += isz
            if sign and n:
                out.append(None)
                continue
            if n > end - p:
                raise _truncated("string", p - isz)
            out.append(str(buf[p:p + n], encoding, errs))
            p += n
        return out

    def intval() -> int:
        nonlocal p
        sign, n = unpack(buf, p)
        p += isz
        return -n if sign else n

    try:
        for i in range(count):  # noqa: B007 -- i is used by the error handler
            start = p
            dump_id = intval()
            if dump_id <= 0:
                raise FormatError(f"entry ID {dump_id} out of range -- perhaps a corrupt TOC",
                                  offset=start)
            had_dumper = intval()
            if has_tableoid:
                tableoid_s, oid_s, tag, desc = strs(4)
            else:
                tableoid_s = None
                oid_s, tag, desc = strs(3)
            if has_section:
                sec = intval()
                section = _SECTIONS.get(sec)
                if section is None:
                    raise FormatError(f"unexpected section code {sec}", offset=p - isz)
            else:
                section = guess_section(desc or "")
            defn, drop = strs(2)
            copy = strs(1)[0] if has_copy else None
            ns = strs(1)[0] if has_ns else None
            ts = strs(1)[0] if has_ts else None
            am = strs(1)[0] if has_am else None
            relkind = intval() if has_relkind else 0
            owner = strs(1)[0]
            with_oids = strs(1)[0] == "true" if has_withoids else False
            deps: list[int] = []
            if has_deps:
                while True:
                    (d,) = strs(1)
                    if d is None:
                        break
                    deps.append(decimal_uint(d))
            flag: OffsetFlag | None = None
            position: int | None = None
            filename: str | None = None
            if offset_extra:
                if new_offsets:
                    if p + 1 + off_size > end:
                        raise _truncated("data offset", p)
                    code = buf[p]
                    flag = _FLAGS.get(code)
                    if flag is None:
                        raise FormatError(f"unexpected data offset flag {code}", offset=p)
                    raw = bytes(buf[p + 1:p + 1 + off_size])
                    if off_size > 8 and any(raw[8:]):
                        raise FormatError("file offset in dump file is too large", offset=p)
                    position = int.from_bytes(raw[:8], "little")
                    p += 1 + off_size
                else:
                    o = intval()
                    flag = (OffsetFlag.NOT_SET if o < 0 else
                            OffsetFlag.NO_DATA if o == 0 else OffsetFlag.SET)
                    position = max(o, 0)
            else:
                filename = strs(1)[0]
            append(TocEntry(
                dump_id, had_dumper != 0,
                decimal_uint(tableoid_s) if tableoid_s is not None else 0,
                decimal_uint(oid_s) if oid_s is not None else 0,
                tag or "", desc or "", section, defn, drop, copy, ns, ts, am, relkind, owner,
                with_oids, tuple(deps), flag, position, filename, start,
            ))
    except struct.error:
        raise _truncated(f"TOC entry #{i + 1}", p).located(
            entry=f"#{i + 1} of {count}") from None
    except FormatError as e:
        raise e.located(entry=f"#{i + 1} of {count}") from None
    return entries, p


_LEADING_DIGITS = re.compile(r"\s*\+?([0-9]{1,20})([0-9]*)")


def decimal_uint(text: str | bytes) -> int:
    """Parse a decimal OID or id as strtoul does: leading blanks and digits, else 0;
    truncated to 32 bits.  Never parses more than 20 digits (a hostile 10,000-digit
    string is not a reason to spend time or fail); longer runs saturate."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if text.isascii() and text.isdigit() and len(text) <= 20:
        return int(text) & 0xFFFFFFFF
    m = _LEADING_DIGITS.match(text)
    if m is None:
        return 0
    if m.group(2):
        return 0xFFFFFFFF
    value = int(m.group(1))
    return 0xFFFFFFFF if value >= 1 << 64 else value & 0xFFFFFFFF


