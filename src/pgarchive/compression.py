"""One streaming decompressor interface for none, gzip/zlib, lz4 and zstd.

Every decoder takes the stored chunks of one stream and yields decompressed pieces of at
most ``out_size`` bytes, so a small "bomb" cannot exhaust memory, and raises
:class:`CompressionError` when the stream is damaged, truncated or followed by garbage.

For zlib and gzip the fastest well-kept zlib-compatible inflater that is installed is used
(python-isal, then zlib-ng, then the standard library); see ``benchmarks/decompress.py``.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import IO, Any, cast

from .errors import CompressionError
from .format.constants import Compression
from .limits import INFLATE_FLOOR, INFLATE_RATIO

DEFAULT_OUT_SIZE = 1 << 20


class InflateLimit:
    """What one entry's data may inflate to: INFLATE_FLOOR bytes plus the algorithm's
    INFLATE_RATIO times the stored bytes read so far (README, Limits).
    One per entry, shared by its streams (the large objects of a BLOBS entry), so a small
    archive cannot make a reader decode terabytes; checked as it goes, so the error comes
    as soon as the data has inflated past it, not at the end."""

    def __init__(self, ratio: int | None = None, floor: int = INFLATE_FLOOR) -> None:
        self.ratio = ratio or 0  # 0: the algorithm's, set by decompress()
        self.floor = floor
        self.stored = 0
        self.inflated = 0

    def count_stored(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.stored += len(chunk)
            yield chunk

    def check(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.inflated += len(piece)
            if self.inflated > self.floor + self.ratio * self.stored:
                raise CompressionError(
                    f"data inflates to more than {self.ratio} times its stored size "
                    f"({self.inflated} bytes from {self.stored}; a decompression bomb?)")
            yield piece


def _zlib_backends() -> list[tuple[str, ModuleType]]:
    found: list[tuple[str, ModuleType]] = []
    try:
        from isal import isal_zlib

        found.append(("isal", isal_zlib))
    except ImportError:  # pragma: no cover - isal is a dependency, but optional at run time
        pass
    try:
        from zlib_ng import zlib_ng

        found.append(("zlib-ng", zlib_ng))
    except ImportError:
        pass
    found.append(("zlib", zlib))
    return found


@functools.cache
def zlib_backend() -> tuple[str, ModuleType]:
    """(name, module) of the inflater in use; imported on first use to keep start-up fast."""
    return _zlib_backends()[0]


def decompress(
    algorithm: Compression,
    chunks: Iterable[bytes],
    *,
    gzip_file: bool = False,
    out_size: int = DEFAULT_OUT_SIZE,
    zlib_module: ModuleType | None = None,
    limit: InflateLimit | None = None,
) -> Iterator[bytes]:
    """Decompress one stream given as its stored chunks.

    ``gzip_file`` selects a gzip (RFC 1952) wrapper for GZIP, as directory archives use; custom
    archives store a zlib (RFC 1950) stream.  ``limit`` bounds what the stream inflates to
    (a fresh InflateLimit when not given: pass one per entry to bound all its streams).
    """
    if algorithm == Compression.NONE:
        return recut(chunks, out_size)
    if limit is None:
        limit = InflateLimit()
    if not limit.ratio:
        limit.ratio = INFLATE_RATIO.get(algorithm.name.lower(), max(INFLATE_RATIO.values()))
    chunks = limit.count_stored(chunks)
    if algorithm == Compression.GZIP:
        out = _zlib(chunks, out_size, 31 if gzip_file else 15, zlib_module or zlib_backend()[1])
    elif algorithm == Compression.LZ4:
        out = _lz4(chunks, out_size)
    elif algorithm == Compression.ZSTD:
        out = _zstd(chunks, out_size)
    else:
        raise CompressionError(f"unknown compression algorithm {algorithm}")
    return limit.check(out)


def recut(chunks: Iterable[bytes], out_size: int) -> Iterator[bytes]:
    """Re-cut pieces to about ``out_size`` (none larger): stored chunks of uncompressed
    custom archives (one per row), or a decoder's small outputs (gzip gives ~11 kB)."""
    pending: list[bytes] = []
    size = 0
    for chunk in chunks:
        if len(chunk) > out_size:
            if pending:
                yield b"".join(pending)
                pending, size = [], 0
            for i in range(0, len(chunk), out_size):
                yield chunk[i:i + out_size]
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= out_size:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


