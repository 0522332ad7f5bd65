"""Byte sources: the one place a container's bytes are read from.

A container never opens or maps a file itself: it is handed a :class:`ByteSource` (a local
file, memory-mapped for random access; or bytes already in memory, as an inflated
``toc.dat``) and reads through it -- a whole view, a read at an offset, or a sequential
stream -- so another source (a pipe, a remote object) needs no change to the containers.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import BinaryIO, Self

from ..format.errors import FormatError
from ..format.toc import Buffer

READ_SIZE = 1 << 20


class ByteSource(ABC):
    """The bytes of one file of an archive."""

    def __init__(self, name: str) -> None:
        self.name = name  # the path errors name

    @property
    @abstractmethod
    def size(self) -> int | None:
        """How many bytes there are, if known before reading them."""

    @abstractmethod
    def view(self) -> Buffer:
        """Every byte, for random access by slicing (a memory map for a file: nothing is
        read until touched)."""

    @abstractmethod
    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset``, read without going through :meth:`view`
        (for a file, a plain read: cheaper than the map's page faults for large windows)."""

    @abstractmethod
    def stream(self, start: int = 0, end: int | None = None,
               piece: int = READ_SIZE) -> Iterator[bytes]:
        """The bytes from ``start`` to ``end`` (the end of the source if None), in order,
        in pieces of at most ``piece`` bytes."""

    def release(self, start: int, end: int) -> None:
        """A hint that the bytes between start and end are read and not needed again (so
        streaming a big archive keeps memory flat)."""
        return None  # nothing to drop by default

    def close(self) -> None:
        """Let go of what the source holds open."""
        return None  # nothing held by default

    def file(self) -> BinaryIO:
        """A buffered, seekable file object over the source (for the standard library's
        tarfile), reading with :meth:`read_at`; closing it leaves the source open."""
        return io.BufferedReader(_SourceFile(self))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class FileSource(ByteSource):
    """A local file: opened now, memory-mapped on the first :meth:`view` (the hot loops
    slice the map), read with ``pread`` otherwise."""

    def __init__(self, path: str, name: str | None = None) -> None:
        super().__init__(path if name is None else name)
        # O_NONBLOCK: a FIFO where a file should be is opened without waiting for a writer,
        # and refused; a regular file ignores the flag
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise FormatError("not a regular file (a FIFO or device where the archive has "
                              "a file)", path=self.name)
        os.set_blocking(fd, True)
        self._file = os.fdopen(fd, "rb")
        self._size = st.st_size
        self._map: mmap.mmap | None = None

    @property
    def size(self) -> int:
        """The file's size when opened."""
        return self._size

    def view(self) -> Buffer:
        """The file memory-mapped, read-only (mapped on first use)."""
        if self._map is None:
            if self._size == 0:  # an empty file (or a pipe) cannot be mapped
                return b""
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def read_at(self, offset: int, size: int) -> bytes:
        """A plain pread: no page faults of the map (a file cut while it is read gives a
        short read, said as such, where the map would kill the process with SIGBUS)."""
        out = os.pread(self._file.fileno(), size, offset)
        if len(out) < size and offset + len(out) < self._size:
            self._check_unchanged(offset + len(out))
        return out

    def read_into(self, offset: int, buffer: bytearray) -> int:
        """:meth:`read_at` into a buffer the caller reuses (no new pages to fault in for
        every window of a long read); returns the bytes read."""
        got = os.preadv(self._file.fileno(), [buffer], offset)
        if got < len(buffer) and offset + got < self._size:
            self._check_unchanged(offset + got)
        return got

    def _check_unchanged(self, pos: int) -> None:
        now = os.fstat(self._file.fileno()).st_size
        if now < self._size:
            raise FormatError(f"the archive changed while it was being read: it was "
                              f"{self._size} bytes, it is now {now} (overwritten by another "
                              "pg_dump, or cut?)", path=self.name, offset=pos)

    def stream(self, start: int = 0, end: int | None = None,
               piece: int = READ_SIZE) -> Iterator[bytes]:
        """Plain reads in pieces (never the map: see :meth:`read_at`)."""
        stop = self._size if end is None else min(end, self._size)
        for p in range(start, stop, piece):
            want = min(piece, stop - p)
            chunk = self.read_at(p, want)
            if chunk:
                yield chunk
            if len(chunk) < want:
                return

    def release(self, start: int, end: int) -> None:
        """Drop the map's pages between start and end."""
        release_pages(self._map, start, end)

    def close(self) -> None:
        """Close the map and the file."""
        for c in (self._map, self._file):
            if c is not None:
                with contextlib.suppress(Exception):
                    c.close()


def reused_reader(source: ByteSource, buf: bytearray
                  ) -> Callable[[int, int], bytes | bytearray]:
    """read(offset, size) for BlockReader.spans: full windows refill ``buf`` (a file's
    read_into), the rest are plain reads."""
    if not isinstance(source, FileSource):
        return source.read_at

    def read(offset: int, size: int) -> bytes | bytearray:
        if size != len(buf):
            return source.read_at(offset, size)
        got = source.read_into(offset, buf)
        return buf if got == size else bytes(buf[:got])

    return read


class MemorySource(ByteSource):
    """Bytes already in memory (a ``toc.dat`` inflated from its compressed file)."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(name)
        self._data = data

    @property
    def size(self) -> int:
        """The length of the bytes."""
        return len(self._data)

    def view(self) -> Buffer:
        """The bytes themselves."""
        return self._data

    def read_at(self, offset: int, size: int) -> bytes:
        """A slice of the bytes."""
        return self._data[offset:offset + size]

    def stream(self, start: int = 0, end: int | None = None,
               piece: int = READ_SIZE) -> Iterator[bytes]:
        """Slices of the bytes, in order."""
        stop = len(self._data) if end is None else end
        for p in range(start, stop, piece):
            yield self._data[p:min(p + piece, stop)]


def release_pages(buf: Buffer | None, start: int, end: int) -> None:
    """Drop the pages of a read-only map between start and end from memory (they are
    read again from the file if needed), so streaming a big archive keeps RSS flat."""
    if not isinstance(buf, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return
    first = (start // mmap.PAGESIZE + 1) * mmap.PAGESIZE
    last = (end // mmap.PAGESIZE) * mmap.PAGESIZE
    if last > first:
        with contextlib.suppress(OSError, ValueError):
            buf.madvise(mmap.MADV_DONTNEED, first, last - first)


class _SourceFile(io.RawIOBase):
    """A read-only, seekable raw file over a source's :meth:`ByteSource.read_at`."""

    def __init__(self, source: ByteSource) -> None:
        super().__init__()
        self._source = source
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read_at(self._pos, len(b))
        n = len(data)
        b[:n] = data
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = (self._source.size or 0) + offset
        return self._pos

    def tell(self) -> int:
        return self._pos
