"""The declarative description of the archive format, in construct.

This is the specification: :class:`ArchiveStructs` builds, from the parameters an archive
declares in its first bytes (version, intSize, offSize) and its container kind, the structs
for the rest of the header, a TOC entry and the custom format's data blocks -- as pyelftools
builds ELF structs from word size and endianness.  The same structs *build* bytes: the writer
(:mod:`pgarchive.format.writer`, used by ``convert`` and by the tests' synthetic archives)
builds headers with them, and TOC entries with :meth:`ArchiveStructs.entry_builder`, a
builder compiled from the very fields of :attr:`ArchiveStructs.toc_entry` (construct's own
build costs 0.4 ms an entry: 40 s for a 100,000-entry TOC).

The hot path (reading a 100,000-entry TOC) uses the hand-written reader in
:mod:`pgarchive.format.toc`; the tests prove both agree on every archive of the corpus.
Values here are raw: strings are ``bytes`` (or None for NULL), decoding is done above.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from .constants import (
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
    MAGIC,
    TocExtra,
)
from .deferred import deferred

# construct's package also loads its debugging aids and constructs not used here: their
# standard-library modules are loaded on first use (format/deferred.py), not at start-up
with deferred("pdb", "inspect", "traceback", "pickle", "hashlib"):
    from construct import (
        BytesInteger,
        Const,
        Construct,
        If,
        Int8ul,
        RepeatUntil,
        Struct,
        this,
    )
    from construct.core import stream_read, stream_write


class PgInt(Construct):  # type: ignore[misc]
    """pg_dump's Int: a sign byte, then ``int_size`` magnitude bytes, little-endian.

    Any nonzero sign byte means negative, as in ReadInt; we write 0 or 1.
    """

    def __init__(self, int_size: int) -> None:
        super().__init__()
        self.int_size = int_size

    def _parse(self, stream: Any, context: Any, path: str) -> int:
        raw = stream_read(stream, 1 + self.int_size, path)
        value = int.from_bytes(raw[1:], "little")
        return -value if raw[0] else value

    def _build(self, obj: int, stream: Any, context: Any, path: str) -> int:
        stream_write(stream, bytes([1 if obj < 0 else 0]), 1, path)
        stream_write(stream, abs(obj).to_bytes(self.int_size, "little"), self.int_size, path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        return 1 + self.int_size


class PgStr(Construct):  # type: ignore[misc]
    """pg_dump's Str: an Int length, then the bytes.  A negative length is NULL (None)."""

    def __init__(self, int_size: int) -> None:
        super().__init__()
        self.length = PgInt(int_size)

    def _parse(self, stream: Any, context: Any, path: str) -> bytes | None:
        n = self.length._parsereport(stream, context, path)
        if n < 0:
            return None
        return bytes(stream_read(stream, n, path))

    def _build(self, obj: bytes | None, stream: Any, context: Any, path: str) -> bytes | None:
        if obj is None:
            self.length._build(-1, stream, context, path)
            return None
        self.length._build(len(obj), stream, context, path)
        stream_write(stream, obj, len(obj), path)
        return obj


def offset_struct(off_size: int) -> Construct:
    """A data offset: flag byte (1 NOT_SET, 2 SET, 3 NO_DATA), then offSize bytes."""
    return Struct("flag" / Int8ul, "position" / BytesInteger(off_size, swapped=True))


#: The first bytes of every header, whatever the version.
PROLOGUE = Struct(
    "magic" / Const(MAGIC),
    "vmaj" / Int8ul,
    "vmin" / Int8ul,
    "vrev" / If(lambda ctx: ctx.vmaj > 1 or ctx.vmin > 0, Int8ul),
    "int_size" / Int8ul,
    "off_size" / If(lambda ctx: (ctx.vmaj, ctx.vmin) >= (1, 7), Int8ul),
    "format" / Int8ul,
)


