"""Directory format (pg_dump -Fd): toc.dat plus one file per data entry and per large object."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..errors import ArchiveError, FormatError, MissingDataError, NotAnArchiveError
from ..format.blobtoc import parse_blobs_toc_line
from ..format.constants import (
    DEFAULT_OUT_SIZE,
    K_VERS_1_16,
    SUFFIXES,
    TOC_FILES,
    ArchiveFormat,
    Compression,
)
from ..format.model import TocEntry
from ..format.toc import TocRead, parse_header
from ..limits import MAX_BLOB_LINES
from .base import IGNORED, Container, Finding, StoredStream, mapped, window_reader
from .source import ByteSource, FileSource
from .spool import private_file

if TYPE_CHECKING:
    from ..compression import InflateLimit

TOC_NAMES = tuple((name, algo) for algo, name in TOC_FILES.items())
READ_SIZE = 1 << 20
#: A compressed toc.dat is decompressed in memory; refuse one that inflates past this.
MAX_TOC_BYTES = 1 << 30
#: blobs.toc has one short line per large object: 64 MiB is over a million of them.
MAX_BLOB_TOC = 64 << 20


def safe_name(name: str, what: str) -> str:
    """A file name from the archive, refused if it could leave the archive's folder."""
    if (not name or "/" in name or "\\" in name or "\0" in name or name in (".", "..")):
        raise FormatError(f"{what} {name!r} is not a plain file name inside the archive")
    return name


def read_file_chunks(path: str, size: int = READ_SIZE) -> Iterator[bytes]:
    """The bytes of a data file in pieces, the file opened when the first is asked for;
    I/O failures become ArchiveErrors."""
    try:
        with FileSource(path) as f:
            yield from f.stream(piece=size)
    except OSError as e:
        raise FormatError(f"could not read file: {e.strerror or e}", path=path) from None


