"""Tar format (pg_dump -Ft): toc.dat, then <id>.dat and blob_<oid>.dat members, uncompressed.

Member headers are read by the standard library's tarfile; this module only checks what a
hostile tar could do (names that leave the archive, members that run past the end).
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import (
    ArchiveError,
    FormatError,
    MissingDataError,
    NotAnArchiveError,
    TruncatedError,
)
from ..format.blobtoc import parse_blobs_toc_line
from ..format.constants import K_VERS_1_16, ArchiveFormat
from ..format.model import TocEntry
from ..format.toc import TocRead, parse_header
from .base import Container, StoredStream, release_pages, window_reader

READ_SIZE = 1 << 20
BLOCK = 512  # tar's block size; pg_dump ends the file with two zero blocks


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    offset: int  # of the data
    size: int


def _check_name(name: str) -> None:
    if name.startswith("/") or ".." in name.split("/") or "\\" in name or "\0" in name:
        raise FormatError(f"tar member name {name!r} would leave the archive")


class TarContainer(Container):
    kind = "tar"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            f = self._open_mapped()
            self.cut_short: dict[str, int] = {}  # member name -> bytes missing
            self.members_end = 0  # where the last member's data (with its padding) ends
            self.members = self._read_members(f)
            if "toc.dat" in self.cut_short:
                raise TruncatedError("archive is truncated inside toc.dat",
                                     offset=self.members["toc.dat"].offset + 0)
            toc = self.members.get("toc.dat")
            if toc is None:
                raise FormatError("tar archive has no toc.dat member")
            self.toc_member = toc
            self.header = parse_header(self.buf, toc.offset, toc.offset + toc.size)
        except ArchiveError as e:
            self.close()
            raise e.located(path=path) from None
        self._require_format(ArchiveFormat.TAR, path, self.toc_member.offset)

    def _toc_source(self) -> tuple[Callable[[int, int], bytes], int, str, str]:
        m = self.toc_member
        return window_reader(self.buf), m.offset + m.size, "filename", self.path

    def _after_toc(self, res: TocRead) -> None:
        m = self.toc_member
        if res.end != m.offset + m.size:
            raise FormatError(f"unexpected {m.offset + m.size - res.end} bytes after the TOC "
                              "in toc.dat", offset=res.end)

    def _read_members(self, f: object) -> dict[str, Member]:
        members: dict[str, Member] = {}
        try:
            with tarfile.open(fileobj=f, mode="r:") as tf:  # type: ignore[call-overload]
                for info in tf:
                    _check_name(info.name)
                    self.members_end = max(self.members_end, info.offset_data
                                           + -(-info.size // BLOCK) * BLOCK)
                    if not info.isfile():
                        continue
                    if info.offset_data + info.size > self.size:
                        self.cut_short[info.name] = info.offset_data + info.size - self.size
                    members.setdefault(info.name, Member(info.name, info.offset_data,
                                                         info.size))
        except tarfile.TarError as e:
            if not members:
                raise NotAnArchiveError(f"not a valid tar archive: {e}") from None
            last = list(members)[-1]
            if last in self.cut_short or "end of data" in str(e):
                return members  # the file ends here; what is missing is reported on reading
            raise FormatError(f"damaged tar archive after member "
                              f"{list(members)[-1]!r}: {e}") from None
        return members

    def end_problems(self) -> list[tuple[str, int]]:
        """(message, offset) for each way the file is not whole outside the entries' data,
        which pg_restore never reads: a member cut short that is no entry's data (the
        restore.sql pg_dump writes last), or missing or non-zero end-of-archive blocks."""
        data = {e.filename for e in self.entries if e.has_data and e.desc != "BLOBS"}
        out = [(f"archive is truncated: tar member {name!r} of "
                f"{self.members[name].size} bytes is cut short by {missing} bytes",
                self.size) for name, missing in self.cut_short.items()
               if name not in data and not name.startswith("blob_")]
        if self.cut_short or not self.members:
            return out
        end = self.members_end
        tail = bytes(self.buf[end:end + 2 * BLOCK])
        if end + 2 * BLOCK > self.size:
            out.append((f"archive is truncated: the end-of-archive blocks after the last "
                        f"member are {end + 2 * BLOCK - self.size} bytes short", self.size))
        if tail.strip(b"\0"):
            out.append(("the end-of-archive blocks after the last member hold data", end))
        return out

    @property
    def can_seek_data(self) -> bool:
        return False  # pg_restore reads tar strictly forward

    def member(self, name: str) -> Member:
        m = self.members.get(name)
        if m is None:
            raise MissingDataError(f"could not find file \"{name}\" in archive")
        return m

    def _chunks(self, m: Member) -> Iterator[bytes]:
        end = min(m.offset + m.size, self.size)
        for p in range(m.offset, end, READ_SIZE):
            yield self.buf[p:min(p + READ_SIZE, end)]
            release_pages(self.buf, p, min(p + READ_SIZE, end))
        if m.name in self.cut_short:
            raise TruncatedError(
                f"archive is truncated: tar member {m.name!r} of {m.size} bytes is cut short "
                f"by {self.cut_short[m.name]} bytes", offset=self.size)

    def blobs_toc_name(self, entry: TocEntry) -> str:
        """blobs.toc before 1.16, blobs_<id>.toc from 1.16 on."""
        return f"blobs_{entry.dump_id}.toc" if self.header.version >= K_VERS_1_16 else "blobs.toc"

    def blob_members(self, entry: TocEntry) -> list[tuple[int, Member]]:
        name = self.blobs_toc_name(entry)
        toc = self.member(name)
        out = []
        raw = bytes(self.buf[toc.offset:toc.offset + toc.size])
        for lineno, line in enumerate(raw.splitlines(), 1):
            item = parse_blobs_toc_line(line)
            if item is None:
                raise FormatError(f"invalid line in large object TOC {name!r}: {line[:80]!r}",
                                  entry=f"line {lineno}")
            oid, member = item
            _check_name(member)
            out.append((oid, self.member(member)))
        return out

    def stored_size(self, entry: TocEntry) -> int | None:
        if not entry.has_data:
            return None
        try:
            if entry.desc == "BLOBS":
                return sum(m.size for _oid, m in self.blob_members(entry))
            return self.member(entry.filename or "").size
        except ArchiveError:
            return None

    def stored_streams(self, entry: TocEntry) -> Iterator[tuple[int | None, StoredStream]]:
        self._require_data(entry)
        try:
            items: list[tuple[int | None, Member]]
            if entry.desc == "BLOBS":
                items = [(oid, m) for oid, m in self.blob_members(entry)]
            else:
                items = [(None, self.member(entry.filename or ""))]
        except ArchiveError as e:
            raise e.located(path=self.path, entry=entry.label) from None
        for oid, m in items:
            yield oid, StoredStream(self._chunks(m), m.offset, self.path)
