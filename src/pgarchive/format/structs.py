"""The declarative description of the archive format, in construct.

This is the specification: :class:`ArchiveStructs` builds, from the parameters an archive
declares in its first bytes (version, intSize, offSize) and its container kind, the structs
for the rest of the header, a TOC entry and the custom format's data blocks -- as pyelftools
builds ELF structs from word size and endianness.  The header's and the TOC entry's fields
come from :mod:`pgarchive.format.fields`, from which the writer (:mod:`pgarchive.format
.writer`, used by ``convert`` and by the tests' synthetic archives) also makes its packers:
one list of fields per version for reading and writing, and a writer that needs no
construct at run time (its import costs more than converting a small archive; its build,
0.4 ms an entry, 40 s for a 100,000-entry TOC).  The tests hold the packers to these
structs' build on every archive, at every version.

The hot path (reading a 100,000-entry TOC) uses the hand-written reader in
:mod:`pgarchive.format.toc`; the tests prove both agree on every archive of the corpus.
Values here are raw: strings are ``bytes`` (or None for NULL), decoding is done above.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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

from .constants import (
    K_VERS_1_3,
    K_VERS_1_7,
    MAGIC,
    TocExtra,
)
from .fields import (
    BYTE,
    INT,
    OFFSET,
    STR,
    STRS,
    Field,
    entry_fields,
    header_fields,
    int_encoder,
    packer,
)


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

    def _struct(self, fields: list[Field]) -> Construct:
        """A Struct of ``fields`` (format.fields), each kind the construct that reads and
        builds it."""
        kinds: dict[str, Construct] = {
            INT: self.Int, STR: self.Str, OFFSET: self.Offset, BYTE: Int8ul,
            STRS: RepeatUntil(lambda obj, lst, ctx: obj is None, self.Str)}
        return Struct(*[name / kinds[kind] for name, kind in fields])

    def _header_rest(self) -> Construct:
        return self._struct(header_fields(self.version))

    def _toc_entry(self) -> Construct:
        return self._struct(entry_fields(self.version, self.extra))

    def entry_builder(self) -> Callable[[Mapping[str, Any]], bytes]:
        """The writer's builder of one TOC entry (format.fields' packer of the same fields
        as :attr:`toc_entry`): gives exactly ``toc_entry.build``'s bytes (the tests check
        it on every archive, at every version)."""
        fields = entry_fields(self.version, self.extra)
        if [f.name for f in self.toc_entry.subcons] != [name for name, _kind in fields]:
            raise TypeError("the TOC entry's construct and its fields differ")
        return packer(fields, self.int_size, self.off_size)


#: pg_dump's WriteInt for one intSize (format.fields), under the name the tests know.
_int_encoder = int_encoder


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
