"""The data area of custom archives: blocks of length-prefixed chunks (pure, over a buffer).

    block      := type:byte dumpId:Int body           (no type byte before 1.3)
    DATA  (1)  := chunks
    BLOBS (3)  := { oid:Int(!=0) chunks }* Int(0)
    chunks     := { len:Int(>0) bytes }* Int(0)

Every length is checked against the end of the buffer before any slice is taken.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import NamedTuple, cast

from . import chunkscan
from .constants import K_VERS_1_3, BlockType
from .errors import FormatError, TruncatedError
from .toc import Buffer, IntReader

RELEASE_EVERY = 4 << 20
#: block_end reads 64 kB windows after chunks smaller than 16 kB, else lengths alone.
DENSE_WINDOW, DENSE_CHUNK = 64 << 10, 16 << 10
#: The largest piece of one chunk handed on at a time (pg_dump's chunks are far smaller,
#: except an uncompressed row, which is one chunk however long).
PIECE = 1 << 20
#: What :meth:`BlockReader.chunks` reads at a time (plain reads, not the memory map): a
#: first window of FIRST_WINDOW bytes, each next one twice as large, up to CHUNK_WINDOW
#: (a table of a few rows costs a small read, not the copy of a whole megabyte).
FIRST_WINDOW = 16 << 10
CHUNK_WINDOW = 1 << 20


def chunk_past_end(n: int, at: int, end: int) -> TruncatedError:
    """The error of a chunk of ``n`` bytes whose length is at ``at`` but whose payload
    goes past ``end``, the file's size (one wording for every reader of chunks)."""
    return TruncatedError(f"archive is truncated: chunk of {n} bytes at offset {at} extends "
                          f"past the end of the file ({end} bytes)", offset=at)


def length_past_end(at: int) -> TruncatedError:
    """The error of a chunk length at ``at`` that the file ends inside."""
    return TruncatedError("archive is truncated: chunk length extends past the end of the "
                          "file", offset=at)


class BlockHeader(NamedTuple):
    """The header of one custom-format data block: where it is, its type, its dump id, and
    where its body starts."""

    position: int
    type: int
    dump_id: int
    body: int  # position of the first byte after the header


