"""The script text: Steps turned into the bytes ``pg_restore -f`` writes.

Text parts are gathered and encoded in the archive's own encoding (the bytes of every
definition come back exactly as they were stored); table data is copied from the archive
as it is decompressed, and large objects are written as pg_restore writes them: one
``lowrite`` per 16 kB (LOBBUFSIZE) of data, as a bytea literal.  Memory stays bounded by
the decompressor's pieces and one 16 kB large-object buffer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, Protocol

from ..containers import LargeObjectStream
from ..format.model import TocEntry
from . import model as m
from .datacopy import Buffers, copy_table_data
from .quoting import bytea_literal

LOBBUFSIZE = 16384
INV_WRITE = 0x20000
#: Characters of text gathered before they are encoded and written.
FLUSH_AT = 1 << 18
#: Pieces of table data asked of the archive: the size uncompressed custom data is
#: gathered in, so no piece is joined again before it is written (cache-resident too).
DATA_PIECE = 256 << 10


class DataSource(Protocol):
    """What the writer reads data from: an open Archive."""

    def data(self, entry: TocEntry, chunk_size: int = ...) -> Iterable[bytes]:
        """The entry's table data, decompressed, in pieces."""

    def large_objects(self, entry: TocEntry | None = ...,
                      chunk_size: int = ...) -> Iterable[LargeObjectStream]:
        """The large objects of a BLOBS entry (or all), each in pieces."""


class ScriptWriter:
    """Writes Steps to a binary stream."""

    def __init__(self, source: DataSource, out: BinaryIO, codec: str, *,
                 std_strings: bool, drop_large_objects: bool = False,
                 old_lo_style: bool = False) -> None:
        self.source = source
        self.out = out
        self.codec = codec
        self.std_strings = std_strings
        self.drop_los = drop_large_objects
        self.old_lo_style = old_lo_style
        self._buffers = Buffers()

    def write(self, steps: Iterable[m.Step]) -> None:
        """Write every step, then flush."""
        from .model import runs  # (at the call: the tests give it the plain model's Steps)

        out, codec = self.out, self.codec
        for text, kind, step in runs(steps, FLUSH_AT):
            if text:
                out.write(text.encode(codec, "surrogateescape"))
            if step is None:
                continue
            assert step.entry is not None
            if kind == m.DATA:
                copy_table_data(self.source, step.entry, out, DATA_PIECE, self._buffers)
            else:
                self._large_objects(step.entry)
        out.flush()

    def _large_objects(self, entry: TocEntry) -> None:
        """StartRestoreLO/ahwrite/dump_lo_buf/EndRestoreLO for each large object."""
        write = self.out.write
        for lo in self.source.large_objects(entry):
            head = ""
            if self.old_lo_style:
                if self.drop_los:
                    head = ("SELECT pg_catalog.lo_unlink(oid) FROM "
                            f"pg_catalog.pg_largeobject_metadata WHERE oid = '{lo.oid}';\n")
                head += (f"SELECT pg_catalog.lo_open(pg_catalog.lo_create('{lo.oid}'), "
                         f"{INV_WRITE});\n")
            else:
                head = f"SELECT pg_catalog.lo_open('{lo.oid}', {INV_WRITE});\n"
            write(head.encode("ascii"))
            carry = b""  # never more than LOBBUFSIZE bytes
            for chunk in lo.chunks:
                data = carry + chunk if carry else chunk
                pos, n = 0, len(data)
                while n - pos > LOBBUFSIZE:
                    self._lowrite(data[pos:pos + LOBBUFSIZE])
                    pos += LOBBUFSIZE
                carry = data[pos:]
            if carry:
                self._lowrite(carry)
            write(b"SELECT pg_catalog.lo_close(0);\n\n")

    def _lowrite(self, data: bytes) -> None:
        literal = bytea_literal(data, self.std_strings)
        self.out.write(f"SELECT pg_catalog.lowrite(0, {literal});\n".encode("ascii"))