class DirectoryContainer(Container):
    """A directory archive (pg_dump -Fd): toc.dat and one file per data entry."""
    kind = "directory"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.root = os.path.realpath(path)
        for name, toc_algo in TOC_NAMES:
            toc_path = os.path.join(path, name)
            if os.path.isfile(toc_path):
                algo = toc_algo
                break
        else:
            raise NotAnArchiveError(
                "directory is not a pg_dump directory archive (no toc.dat)", path=path)
        self.toc_path = toc_path
        try:
            source: ByteSource
            if algo == Compression.NONE:
                source = FileSource(toc_path)
            else:
                inflated = self._inflate_toc(toc_path, algo)
                source = FileSource(inflated, name=toc_path)
                os.unlink(inflated)  # (open: its bytes stay until the source is closed)
            self._closers.append(source)
            self.toc_source = source
            # an empty toc.dat is no archive; an empty inflated one fails as the header
            self.toc_buf = buf = mapped(source) if algo == Compression.NONE else source.view()
            self.header = parse_header(buf, 0, len(buf))
        except ArchiveError as e:
            self.close()
            raise e.located(path=toc_path) from None
        # pg_dump writes archTar into a directory archive's toc.dat, and pg_restore
        # expects exactly that there.
        self._require_format(ArchiveFormat.TAR, toc_path)

    def _toc_source(self) -> tuple[Callable[[int, int], bytes], int, str, str]:
        return window_reader(self.toc_source), len(self.toc_buf), "filename", self.toc_path

    def _after_toc(self, res: TocRead) -> None:
        if res.end != len(self.toc_buf):
            raise FormatError(f"unexpected {len(self.toc_buf) - res.end} bytes after the TOC",
                              offset=res.end)

    @staticmethod
    def _inflate_toc(toc_path: str, algo: Compression) -> str:
        """A compressed toc.dat inflated, as a stream, into a private temporary file (its
        path): memory stays flat whatever it inflates to, up to MAX_TOC_BYTES."""
        from ..compression import decompress  # (not at import: ls of a plain toc.dat)

        target = private_file("toc")
        size = 0
        with open(target, "wb") as out:
            for piece in decompress(algo, read_file_chunks(toc_path), gzip_file=True):
                size += len(piece)
                if size > MAX_TOC_BYTES:
                    raise FormatError("compressed toc.dat inflates past 1 GiB")
                out.write(piece)
        return target

    def gzip_files(self) -> bool:
        """Directory archives compress data files as gzip files, not zlib streams."""
        return True

    def member_path(self, name: str) -> str:
        """The path of a file of the archive, refusing names and links that leave it."""
        p = os.path.join(self.path, safe_name(name, "data file name"))
        try:  # a plain name that is no link stays inside: one lstat, not a realpath
            if not stat.S_ISLNK(os.lstat(p).st_mode):
                return p
        except OSError:
            return p
        real = os.path.realpath(p)
        if os.path.dirname(real) != self.root:
            raise FormatError(f"data file {name!r} is a link that leaves the archive folder")
        return p

    def data_path(self, name: str) -> str:
        """The file pg_restore (16+) reads for TOC file name ``name``: the exact name if it
        exists, else the first of ``.gz``, ``.lz4``, ``.zst`` that does, whatever the
        header's compression says (compress_io.c, InitDiscoverCompressFileHandle)."""
        for suffix in SUFFIXES.values():
            p = self.member_path(name + suffix)
            if os.path.exists(p):
                return p
        missing = self.member_path(name + SUFFIXES[self.header.compression])
        raise MissingDataError(f"could not open input file \"{missing}\": No such file or "
                               "directory")

    @staticmethod
    def file_compression(path: str) -> Compression:
        """How pg_restore decodes a data file: by its suffix alone, not by the header."""
        for algo, suffix in SUFFIXES.items():
            if suffix and path.endswith(suffix):
                return algo
        return Compression.NONE

    def decompressed(self, entry: TocEntry, stream: StoredStream,
                     out_size: int = DEFAULT_OUT_SIZE,
                     limit: InflateLimit | None = None) -> Iterator[bytes]:
        """As the base's, each file decoded by its suffix, as pg_restore does."""
        from ..compression import decompress

        try:
            yield from decompress(self.file_compression(stream.path), stream.chunks,
                                  gzip_file=True, out_size=out_size, limit=limit)
        except ArchiveError as e:
            raise e.located(path=stream.path, offset=stream.offset, entry=entry.label) from None

    def blobs_toc_name(self, entry: TocEntry) -> str:
        """blobs.toc before 1.16, the entry's own blobs_<id>.toc from 1.16 on."""
        if self.header.version >= K_VERS_1_16:
            return entry.filename or f"blobs_{entry.dump_id}.toc"
        return "blobs.toc"

    def blob_list(self, entry: TocEntry) -> Iterator[tuple[int, str]]:
        """(oid, file name) for each large object of a BLOBS entry, from its blobs TOC.

        The file is read now (a missing or oversized one fails here); its lines are read
        as they are asked for, so that its million lines are never objects at once (issue
        12: an 8 MB blobs.toc took 200 MiB as a list).  A bad line fails when reached."""
        toc = self.member_path(self.blobs_toc_name(entry))
        try:
            with FileSource(toc) as f:
                size = f.size
                if size > MAX_BLOB_TOC:
                    raise FormatError(f"large object TOC file has {size} bytes, more than "
                                      f"{MAX_BLOB_TOC} (one line per large object)")
                raw = b"".join(f.stream(0, size))
        except OSError as e:
            raise FormatError(f"could not open large object TOC file \"{toc}\" for input: "
                              f"{e.strerror}") from None
        if raw.count(b"\n") > MAX_BLOB_LINES:  # issue 12: a documented limit
            raise FormatError(f"large object TOC file has more than {MAX_BLOB_LINES} lines")
        return _blob_lines(raw, toc)

    def _files_of(self, entry: TocEntry) -> Iterator[tuple[int | None, str]]:
        if entry.desc == "BLOBS":
            return ((oid, self.data_path(name)) for oid, name in self.blob_list(entry))
        return iter([(None, self.data_path(entry.filename or ""))])

    def stored_size(self, entry: TocEntry) -> int | None:
        """The bytes of the entry's data file(s) on disk, if they exist."""
        if not entry.has_data:
            return None
        try:
            sizes: dict[str, int] = {}  # a file named on many lines is asked for once
            total = 0
            for _oid, p in self._files_of(entry):
                size = sizes.get(p)
                if size is None:
                    size = os.path.getsize(p)
                    if len(sizes) < 4096:
                        sizes[p] = size
                total += size
            if entry.desc == "BLOBS":
                total += os.path.getsize(self.member_path(self.blobs_toc_name(entry)))
            return total
        except (ArchiveError, OSError):
            return None

    def stored_streams(self, entry: TocEntry) -> Iterator[tuple[int | None, StoredStream]]:
        """The entry's data file, or its large objects' files, as stored streams."""
        self._require_data(entry)
        try:
            files = self._files_of(entry)
            for oid, p in files:
                yield oid, StoredStream(read_file_chunks(p), 0, p)
        except ArchiveError as e:
            raise e.located(path=self.path, entry=entry.label) from None

    def data_files(self) -> set[str]:
        """The name of every file of the folder pg_restore would read: toc.dat, the data
        file it opens for each entry, each blobs TOC and the large object files it names.
        A missing or unreadable file leaves out only what depends on it."""
        names = {os.path.basename(self.toc_path)}
        for e in self.entries:
            if not e.has_data:
                continue
            listed = [e.filename or ""]
            if e.desc == "BLOBS":
                names.add(self.blobs_toc_name(e))
                try:
                    listed = [name for _oid, name in self.blob_list(e)]
                except ArchiveError:
                    continue
            for name in listed:
                with contextlib.suppress(ArchiveError):
                    names.add(os.path.basename(self.data_path(name)))
        return names

    def unexpected_files(self) -> list[Finding]:
        """Files of the folder pg_restore never reads: a README, stale data files of an
        earlier dump, the compressed twin of a data file it reads by its exact name."""
        known = self.data_files()
        return [Finding(f"file {name!r} in the archive folder is not part of the archive "
                        f"({IGNORED})", os.path.join(self.path, name))
                for name in sorted(os.listdir(self.path)) if name not in known]


def _blob_lines(raw: bytes, toc: str, window: int = 1 << 20) -> Iterator[tuple[int, str]]:
    """The (oid, file name) of each line of a blobs TOC file's bytes (split as
    ``bytes.splitlines`` splits), a window of lines at a time."""
    pos, lineno, n = 0, 0, len(raw)
    while pos < n:
        cut = raw.find(b"\n", pos + window)
        cut = n if cut < 0 else cut + 1
        for line in raw[pos:cut].splitlines():
            lineno += 1
            item = parse_blobs_toc_line(line)
            if item is None:
                raise FormatError(f"invalid line in large object TOC file \"{toc}\": "
                                  f"{line[:80]!r}", entry=f"line {lineno}")
            yield item
        pos = cut