class BlockReader:
    """Reads blocks and chunks from one custom archive's buffer."""

    def __init__(self, buf: Buffer, int_size: int, version: int, end: int | None = None,
                 release: Callable[[int, int], None] | None = None,
                 read_at: Callable[[int, int], bytes] | None = None):
        self.buf = buf
        #: reads (offset, size) without mapping the bytes into memory (os.pread), for the
        #: large windows of :meth:`gathered`; slicing ``buf`` when not given
        self.read_at = read_at
        #: called with (start, end) of bytes already consumed, so a memory-mapped reader
        #: can drop those pages and keep memory flat whatever the archive's size
        self.release = release
        self.ints = IntReader(int_size)
        self.end = len(buf) if end is None else end
        self.typed = version >= K_VERS_1_3

    def _int(self, pos: int, what: str) -> int:
        if pos + self.ints.size > self.end:
            raise TruncatedError(f"archive is truncated: {what} extends past the end of the file",
                                 offset=pos)
        try:  # a plain read where given: the map faults (SIGBUS) if the file was cut
            if self.read_at is not None:
                return self.ints.read(self.read_at(pos, self.ints.size), 0)
            return self.ints.read(self.buf, pos)
        except struct.error:  # a short read: the file was cut after it was opened
            raise TruncatedError(f"archive is truncated in {what}", offset=pos) from None

    def header(self, pos: int) -> BlockHeader:
        """The block header at ``pos``."""
        if pos >= self.end:
            raise TruncatedError("archive is truncated: expected a data block", offset=pos)
        p = pos
        btype = BlockType.DATA.value
        head: bytes | memoryview = b""
        if self.typed:  # the type and the dump id in one read, where reads are made
            head = (self.read_at(p, 1 + self.ints.size) if self.read_at is not None
                    else self.buf[p:p + 1])
            if not head:
                raise TruncatedError("archive is truncated: expected a data block", offset=pos)
            btype = head[0]
            p += 1
        if len(head) == 1 + self.ints.size:
            dump_id = self.ints.read(head, 1)
        else:
            dump_id = self._int(p, "data block header")
        p += self.ints.size
        if btype not in (BlockType.DATA, BlockType.BLOBS):
            raise FormatError(f"unrecognized data block type {btype}", offset=pos)
        return BlockHeader(pos, btype, dump_id, p)

    def chunks(self, pos: int, sink: list[int] | None = None) -> Iterator[bytes]:
        """Yield the chunk payloads starting at ``pos``; ``sink`` receives the end position.

        The payloads of :meth:`spans`, each sliced out of its window."""
        for win, start, stop in self.spans(pos, sink):
            yield cast(bytes, win[start:stop])  # windows of read_at: bytes

    def spans(self, pos: int, sink: list[int] | None = None,
              read: Callable[[int, int], bytes | bytearray] | None = None
              ) -> Iterator[tuple[bytes | bytearray, int, int]]:
        """The chunk payloads starting at ``pos`` as (window, start, stop): each payload
        (or a piece of it, at most PIECE bytes) is ``window[start:stop]``, left unsliced
        for a decoder that reads it in place; ``sink`` receives the end position.  ``read``
        replaces ``read_at`` (one that refills a reused buffer: each window must then be
        used before the next is asked for).

        The hot loop of reading data (uncompressed archives have one chunk per row).  Read
        through ``read_at`` in windows (FIRST_WINDOW bytes, growing to CHUNK_WINDOW), never
        the memory map: a file cut while it is read then gives a short read, which the
        reader reports, where a mapped page past the new end would kill the process
        (SIGBUS); and as fast (the bytes are copied either way).
        """
        if read is None:
            read = self.read_at or (lambda off, n: bytes(self.buf[off:off + n]))
        size, end, raw = self.ints.size, self.end, self.ints.raw
        win: bytes | bytearray = b""
        base = p = pos
        want = FIRST_WINDOW
        while True:
            if p + size > end:
                raise length_past_end(p)
            if p + size > base + len(win):
                base, win = p, read(p, min(want, end - p))
                want = min(want * 2, CHUNK_WINDOW)
                if len(win) < size:
                    raise length_past_end(p)
            sign, n = raw(win, p - base)
            if sign and n:
                raise FormatError(f"negative chunk length -{n}", offset=p)
            p += size
            if n == 0:
                break
            if n > end - p:
                raise chunk_past_end(n, p - size, end)
            stop = p + n
            while p < stop:
                if p >= base + len(win):
                    base, win = p, read(p, min(want, end - p))
                    want = min(want * 2, CHUNK_WINDOW)
                    if not win:
                        raise TruncatedError(f"archive is truncated: chunk of {n} bytes "
                                             "extends past the end of the file", offset=p)
                take = min(stop, base + len(win), p + PIECE)
                yield win, p - base, take - base
                p = take
        if sink is not None:
            sink.append(p)

    def gathered(self, pos: int, target: int = 256 << 10, sink: list[int] | None = None,
                 window: int = 4 << 20) -> Iterator[bytes]:
        """The same payloads as :meth:`chunks`, joined into pieces of about ``target``
        bytes: for uncompressed data, whose chunks are single rows."""
        for parts, _size in self.runs(pos, target, sink, window):
            yield parts[0] if len(parts) == 1 else b"".join(parts)

    def runs(self, pos: int, target: int = 256 << 10, sink: list[int] | None = None,
             window: int = 4 << 20, most: int = 1 << 30) -> Iterator[tuple[list[bytes], int]]:
        """The payloads of :meth:`chunks` in runs of about ``target`` bytes (at most
        ``most`` payloads), each as (payloads, their total size), not joined: for a writer
        that hands a run to writev as it is."""
        size = self.ints.size
        read = self.read_at or (lambda off, n: bytes(self.buf[off:off + n]))
        start, buf, p = pos, read(pos, min(window, self.end - pos)), 0
        released = pos
        while True:
            out: list[bytes] = []
            was = p
            p, status = chunkscan.gather(buf, p, self.ints.int_size, target, out, most)
            if out:  # what was read, less a length before each payload (and the list end)
                yield out, p - was - size * (len(out) + (status == chunkscan.LIST_END))
            here = start + p
            if self.release is not None and here - released > RELEASE_EVERY:
                self.release(released, here)
                released = here
            if status == chunkscan.LIST_END:
                if self.release is not None:
                    self.release(released, here)
                if sink is not None:
                    sink.append(here)
                return
            if status == chunkscan.NEGATIVE:  # worded as every other reader of lengths
                n = self.ints.read(read(here, size), 0)
                raise FormatError(f"negative chunk length {n}", offset=here)
            if status == chunkscan.WINDOW_END:
                if here + size > self.end:
                    raise length_past_end(here)
                head = read(here, size)
                n = self.ints.read(head, 0)
                if n > self.end - here - size:
                    raise chunk_past_end(n, here, self.end)
                if n > window:  # one huge chunk (a long row): read in pieces, never whole
                    body = here + size
                    for off in range(0, n, target):
                        piece = read(body + off, min(target, n - off))
                        yield [piece], len(piece)
                    here = body + n
                    n = 0
                start, buf, p = here, read(here, min(max(window, size + max(n, 0)),
                                                     self.end - here)), 0

    def skip_chunks(self, pos: int) -> int:
        """The position after the chunk list at ``pos``, reading only the lengths."""
        p = pos
        released = pos
        size = self.ints.size
        while True:
            n = self._int(p, "chunk length")
            if n < 0:
                raise FormatError(f"negative chunk length {n}", offset=p)
            p += size
            if self.release is not None and p - released > RELEASE_EVERY:
                self.release(released, p)
                released = p
            if n == 0:
                return p
            if n > self.end - p:
                raise chunk_past_end(n, p - size, self.end)
            p += n

    def payload_ranges(self, pos: int, sink: list[int] | None = None
                       ) -> Iterator[tuple[int, int]]:
        """Where the payloads of the chunk list at ``pos`` lie, as (start, length), with the
        checks of :meth:`skip_chunks`, reading only the lengths: for copying large chunks
        (lz4, zstd) without reading them.  ``sink`` receives the end of the list."""
        p = pos
        size = self.ints.size
        while True:
            n = self._int(p, "chunk length")
            if n < 0:
                raise FormatError(f"negative chunk length {n}", offset=p)
            p += size
            if n == 0:
                if sink is not None:
                    sink.append(p)
                return
            if n > self.end - p:
                raise chunk_past_end(n, p - size, self.end)
            yield p, n
            p += n

    def block_end(self, hdr: BlockHeader) -> int:
        """The position just after the block at ``hdr``, as :meth:`skip_block` finds it
        (same checks, same errors), reading only what holds the lengths, with ``read_at``:
        64 kB at a time where chunks are small (gzip's 4 kB: every page holds one; a data
        block's are stepped over by chunkscan's compiled loop, the read then costing most),
        just the length where they are large (lz4, zstd), never the memory map, whose page
        faults cost more than the reads (measured: a 1 GB gzip block walked in 2.7 s
        against 5-10 s; 0.22 s of CPU now, 0.28 s stepping in Python)."""
        if self.read_at is None:
            return self.skip_block(hdr)
        read, size, end = self.read_at, self.ints.size, self.end
        ints, int_size = self.ints, self.ints.int_size
        blobs = hdr.type == BlockType.BLOBS
        dense = not blobs
        p = hdr.body
        base, buf = p, b""
        want_oid = blobs
        n = 0
        while True:
            if p + size > end:
                what = "large object id" if want_oid else "chunk length"
                raise TruncatedError(f"archive is truncated: {what} extends past the end of "
                                     "the file", offset=p)
            if p + size > base + len(buf):
                window = DENSE_WINDOW if n < DENSE_CHUNK else 2 * size
                base, buf = p, read(p, min(window, end - p))
            if dense and len(buf) > 2 * size and not want_oid:
                # small chunks, a window of them: stepped over in compiled code; the
                # chunk it stops at (past the window, or damaged) is read below
                q, status = chunkscan.skip(buf, p - base, int_size)
                p = base + q
                if status == chunkscan.LIST_END:
                    return p
                if p + size > base + len(buf):
                    continue
            n = ints.read(buf, p - base)
            if want_oid:
                p += size
                if n == 0:
                    return p
                want_oid = False
                n = 0
                continue
            if n < 0:
                raise FormatError(f"negative chunk length {n}", offset=p)
            p += size
            if n == 0:
                if not blobs:
                    return p
                want_oid = True
                continue
            if n > end - p:
                raise chunk_past_end(n, p - size, end)
            p += n

    def blob_oid(self, pos: int) -> int:
        """The LO oid at ``pos`` in a BLOBS block (0 ends the block), as unsigned."""
        return self._int(pos, "large object id") & 0xFFFFFFFF

    def skip_block(self, hdr: BlockHeader) -> int:
        """The position just after the block whose header is ``hdr``."""
        if self.read_at is not None:  # (block_end: windows of plain reads, not the map)
            return self.block_end(hdr)
        if hdr.type == BlockType.DATA:
            return self.skip_chunks(hdr.body)
        p = hdr.body
        while True:
            oid = self.blob_oid(p)
            p += self.ints.size
            if oid == 0:
                return p
            p = self.skip_chunks(p)
