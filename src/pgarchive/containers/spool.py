"""Archives that are not a file to read in place: standard input (``-``) or another pipe,
and archives compressed as a whole after pg_dump (``backup.dump.gz``, ``.zst``, ``.xz``,
``.bz2``, ``.lz4``, ``dump.tar.gz``), recognised by their magic bytes, not their names.

pg_restore reads a custom or tar archive from a pipe front to back.  pgarchive's readers
seek (the TOC first, then the data, in any order, by several workers), so such an input is
read once, as a stream in bounded pieces, into a private temporary file (in ``TMPDIR``),
which everything else then reads as a local file: the same path given again in the same
run (a worker, the engine's connections, the pg_restore child) finds that file.  It is
removed when the process exits.  The cost is disk space for the archive's (inflated)
size, said in the README.
"""

from __future__ import annotations

# Only os and stat at import: every command that opens an archive imports this module,
# and the rest (tempfile, shutil, threading, the decoders: ~20 ms) only a spooled one needs.
import itertools
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, cast

from ..errors import ArchiveError, CompressionError
from ..format.constants import MAGIC

PIECE = 1 << 20
#: magic bytes -> the wrapper's name (none of them starts a pg_dump archive: custom starts
#: with PGDMP, tar with a member name, a text dump with "--")
WRAPPERS = ((b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\xfd7zXZ\x00", "xz"),
            (b"BZh", "bzip2"), (b"\x04\x22\x4d\x18", "lz4"))

#: the path given -> the temporary file read instead, for the rest of this process
_SPOOLED: dict[str, str] = {}
_DIR: list[str] = []
_NUMBERS = itertools.count(1)


def wrapper_of(head: bytes) -> str | None:
    """The whole-file compression ``head`` (the first bytes) starts with, if any."""
    return next((name for magic, name in WRAPPERS if head.startswith(magic)), None)


def looks_like_a_dump(head: bytes) -> bool:
    """Whether the first bytes of a stream may start something pg_restore reads or names
    (a custom archive, a tar member header, a text dump): else only they are kept, and
    opening the spooled copy says what it is not."""
    return head.startswith((MAGIC, b"--")) or (len(head) >= 263 and
                                                    head[257:262] == b"ustar")


def readable_path(path: str) -> str:
    """The local, seekable, uncompressed file to read for ``path``: ``path`` itself for a
    directory or a plain archive file; otherwise its spooled copy (made on first use)."""
    if path in _SPOOLED:
        return _SPOOLED[path]
    if path != "-":
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return path  # opening it says what is wrong
        if stat.S_ISDIR(mode):
            return path
        if stat.S_ISREG(mode):
            with open(path, "rb") as f:
                if wrapper_of(f.read(6)) is None:
                    return path
        elif not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):  # /dev/zero, a disk
            raise ArchiveError("not a regular file, a directory or a pipe", path=path)
    _SPOOLED[path] = _spool(path)
    return _SPOOLED[path]


def _spool(path: str) -> str:
    """Copy standard input or the file at ``path``, unwrapped, into a temporary file."""
    import contextlib
    import lzma
    import sys

    target = private_file("archive")
    try:
        with contextlib.ExitStack() as stack:
            src: BinaryIO = sys.stdin.buffer if path == "-" else \
                stack.enter_context(open(path, "rb"))
            out = stack.enter_context(open(target, "wb"))
            pieces = _pieces(src)
            first = next(pieces, b"")
            wrapper = wrapper_of(first)
            data = _chain(first, pieces)
            if wrapper is not None:
                data = _UNWRAP[wrapper](data)
                first = next(data, b"")
                data = _chain(first, data)
            if first and not looks_like_a_dump(first):  # not read to its end: it may
                out.write(first[:4096])  # never end (yes | pgarchive ls -)
                return target
            for piece in data:
                out.write(piece)
    except (OSError, EOFError, lzma.LZMAError, ValueError, RuntimeError,
            CompressionError) as e:
        what = "standard input" if path == "-" else path
        why = e.message if isinstance(e, CompressionError) else \
            getattr(e, "strerror", None) or e
        raise ArchiveError(f"could not read the archive from {what}: {why}",
                           path=path) from None
    return target


def private_file(what: str) -> str:
    """A new path in this process's private temporary folder (removed at exit)."""
    return os.path.join(_private_dir(), f"{what}-{next(_NUMBERS)}")


def _private_dir() -> str:
    import atexit
    import signal
    import tempfile
    import threading

    if not _DIR:
        _DIR.append(tempfile.mkdtemp(prefix="pgarchive-"))
        atexit.register(cleanup)
        if hasattr(signal, "SIGPIPE") and threading.current_thread() is threading.main_thread():
            # `... | pgarchive ls - | head`: a closed pipe must not kill the process before
            # it removes its copy; the CLI ends quietly on the BrokenPipeError instead
            signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    return _DIR[0]


def cleanup() -> None:
    """Remove the private temporary folder (at exit, and by the CLI before os._exit)."""
    import shutil

    while _DIR:
        shutil.rmtree(_DIR.pop(), True)
    _SPOOLED.clear()


def _pieces(f: BinaryIO) -> Iterator[bytes]:
    while piece := f.read(PIECE):
        yield piece


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _gzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Every member of a gzip file (``gzip -c a b > x.gz`` makes two), through the same
    decoder (and fastest installed inflater) as a directory archive's gzip files."""
    from ..compression import decompress
    from ..format.constants import Compression

    return decompress(Compression.GZIP, chunks, gzip_file=True)


def _zstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(
        _as_file(chunks), read_across_frames=True)
    while piece := reader.read(PIECE):
        yield piece


def _lz4(chunks: Iterable[bytes]) -> Iterator[bytes]:
    import lz4.frame

    with lz4.frame.open(_as_file(chunks), "rb") as f:
        while piece := f.read(PIECE):
            yield piece


def _xz(chunks: Iterable[bytes]) -> Iterator[bytes]:
    import lzma

    with lzma.LZMAFile(_as_file(chunks)) as f:
        while piece := f.read(PIECE):
            yield piece


def _bzip2(chunks: Iterable[bytes]) -> Iterator[bytes]:
    import bz2

    with bz2.BZ2File(_as_file(chunks)) as f:
        while piece := f.read(PIECE):
            yield piece


_UNWRAP: dict[str, Callable[[Iterable[bytes]], Iterator[bytes]]] = {
    "gzip": _gzip, "zstd": _zstd, "lz4": _lz4, "xz": _xz, "bzip2": _bzip2}


def _as_file(chunks: Iterable[bytes]) -> BinaryIO:
    """The chunks as the readable file the decoders take (typed as one: no "type: ignore",
    which mypy would call unused where a decoder's stubs are missing, as in the isolated
    build environment where mypyc checks this module)."""
    return cast(BinaryIO, _IterFile(chunks))


class _IterFile:
    """A read-only file object over an iterator of byte strings (for the decoders that
    want a file)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it = iter(chunks)
        self._buf = b""
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if self._pos >= len(self._buf):
            self._buf, self._pos = next(self._it, b""), 0
        if size < 0:
            out = self._buf[self._pos:] + b"".join(self._it)
            self._buf, self._pos = b"", 0
            return out
        out = self._buf[self._pos:self._pos + size]
        self._pos += len(out)
        return out

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        return None