class ArchiveStructs:
    """Every struct of one archive, built from the parameters it declares.

    ``extra`` is what closes each TOC entry: :attr:`TocExtra.OFFSET` for custom archives,
    :attr:`TocExtra.FILENAME` for directory and tar archives.
    """

    def __init__(self, version: int, int_size: int, off_size: int,
                 extra: TocExtra) -> None:
        self.version = version
        self.int_size = int_size
        self.off_size = off_size
        self.extra = TocExtra(extra)  # ValueError for anything else
        self.Int = PgInt(int_size)
        self.Str = PgStr(int_size)
        self.Offset = offset_struct(off_size) if version >= K_VERS_1_7 else self.Int
        self.header_rest = self._header_rest()
        self.toc_entry = self._toc_entry()
        self.toc = Struct("count" / self.Int, "entries" / self.toc_entry[this.count])
        self.chunk = Struct("length" / self.Int, "data" / If(this.length > 0,
                                                              _Bytes(this.length)))
        self.block_header = Struct(
            "type" / (Int8ul if version >= K_VERS_1_3 else Const(1, Int8ul)),
            "dump_id" / self.Int,
        )

    def _header_rest(self) -> Construct:
        v = self.version
        fields: list[Construct] = []
        if v >= K_VERS_1_15:
            fields.append("compression" / Int8ul)
        elif v >= K_VERS_1_4:
            fields.append("compression" / self.Int)
        if v >= K_VERS_1_4:
            fields += [
                "tm_sec" / self.Int, "tm_min" / self.Int, "tm_hour" / self.Int,
                "tm_mday" / self.Int, "tm_mon" / self.Int, "tm_year" / self.Int,
                "tm_isdst" / self.Int,
                "dbname" / self.Str,
            ]
        if v >= K_VERS_1_10:
            fields += ["server_version" / self.Str, "dump_version" / self.Str]
        return Struct(*fields)

    def _toc_entry(self) -> Construct:
        v = self.version
        S = self.Str
        fields: list[Construct] = ["dump_id" / self.Int, "had_dumper" / self.Int]
        if v >= K_VERS_1_8:
            fields.append("table_oid" / S)
        fields += ["oid" / S, "tag" / S, "desc" / S]
        if v >= K_VERS_1_11:
            fields.append("section" / self.Int)
        fields += ["defn" / S, "drop_stmt" / S]
        if v >= K_VERS_1_3:
            fields.append("copy_stmt" / S)
        if v >= K_VERS_1_6:
            fields.append("namespace" / S)
        if v >= K_VERS_1_10:
            fields.append("tablespace" / S)
        if v >= K_VERS_1_14:
            fields.append("tableam" / S)
        if v >= K_VERS_1_16:
            fields.append("relkind" / self.Int)
        fields.append("owner" / S)
        if v >= K_VERS_1_9:
            fields.append("with_oids" / S)
        if v >= K_VERS_1_5:
            fields.append("dependencies" / RepeatUntil(lambda obj, lst, ctx: obj is None, S))
        if self.extra is TocExtra.OFFSET:
            fields.append("offset" / self.Offset)
        else:
            fields.append("filename" / S)
        return Struct(*fields)

    def entry_builder(self) -> Callable[[Mapping[str, Any]], bytes]:
        """A fast builder of one TOC entry, made from the fields of :attr:`toc_entry`
        in order: each field's construct (Int, Str, the dependency list, the offset)
        becomes a precompiled packing function.  Gives exactly ``toc_entry.build``'s bytes
        (the tests check it on every archive); refuses any field it does not know."""
        encode_int = _int_encoder(self.int_size)

        def encode_str(value: bytes | None) -> bytes:
            if value is None:
                return encode_int(-1)
            return encode_int(len(value)) + value

        def encode_strs(values: list[bytes | None]) -> bytes:
            return b"".join(encode_str(v) for v in values)

        off_size = self.off_size

        def encode_offset(value: Mapping[str, int]) -> bytes:
            return bytes([value["flag"]]) + value["position"].to_bytes(off_size, "little")

        plan: list[tuple[str, Callable[[Any], bytes]]] = []
        for field in self.toc_entry.subcons:
            inner = field.subcon
            if inner is self.Int:
                plan.append((field.name, encode_int))
            elif inner is self.Str:
                plan.append((field.name, encode_str))
            elif isinstance(inner, RepeatUntil) and inner.subcon is self.Str:
                plan.append((field.name, encode_strs))
            elif inner is self.Offset and self.version >= K_VERS_1_7:
                plan.append((field.name, encode_offset))
            else:
                raise TypeError(f"no fast encoder for TOC field {field.name!r}")

        def build(values: Mapping[str, Any]) -> bytes:
            return b"".join([encode(values[name]) for name, encode in plan])

        return build



def _int_encoder(int_size: int) -> Callable[[int], bytes]:
    """pg_dump's WriteInt for one intSize: what :class:`PgInt` builds, precompiled."""
    if int_size == 4:
        pack = struct.Struct("<BI").pack

        def encode4(value: int) -> bytes:
            return pack(1, -value) if value < 0 else pack(0, value)

        return encode4

    def encode(value: int) -> bytes:
        return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(int_size, "little")

    return encode


class _Bytes(Construct):  # type: ignore[misc]
    """Bytes whose count comes from the context, returned as ``bytes``."""

    def __init__(self, length: Any) -> None:
        super().__init__()
        self.length = length

    def _parse(self, stream: Any, context: Any, path: str) -> bytes:
        n = self.length(context) if callable(self.length) else self.length
        return bytes(stream_read(stream, n, path))

    def _build(self, obj: bytes, stream: Any, context: Any, path: str) -> bytes:
        stream_write(stream, obj, len(obj), path)
        return obj