_GZIP_MAGIC = b"\x1f\x8b"


def _zlib(chunks: Iterable[bytes], out_size: int, wbits: int, mod: ModuleType) -> Iterator[bytes]:
    """zlib (custom archives) or gzip files (directory archives).  A gzip file is read as
    zlib's gzread reads it for pg_restore: an empty file is empty data, and members written
    one after another (``cat a.gz b.gz``) are one stream."""
    gzip_file = wbits > 15
    name = "gzip" if gzip_file else "zlib"
    d = mod.decompressobj(wbits)
    fed = False
    for chunk in chunks:
        data = chunk
        while data:
            if d.eof:
                if not gzip_file or not _GZIP_MAGIC.startswith(data[:2]):
                    raise CompressionError(f"unexpected data after the end of the {name} stream")
                d = mod.decompressobj(wbits)  # another gzip member follows
            fed = True
            try:
                out = d.decompress(data, out_size)
            except mod.error as e:
                raise CompressionError(f"damaged {name} stream: {e}") from None
            if out:
                yield out
            data = d.unconsumed_tail
            if d.eof:
                data = d.unused_data + data
    if not fed and gzip_file:
        return
    if not d.eof:
        # Drain what zlib held back, then insist the stream really ended.
        try:
            out = d.flush()
        except mod.error as e:
            raise CompressionError(f"damaged {name} stream: {e}") from None
        if out:
            yield out
        if not d.eof:
            raise CompressionError(f"{name} stream is truncated (no end of stream marker)")


def _lz4(chunks: Iterable[bytes], out_size: int) -> Iterator[bytes]:
    """An lz4 frame; no bytes at all is empty data, as pg_restore reads the zero-byte file
    pg_dump 16+ writes for an empty large object in an lz4 directory archive."""
    import lz4.frame

    d = lz4.frame.LZ4FrameDecompressor()
    fed = False
    for chunk in chunks:
        data = chunk
        fed = fed or bool(chunk)
        while True:
            if d.eof:
                if data or d.unused_data:
                    raise CompressionError("unexpected data after the end of the lz4 frame")
                break
            try:
                out = d.decompress(data, max_length=out_size)
            except RuntimeError as e:
                raise CompressionError(f"damaged lz4 frame: {e}") from None
            if out:
                yield out
            data = b""
            if d.needs_input:
                break
    if fed and not d.eof:
        raise CompressionError("lz4 frame is truncated (no end mark)")


_BODIES = frozenset({"block_body", "skip"})


