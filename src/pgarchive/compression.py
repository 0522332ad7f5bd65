"""Streaming decompressors and compressors for none, gzip/zlib, lz4 and zstd.

Every decoder takes the stored chunks of one stream and yields decompressed pieces of at
most ``out_size`` bytes, so a small "bomb" cannot exhaust memory, and raises
:class:`CompressionError` when the stream is damaged, truncated or followed by garbage.

For zlib and gzip the fastest well-kept zlib-compatible inflater that is installed is used
(python-isal, then zlib-ng, then the standard library); see ``benchmarks/decompress.py``.

The compressors write pg_dump's exact stream forms (a zlib stream in custom archives, a gzip
file in directory archives, LZ4 and zstd frames with pg_dump's settings), and a deflate
stream can change wrapper (zlib <-> gzip) without being compressed again.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import IO, Any, NamedTuple, cast

from .errors import CompressionError
from .format.constants import DEFAULT_OUT_SIZE, Compression
from .limits import INFLATE_FLOOR, INFLATE_RATIO

__all__ = ["DEFAULT_OUT_SIZE"]  # (re-exported)


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
        """Pass the stored chunks through, counting their bytes (the ratio's base)."""
        for chunk in chunks:
            self.stored += len(chunk)
            yield chunk

    def check(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        """Pass the inflated pieces through, refusing the first that takes the total past the
        limit."""
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
        # pg_dump's chunks of lz4 data are small (~40 kB): decoding them one call each
        # costs more than joining them first (measured: 1.20 s against 1.00 s of CPU for
        # a 2 GB table, output re-cut to 1 MB).  A quarter of the output size keeps one
        # call's output within it for what pg_dump's data compresses to (~1.5-3x).
        out = _lz4(_batched(chunks, max(out_size // 4, 1)), out_size)
    elif algorithm == Compression.ZSTD:
        out = _zstd(chunks, out_size)
    else:
        raise CompressionError(f"unknown compression algorithm {algorithm}")
    return limit.check(out)


def recut(chunks: Iterable[bytes], out_size: int, least: int | None = None) -> Iterator[bytes]:
    """Re-cut pieces to about ``out_size`` (none larger): stored chunks of uncompressed
    custom archives (one per row), or a decoder's small outputs (gzip gives ~11 kB).

    ``least``: a piece of at least that size (and at most ``out_size``) that comes with
    nothing pending is handed on as it is, not copied into a join (verify -j2: lz4's
    ~450 kB outputs; joining them into 1 MB pieces cost 0.3 s of 1.7 on a 2 GB table)."""
    pending: list[bytes] = []
    size = 0
    for chunk in chunks:
        if least is not None and not pending and least <= len(chunk) <= out_size:
            yield chunk
            continue
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


def _batched(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Stored chunks joined into pieces of at least ``size`` bytes (the last one shorter);
    when reading them fails, what was joined is handed on first, so that the decoder
    meets what lies before the failure first, as it would chunk by chunk."""
    pending: list[bytes] = []
    held = 0
    try:
        for chunk in chunks:
            pending.append(chunk)
            held += len(chunk)
            if held >= size:
                yield pending[0] if len(pending) == 1 else b"".join(pending)
                pending, held = [], 0
    except Exception:  # (not GeneratorExit: a consumer that stops early gets nothing more)
        if pending:
            yield b"".join(pending)
        raise
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
            if d.needs_input and not d.eof:  # at the end: bytes after it, in this chunk?
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
        """Walk the frame structure over the next stored bytes, keeping only what a header
        split between pieces needs."""
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
        """Bytes of a header kept, waiting for the rest of it."""
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


# --- compressors: pg_dump's stream forms, for writing ------------------------------------

#: The level pg_dump uses when none is given (src/common/compression.c): zlib's default,
#: lz4's fast mode, ZSTD_CLEVEL_DEFAULT.
DEFAULT_LEVELS = {Compression.GZIP: zlib.Z_DEFAULT_COMPRESSION, Compression.LZ4: 0,
                  Compression.ZSTD: 3}
#: The levels pg_dump accepts (validate_compress_specification): zlib 1-9, lz4 1-12,
#: ZSTD_minCLevel()..ZSTD_maxCLevel().
LEVEL_RANGES = {Compression.GZIP: (1, 9), Compression.LZ4: (1, 12),
                Compression.ZSTD: (-(1 << 17), 22)}
#: pg_dump's DEFAULT_IO_BUFFER_SIZE: the zlib output buffer, so custom archives hold gzip
#: streams in chunks of exactly this size (the last one shorter).
GZIP_CHUNK = 4096


class CompressionSpec(NamedTuple):
    """A compression method and level as pg_dump's ``-Z`` takes them.

    ``level`` None means pg_dump's default for the method (and, for convert, that data
    already compressed with the same method can be copied as it is).
    """

    algorithm: Compression
    level: int | None = None
    long_distance: bool = False

    @property
    def effective_level(self) -> int:
        """The level the compressor uses (pg_dump's default when none was given)."""
        if self.level is not None:
            return self.level
        return DEFAULT_LEVELS.get(self.algorithm, 0)

    def __str__(self) -> str:
        text = self.algorithm.name.lower()
        if self.level is not None and self.algorithm != Compression.NONE:
            text += f":{self.level}"
        if self.long_distance:
            text += ",long" if ":" in text else ":long"
        return text

    @classmethod
    def parse(cls, text: str) -> CompressionSpec:
        """Parse ``none``, ``gzip``, ``gzip:9``, ``zstd:level=19,long``, or a bare level
        0-9 (gzip; 0 is none), as pg_dump's ``-Z`` does.  Raises ValueError with
        pg_dump's wording."""
        raw = text.strip()
        if raw.lstrip("-").isdigit():
            if int(raw) == 0:
                return cls(Compression.NONE)
            return cls._checked(Compression.GZIP, int(raw), False)
        name, _, options = raw.partition(":")
        try:
            algorithm = Compression[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unrecognized compression algorithm: \"{name}\"") from None
        level: int | None = None
        long_distance = False
        for opt in filter(None, (o.strip() for o in options.split(","))):
            key, eq, value = opt.partition("=")
            key = key.strip()
            if not eq and key.lstrip("-").isdigit():
                key, value = "level", key
            if key == "level":
                try:
                    level = int(value)
                except ValueError:
                    raise ValueError(f"value for compression option \"level\" must be an "
                                     f"integer: \"{value}\"") from None
            elif key == "long":
                if algorithm != Compression.ZSTD:
                    raise ValueError(f"compression algorithm \"{name}\" does not support "
                                     "long-distance mode")
                long_distance = value.strip().lower() not in ("0", "off", "false", "no")
            else:
                raise ValueError(f"unrecognized compression option: \"{key}\"")
        if algorithm == Compression.NONE:
            if level not in (None, 0):
                raise ValueError("compression algorithm \"none\" does not accept a "
                                 "compression level")
            return cls(Compression.NONE)
        return cls._checked(algorithm, level, long_distance)

    @classmethod
    def _checked(cls, algorithm: Compression, level: int | None,
                 long_distance: bool) -> CompressionSpec:
        if level is not None:
            low, high = LEVEL_RANGES[algorithm]
            if not low <= level <= high:
                raise ValueError(f"compression algorithm \"{algorithm.name.lower()}\" expects "
                                 f"a compression level between {low} and {high}")
        return cls(algorithm, level, long_distance)


class Compressor:
    """Compresses one stream the way pg_dump does: ``begin()`` gives the bytes written
    before any data (lz4's frame header, which pg_dump writes as a chunk of its own),
    ``compress()`` what the data gives at once, ``finish()`` the end of the stream."""

    def begin(self) -> bytes:
        """What the stream starts with, before any data."""
        return b""

    def compress(self, data: bytes) -> bytes:
        """The output that ``data`` gives now (may be empty: compressors buffer)."""
        return bytes(data)

    def finish(self) -> bytes:
        """The rest of the stream and its end."""
        return b""


class _Deflate(Compressor):
    """zlib's deflate at pg_dump's settings: deflateInit (a zlib stream, custom format) or
    gzopen's deflateInit2 with windowBits 31 (a gzip file, directory format): memLevel 8,
    default strategy.  The standard library's zlib gives pg_dump's exact bytes."""

    def __init__(self, level: int, gzip_file: bool) -> None:
        self._c = zlib.compressobj(level, zlib.DEFLATED, 31 if gzip_file else 15, 8,
                                   zlib.Z_DEFAULT_STRATEGY)

    def compress(self, data: bytes) -> bytes:
        return self._c.compress(data)

    def finish(self) -> bytes:
        return self._c.flush()


class _Lz4(Compressor):
    """An LZ4 frame with pg_dump's LZ4F preferences: everything zero but the level, that
    is 64 KiB linked blocks, no checksums, no content size."""

    def __init__(self, level: int) -> None:
        import lz4.frame

        self._c = lz4.frame.LZ4FrameCompressor(
            block_size=lz4.frame.BLOCKSIZE_DEFAULT, block_linked=True, content_checksum=False,
            block_checksum=False, auto_flush=False, compression_level=level,
            return_bytearray=False)

    def begin(self) -> bytes:
        return bytes(self._c.begin())

    def compress(self, data: bytes) -> bytes:
        return bytes(self._c.compress(data))

    def finish(self) -> bytes:
        return bytes(self._c.flush())


class _Zstd(Compressor):
    """A zstd frame as pg_dump's ZSTD_compressStream2 writes it: the level (and long-distance
    matching, with zstd's default long window of 2^27), no checksum, no content size."""

    def __init__(self, level: int, long_distance: bool) -> None:
        import zstandard

        if long_distance:
            params = zstandard.ZstdCompressionParameters.from_level(
                level, enable_ldm=True, window_log=27, write_content_size=0,
                write_checksum=0)
            cctx = zstandard.ZstdCompressor(compression_params=params)
        else:
            cctx = zstandard.ZstdCompressor(level=level, write_content_size=False,
                                            write_checksum=False)
        self._c = cctx.compressobj()

    def compress(self, data: bytes) -> bytes:
        return bytes(self._c.compress(data))

    def finish(self) -> bytes:
        return bytes(self._c.flush())


def compressor(spec: CompressionSpec, *, gzip_file: bool = False) -> Compressor:
    """A compressor for one stream; ``gzip_file`` gives gzip files (directory archives)
    instead of zlib streams (custom archives) for GZIP."""
    level = spec.effective_level
    if spec.algorithm == Compression.NONE:
        return Compressor()
    if spec.algorithm == Compression.GZIP:
        return _Deflate(level, gzip_file)
    if spec.algorithm == Compression.LZ4:
        return _Lz4(level)
    if spec.algorithm == Compression.ZSTD:
        return _Zstd(level, spec.long_distance)
    raise CompressionError(f"unknown compression algorithm {spec.algorithm}")


def compressed(spec: CompressionSpec, pieces: Iterable[bytes], *,
               gzip_file: bool = False) -> Iterator[bytes]:
    """Compress a stream given as pieces; yields the non-empty outputs as they come."""
    c = compressor(spec, gzip_file=gzip_file)
    if head := c.begin():
        yield head
    for piece in pieces:
        if out := c.compress(piece):
            yield out
    if tail := c.finish():
        yield tail


# --- one deflate stream, two wrappers: zlib (custom) <-> gzip (directory) ----------------
#
# Custom archives hold zlib streams (RFC 1950), directory archives gzip files (RFC 1952),
# around the same deflate data.  Changing the wrapper keeps the deflate bytes; only the
# trailer's checksum (Adler-32 against CRC-32) needs the data, so the stream is inflated
# to compute it -- and the old checksum is checked on the way.

#: zlib's gzip XFL byte for a level (deflate.c): 2 for level 9, 4 for the fastest, else 0.
def _gzip_xfl(level: int | None, flevel: int | None) -> int:
    if level is not None and level != -1:
        return 2 if level == 9 else 4 if level < 2 else 0
    return {0: 4, 3: 0}.get(flevel if flevel is not None else 2, 0)


def _zlib_header(level: int | None, xfl: int | None) -> bytes:
    """The two zlib header bytes deflateInit writes: 32 KiB window, FLEVEL from the level
    (or from the gzip XFL byte when the level is unknown), FCHECK."""
    if level is not None and level != -1:
        flevel = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    else:
        flevel = {2: 3, 4: 0}.get(xfl if xfl is not None else 0, 2)
    cmf = 0x78
    flg = flevel << 6
    flg |= 31 - ((cmf << 8) | flg) % 31
    return bytes([cmf, flg])


_GZIP_HEAD_MAX = 64 << 10


def _take(pending: bytearray, chunks: Iterator[bytes], n: int, what: str) -> bytes:
    """The first ``n`` bytes of a stream, from ``pending`` then the chunks."""
    while len(pending) < n:
        try:
            pending += next(chunks)
        except StopIteration:
            raise CompressionError(f"{what} is truncated (incomplete header)") from None
    out = bytes(pending[:n])
    del pending[:n]
    return out


def _gzip_header_length(buf: bytearray, chunks: Iterator[bytes]) -> int:
    """Bytes of the gzip member header at the start of ``buf`` (more are read into it
    from ``chunks`` as needed)."""
    def need(n: int) -> None:
        while len(buf) < n:
            if len(buf) > _GZIP_HEAD_MAX:
                raise CompressionError("damaged gzip stream: header too long")
            try:
                buf.extend(next(chunks))
            except StopIteration:
                raise CompressionError("gzip stream is truncated (incomplete header)") from None

    need(10)
    if buf[0] != 0x1F or buf[1] != 0x8B or buf[2] != 8:
        raise CompressionError("damaged gzip stream: incorrect header check")
    flags = buf[3]
    pos = 10
    if flags & 4:  # FEXTRA
        need(pos + 2)
        pos += 2 + int.from_bytes(buf[pos:pos + 2], "little")
        need(pos)
    for bit in (8, 16):  # FNAME, FCOMMENT: zero-terminated
        if flags & bit:
            while True:
                need(pos + 1)
                end = buf.find(b"\0", pos)
                if end >= 0:
                    pos = end + 1
                    break
                need(len(buf) + 1)
    if flags & 2:  # FHCRC
        pos += 2
        need(pos)
    return pos


class _DeflateBody:
    """The raw deflate bytes of a stream (those before its trailer), yielded as they come;
    inflated on the way to learn crc32, adler32 and size of the data.  After iteration,
    ``rest`` holds the bytes that followed the deflate data (the trailer)."""

    def __init__(self, chunks: Iterator[bytes], first: bytes, name: str,
                 mod: ModuleType) -> None:
        self._chunks, self._first, self._name, self._mod = chunks, first, name, mod
        self._d = mod.decompressobj(-15)
        self.crc, self.adler, self.size = 0, 1, 0
        self.rest = bytearray()

    def _count(self, out: bytes) -> None:
        if out:
            self.crc = self._mod.crc32(out, self.crc)
            self.adler = self._mod.adler32(out, self.adler)
            self.size += len(out)

    def _feed(self, piece: bytes) -> bytes:
        d, data = self._d, piece
        while data and not d.eof:
            try:
                out = d.decompress(data, DEFAULT_OUT_SIZE)
            except self._mod.error as e:
                raise CompressionError(f"damaged {self._name} stream: {e}") from None
            self._count(out)
            data = d.unconsumed_tail
        if d.eof:
            tail = d.unused_data
            self.rest += tail
            return piece[:len(piece) - len(tail)]
        return piece

    def __iter__(self) -> Iterator[bytes]:
        if self._first and (body := self._feed(self._first)):
            yield body
        for chunk in self._chunks:
            if self._d.eof:
                self.rest += chunk
                if len(self.rest) > 64:  # damage: no need to read on
                    break
                continue
            if body := self._feed(chunk):
                yield body
        if not self._d.eof:
            try:
                self._count(self._d.flush())
            except self._mod.error as e:
                raise CompressionError(f"damaged {self._name} stream: {e}") from None
            if not self._d.eof:
                raise CompressionError(
                    f"{self._name} stream is truncated (no end of stream marker)")


def zlib_to_gzip(chunks: Iterable[bytes], level: int | None = None,
                 zlib_module: ModuleType | None = None) -> Iterator[bytes]:
    """A custom archive's zlib stream as the gzip file a directory archive holds, with the
    same deflate bytes: exactly what gzwrite gives for the same data and level.  The
    Adler-32 trailer is checked; a damaged stream raises CompressionError."""
    mod = zlib_module or zlib_backend()[1]
    it = iter(chunks)
    pending = bytearray()
    head = _take(pending, it, 2, "zlib stream")
    cmf, flg = head
    if cmf & 0x0F != 8 or cmf >> 4 > 7 or ((cmf << 8) | flg) % 31 or flg & 0x20:
        raise CompressionError("damaged zlib stream: incorrect header check")
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes([_gzip_xfl(level, flg >> 6), 3])
    body = _DeflateBody(it, bytes(pending), "zlib", mod)
    yield from body
    rest = body.rest
    if len(rest) < 4:
        raise CompressionError("zlib stream is truncated (no checksum)")
    if int.from_bytes(rest[:4], "big") != body.adler:
        raise CompressionError("damaged zlib stream: incorrect data check")
    if len(rest) > 4:
        raise CompressionError("unexpected data after the end of the zlib stream")
    yield body.crc.to_bytes(4, "little") + (body.size & 0xFFFFFFFF).to_bytes(4, "little")


def gzip_to_zlib(chunks: Iterable[bytes], level: int | None = None,
                 zlib_module: ModuleType | None = None) -> Iterator[bytes]:
    """A directory archive's gzip file as the zlib stream a custom archive holds, with the
    same deflate bytes (what deflate gives for the same data and level).  The CRC-32 and
    length trailer is checked; a damaged stream raises CompressionError."""
    mod = zlib_module or zlib_backend()[1]
    it = iter(chunks)
    buf = bytearray()
    n = _gzip_header_length(buf, it)
    xfl = buf[8]
    yield _zlib_header(level, xfl)
    body = _DeflateBody(it, bytes(buf[n:]), "gzip", mod)
    yield from body
    rest = body.rest
    if len(rest) < 8:
        raise CompressionError("gzip stream is truncated (no trailer)")
    if (int.from_bytes(rest[:4], "little") != body.crc
            or int.from_bytes(rest[4:8], "little") != body.size & 0xFFFFFFFF):
        raise CompressionError("damaged gzip stream: incorrect data check")
    if len(rest) > 8:
        raise CompressionError("unexpected data after the end of the gzip stream")
    yield body.adler.to_bytes(4, "big")
