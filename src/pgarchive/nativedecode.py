"""lz4 and zstd decoding into one reused buffer, through the C libraries' own stream APIs.

Why: the Python bindings hand back a new bytes object per call, one more copy of every
decompressed byte, and ``sql -f`` of a large lz4 or zstd archive is mostly that copy and
the decoding itself (issue 15).  Here ``LZ4F_decompress`` and ``ZSTD_decompressStream``
are called through ctypes with the stored chunks read in place and the output written
into a caller's buffer; which library: the system's libzstd (the one pg_restore links,
faster than the copy bundled with zstandard), else the C symbols the installed lz4 and
zstandard packages export.  :func:`lz4` and :func:`zstd` give None where none loads (then
the callers keep to :mod:`pgarchive.compression`).

These decoders only report that something is wrong (:data:`BAD`): a caller replays the
stream through :func:`pgarchive.compression.decompress`, whose errors are the ones
pgarchive gives.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from collections.abc import Callable, Iterable

OK, BAD = 0, 1
#: A (window, start, stop) piece of stored bytes, read in place (BlockReader.spans).
Span = tuple[bytes | bytearray, int, int]
Sink = Callable[[memoryview], object]


def _address(data: bytes | bytearray) -> int:
    """Where the contents of a bytes object or bytearray are (it must stay referenced, and
    a bytearray unresized, while in use)."""
    if isinstance(data, bytearray):
        return ctypes.addressof(ctypes.c_char.from_buffer(data))
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0


def _package_library(module: str, pattern: str) -> ctypes.CDLL | None:
    """The shared object of an installed package's extension, loaded for its C symbols."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for path in sorted(glob.glob(os.path.join(folder, pattern))):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


def _system_library(name: str) -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


class _Buffer(ctypes.Structure):
    """ZSTD_inBuffer and ZSTD_outBuffer: (pointer, size, pos)."""

    _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]


class Output:
    """An output buffer the decoders fill, reused from entry to entry.

    A sink may point it elsewhere (``address`` and ``view``, same ``size``) when it is
    handed a full buffer: the decoders read both again after each hand-over (verify's
    child process decodes straight into the slots of memory it shares, childdecode.py)."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.view = memoryview(self.data)
        self.address = ctypes.addressof((ctypes.c_char * size).from_buffer(self.data))
        self.size = size


#: Error codes are the largest size_t values (-1 down to -maxCode: about 20 for LZ4F,
#: 120 for zstd): a result below this is no error, without asking the library.
_ERRORS_FROM = (1 << 64) - 4096 if ctypes.sizeof(ctypes.c_size_t) == 8 else (1 << 32) - 4096


class _Windows:
    """The address of each window's contents, found once per window (not per chunk)."""

    def __init__(self) -> None:
        self._win: bytes | bytearray | None = None
        self._address = 0

    def address(self, win: bytes | bytearray) -> int:
        if win is not self._win:
            self._win, self._address = win, _address(win)
        return self._address