class ZstdFrameWalker:
    """Follows the block headers of zstd frames to know whether the stream is complete.

    zstandard's bounded streaming decoder does not report a truncated frame, but block
    sizes are in the clear, so the frame end can be found without decompressing.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.complete = True  # no frame started yet; an empty stream is complete
        self._state = "magic"
        self._need = 4
        self._checksum = False
        self._last = False

    def feed(self, data: bytes) -> None:
        pos, n = 0, len(data)
        while pos < n or (self._need == 0 and self._state in _BODIES):
            if self._state in _BODIES:  # counted past, never copied
                take = min(self._need, n - pos)
                self._need -= take
                pos += take
                if self._need:
                    return
                self._step(b"")
                continue
            take = min(self._need - len(self._buf), n - pos)
            self._buf += data[pos:pos + take]
            pos += take
            if len(self._buf) < self._need:
                return
            piece = bytes(self._buf)
            self._buf.clear()
            self._step(piece)

    def _step(self, piece: bytes) -> None:
        st = self._state
        if st == "magic":
            magic = int.from_bytes(piece, "little")
            if 0x184D2A50 <= magic <= 0x184D2A5F:  # skippable frame: 4-byte size follows
                self._state, self._need, self.complete = "skip_size", 4, False
                return
            if magic != 0xFD2FB528:
                raise CompressionError("damaged zstd stream: bad frame magic")
            self.complete = False
            self._state, self._need = "fhd", 1
        elif st == "skip_size":
            self._state, self._need = "skip", int.from_bytes(piece, "little")
            if self._need == 0:
                self._state, self._need, self.complete = "magic", 4, True
        elif st == "skip":
            self._state, self._need, self.complete = "magic", 4, True
        elif st == "fhd":
            fhd = piece[0]
            fcs_flag, single, dict_flag = fhd >> 6, (fhd >> 5) & 1, fhd & 3
            self._checksum = bool((fhd >> 2) & 1)
            size = (0 if single else 1) + (0, 1, 2, 4)[dict_flag]
            size += (1 if single else 0, 2, 4, 8)[fcs_flag]
            self._state, self._need = "fh_rest", size
            if size == 0:
                self._state, self._need = "block", 3
        elif st == "fh_rest":
            self._state, self._need = "block", 3
        elif st == "block":
            h = int.from_bytes(piece, "little")
            self._last = bool(h & 1)
            btype, bsize = (h >> 1) & 3, h >> 3
            if btype == 3:
                raise CompressionError("damaged zstd stream: reserved block type")
            length = 1 if btype == 1 else bsize
            self._state, self._need = "block_body", length
            if length == 0:
                self._after_block()
        elif st == "block_body":
            self._after_block()
        elif st == "checksum":
            self._state, self._need, self.complete = "magic", 4, True

    def _after_block(self) -> None:
        if not self._last:
            self._state, self._need = "block", 3
        elif self._checksum:
            self._state, self._need = "checksum", 4
        else:
            self._state, self._need, self.complete = "magic", 4, True

    @property
    def pending(self) -> int:
        return len(self._buf)


class _ChunkReader(io.RawIOBase):
    """A read()-able view of an iterator of chunks, feeding a ZstdFrameWalker on the way."""

    def __init__(self, chunks: Iterable[bytes], walker: ZstdFrameWalker) -> None:
        self._it = iter(chunks)
        self._rest = memoryview(b"")  # a view: taking from a huge chunk copies nothing else
        self._walker = walker

    def readable(self) -> bool:
        return True

    def exhausted(self) -> bool:
        """True when no byte is left unread (a second frame or garbage would be)."""
        if self._rest:
            return False
        for chunk in self._it:
            if chunk:
                self._walker.feed(chunk)
                return False
        return True

    def readinto(self, b: Any) -> int:
        while not self._rest:
            try:
                chunk = next(self._it)
            except StopIteration:
                return 0
            self._walker.feed(chunk)
            self._rest = memoryview(chunk)
        n = min(len(b), len(self._rest))
        b[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def _zstd(chunks: Iterable[bytes], out_size: int) -> Iterator[bytes]:
    import zstandard

    walker = ZstdFrameWalker()
    reader = _ChunkReader(chunks, walker)
    dctx = zstandard.ZstdDecompressor()
    try:
        with dctx.stream_reader(cast(IO[bytes], reader), read_size=1 << 17,
                                read_across_frames=False, closefd=False) as frame:
            while out := frame.read(out_size):
                yield out
    except zstandard.ZstdError as e:
        raise CompressionError(f"damaged zstd stream: {e}") from None
    if not reader.exhausted():
        raise CompressionError("unexpected data after the end of the zstd frame")
    if not walker.complete or walker.pending:
        raise CompressionError("zstd stream is truncated (frame not complete)")