class Lz4Decoder:
    """One lz4 frame, as pgarchive.compression's lz4 decoder reads it."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        lib.LZ4F_createDecompressionContext.argtypes = [ctypes.POINTER(ctypes.c_void_p),
                                                        ctypes.c_uint]
        lib.LZ4F_createDecompressionContext.restype = ctypes.c_size_t
        lib.LZ4F_freeDecompressionContext.argtypes = [ctypes.c_void_p]
        lib.LZ4F_freeDecompressionContext.restype = ctypes.c_size_t
        lib.LZ4F_decompress.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p,
                                        ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
        lib.LZ4F_decompress.restype = ctypes.c_size_t
        lib.LZ4F_isError.argtypes = [ctypes.c_size_t]
        lib.LZ4F_isError.restype = ctypes.c_uint

    def copy(self, spans: Iterable[Span], out: Output, sink: Sink, floor: int,
             ratio: int) -> int:
        """Decode the frame in ``spans`` into ``out``, handing each full buffer to ``sink``:
        OK, or BAD when the frame is damaged, truncated, followed by bytes, or inflates past
        ``floor`` plus ``ratio`` times the stored bytes read so far (InflateLimit's bound,
        checked after every call with each span counted before it is decoded, so never
        later than the generic path finds it: a caller that replays on BAD gets exactly
        the generic path's answer)."""
        lib = self._lib
        ctx = ctypes.c_void_p()
        if lib.LZ4F_isError(lib.LZ4F_createDecompressionContext(ctypes.byref(ctx), 100)):
            return BAD
        try:
            return self._run(ctx, spans, out, sink, floor, ratio)
        finally:
            lib.LZ4F_freeDecompressionContext(ctx)

    def _run(self, ctx: ctypes.c_void_p, spans: Iterable[Span], out: Output, sink: Sink,
             floor: int, ratio: int) -> int:
        decode, is_error = self._lib.LZ4F_decompress, self._lib.LZ4F_isError
        dst_n, src_n = ctypes.c_size_t(), ctypes.c_size_t()
        dst_ref, src_ref = ctypes.byref(dst_n), ctypes.byref(src_n)
        base, size, view = out.address, out.size, out.view
        # stableDst: the last 64 kB decoded stay where they are until the next call (they
        # do: after a flush, decoding starts again at the buffer's start, more than 64 kB
        # below them, and has written 64 kB anew before it reaches them), so LZ4F keeps
        # no copy of every block as the history of the next
        options = (ctypes.c_uint * 4)(1, 0, 0, 0)
        low = size >> 2  # flush when less than this is free: lz4 blocks decode in place
        windows = _Windows()
        filled = inflated = stored = 0
        fed = ended = False
        for win, start, stop in spans:
            if start == stop:
                continue
            if ended:
                return BAD  # bytes after the end mark
            fed = True
            src = windows.address(win) + start
            left = stop - start
            stored += left
            while left:
                dst_n.value = size - filled
                src_n.value = left
                hint = decode(ctx, base + filled, dst_ref, src, src_ref, options)
                if hint >= _ERRORS_FROM and is_error(hint):
                    return BAD
                made, took = dst_n.value, src_n.value
                filled += made
                src += took
                left -= took
                # after every call: never laxer than the generic path's bound, which
                # counts a stored chunk before any of its output (see copy)
                if inflated + filled > floor + ratio * stored:
                    return BAD
                if hint == 0:
                    ended = True
                    if left:
                        return BAD
                if size - filled < low:
                    inflated += filled
                    sink(view[:filled])
                    base, view = out.address, out.view
                    filled = 0
                elif took == 0 and made == 0:
                    return BAD  # no progress: should not happen
        if filled:
            sink(view[:filled])
        return BAD if fed and not ended else OK


class ZstdDecoder:
    """One zstd frame, as pgarchive.compression's zstd decoder reads it (no bytes at all:
    empty data)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        lib.ZSTD_createDCtx.argtypes = []
        lib.ZSTD_createDCtx.restype = ctypes.c_void_p
        lib.ZSTD_freeDCtx.argtypes = [ctypes.c_void_p]
        lib.ZSTD_freeDCtx.restype = ctypes.c_size_t
        lib.ZSTD_decompressStream.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Buffer),
                                              ctypes.POINTER(_Buffer)]
        lib.ZSTD_decompressStream.restype = ctypes.c_size_t
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        lib.ZSTD_isError.restype = ctypes.c_uint

    def copy(self, spans: Iterable[Span], out: Output, sink: Sink, floor: int,
             ratio: int) -> int:
        """As :meth:`Lz4Decoder.copy`, for a zstd frame."""
        lib = self._lib
        ctx = lib.ZSTD_createDCtx()
        if not ctx:
            return BAD
        try:
            return self._run(ctx, spans, out, sink, floor, ratio)
        finally:
            lib.ZSTD_freeDCtx(ctx)

    def _run(self, ctx: int, spans: Iterable[Span], out: Output, sink: Sink, floor: int,
             ratio: int) -> int:
        decode, is_error = self._lib.ZSTD_decompressStream, self._lib.ZSTD_isError
        size, view = out.size, out.view
        src, dst = _Buffer(), _Buffer(out.address, size, 0)
        src_ref, dst_ref = ctypes.byref(src), ctypes.byref(dst)
        low = size >> 2
        windows = _Windows()
        inflated = stored = 0
        fed = ended = False
        hint = 1
        for win, start, stop in spans:
            if start == stop:
                continue
            if ended:
                return BAD
            fed = True
            n = stop - start
            stored += n
            src.ptr, src.size, src.pos = windows.address(win) + start, n, 0
            while True:
                hint = decode(ctx, dst_ref, src_ref)
                if hint >= _ERRORS_FROM and is_error(hint):
                    return BAD
                made = dst.pos
                if inflated + made > floor + ratio * stored:  # after every call (lz4's)
                    return BAD
                full = size - made < low
                if full:
                    inflated += made
                    sink(view[:made])
                    dst.ptr, view = out.address, out.view
                    dst.pos = 0
                if hint == 0:
                    ended = True
                    if src.pos < n:
                        return BAD
                    break
                if not full and src.pos == n:
                    break
        if dst.pos:
            sink(view[:dst.pos])
        return BAD if fed and not ended else OK


@functools.cache
def lz4() -> Lz4Decoder | None:
    """The lz4 decoder, or None where no library with LZ4F_decompress loads."""
    for lib in (_package_library("lz4.frame", "_frame*.so"), _system_library("liblz4.so.1")):
        if lib is not None and hasattr(lib, "LZ4F_decompress"):
            return Lz4Decoder(lib)
    return None


@functools.cache
def zstd() -> ZstdDecoder | None:
    """The zstd decoder, or None where no library with ZSTD_decompressStream loads."""
    for lib in (_system_library("libzstd.so.1"), _package_library("zstandard", "_cffi*.so")):
        if lib is not None and hasattr(lib, "ZSTD_decompressStream"):
            return ZstdDecoder(lib)
    return None


def decoder(method: int) -> Lz4Decoder | ZstdDecoder | None:
    """The decoder of a custom archive's compression method (lz4 or zstd), or None."""
    from .format.constants import Compression

    if method == Compression.LZ4:
        return lz4()
    return zstd() if method == Compression.ZSTD else None
