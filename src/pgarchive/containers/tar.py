"""Tar format (pg_dump -Ft): toc.dat, then <id>.dat and blob_<oid>.dat members, uncompressed.

Member headers are read by the standard library's tarfile; this module only checks what a
hostile tar could do (names that leave the archive, members that run past the end).
"""

from __future__ import annotations

import contextlib
import tarfile
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import BinaryIO

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
from .base import IGNORED, Container, EntryData, Finding, StoredStream, window_reader
from .source import ByteSource

READ_SIZE = 1 << 20
BLOCK = 512  # tar's block size; pg_dump ends the file with two zero blocks


@dataclass(frozen=True, slots=True)
class Member:
    """One tar member: its name, where its data starts and how long it is."""
    name: str
    offset: int  # of the data
    size: int


def _check_name(name: str) -> None:
    if name.startswith("/") or ".." in name.split("/") or "\\" in name or "\0" in name:
        raise FormatError(f"tar member name {name!r} would leave the archive")


class TarContainer(Container):
    """A tar archive (pg_dump -Ft): toc.dat, then data members, uncompressed."""
    kind = "tar"

    def __init__(self, source: ByteSource) -> None:
        path = source.name
        super().__init__(path)
        try:
            self._open_source(source)
            self.cut_short: dict[str, int] = {}  # member name -> bytes missing
            self.members_end = 0  # where the last member's data (with its padding) ends
            with source.file() as f:
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
        return window_reader(self.source), m.offset + m.size, "filename", self.path

    def _after_toc(self, res: TocRead) -> None:
        m = self.toc_member
        if res.end != m.offset + m.size:
            raise FormatError(f"unexpected {m.offset + m.size - res.end} bytes after the TOC "
                              "in toc.dat", offset=res.end)

    def _read_members(self, f: BinaryIO) -> dict[str, Member]:
        members: dict[str, Member] = {}
        try:
            with tarfile.open(fileobj=f, mode="r:") as tf:
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
        except (tarfile.TarError, ValueError, OverflowError) as e:
            # (ValueError, OverflowError: tarfile seeking past a member whose size field,
            # base-256 or pax, is beyond any file: 2**63 bytes and more)
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
        for m in self.members.values():  # tar pads each member to 512 bytes with zeros
            pad = -m.size % BLOCK
            if pad and self.source.read_at(m.offset + m.size, pad).strip(b"\0"):
                out.append((f"the padding after tar member {m.name!r} holds data (tar "
                            "writes zeros there)", m.offset + m.size))
        return out

    @property
    def can_seek_data(self) -> bool:
        """No: pg_restore reads a tar front to back, so its data cannot be restored in
        parallel or out of order."""
        return False  # pg_restore reads tar strictly forward

    def member(self, name: str) -> Member:
        """The member of this name, or an error naming what is missing."""
        m = self.members.get(name)
        if m is None:
            raise MissingDataError(f"could not find file \"{name}\" in archive")
        return m

    def _chunks(self, m: Member) -> Iterator[bytes]:
        yield from self.source.stream(m.offset, min(m.offset + m.size, self.size), READ_SIZE)
        if m.name in self.cut_short:
            raise TruncatedError(
                f"archive is truncated: tar member {m.name!r} of {m.size} bytes is cut short "
                f"by {self.cut_short[m.name]} bytes", offset=self.size)

    def blobs_toc_name(self, entry: TocEntry) -> str:
        """blobs.toc before 1.16, blobs_<id>.toc from 1.16 on."""
        return f"blobs_{entry.dump_id}.toc" if self.header.version >= K_VERS_1_16 else "blobs.toc"

    def blob_members(self, entry: TocEntry) -> list[tuple[int, Member]]:
        """The large objects of a BLOBS entry: (oid, member) as its blobs TOC member lists them."""
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
        """The bytes of the entry's data member(s)."""
        if not entry.has_data:
            return None
        try:
            if entry.desc == "BLOBS":
                return sum(m.size for _oid, m in self.blob_members(entry))
            return self.member(entry.filename or "").size
        except ArchiveError:
            return None

    def stored_streams(self, entry: TocEntry) -> Iterator[tuple[int | None, StoredStream]]:
        """The entry's data member, or its large objects' members, as stored streams."""
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

    # -- verify: what pg_restore's forward read would miss ---------------------------

    def order_problems(self) -> list[Finding]:
        """pg_restore reads a tar strictly forward, entries' data in TOC order: a data member
        that comes before the one of an earlier entry stops it ("restoring data out of order
        is not supported"), and it reads a BLOBS entry's large objects up to the next member
        that is not one, so a large object after its blobs TOC member is silently dropped."""
        out: list[Finding] = []
        pos = 0
        for e in self.entries:
            if not e.has_data:
                continue
            try:
                if e.desc == "BLOBS":
                    blobs = self.blob_members(e)
                    toc = self.member(self.blobs_toc_name(e))
                    members = [m for _oid, m in blobs] + [toc]
                    out += [Finding(f"tar member {m.name!r} (large object {oid}) comes after "
                                    f"{toc.name!r}: pg_restore would silently skip it",
                                    self.path, m.offset, e.dump_id, e.label)
                            for oid, m in blobs if m.offset > toc.offset]
                else:
                    members = [self.member(e.filename or "")]
            except ArchiveError:
                continue  # reported when the data is read
            first = min(m.offset for m in members)
            if first < pos:
                out.append(Finding(f"tar member {members[0].name!r} comes before the data of "
                                   "an earlier entry: pg_restore would stop (restoring data "
                                   "out of order is not supported in this archive format)",
                                   self.path, first, e.dump_id, e.label))
            pos = max(pos, max(m.offset for m in members))
        return out

    def data_walk(self, wanted: AbstractSet[int] | None = None
                  ) -> Iterator[EntryData | Finding]:
        """The entries' data in TOC order, then what is wrong outside it (end_problems)."""
        yield from super().data_walk(wanted)
        for msg, offset in self.end_problems():
            yield Finding(f"{msg} (pg_restore would not notice: it never reads there)",
                          self.path, offset)

    def unexpected_files(self) -> list[Finding]:
        """Members pg_restore never reads (stray files added to the tar)."""
        expected = {"toc.dat", "restore.sql"}
        for e in self.entries:
            if e.has_data and e.desc != "BLOBS" and e.filename:
                expected.add(e.filename)
            if e.has_data and e.desc == "BLOBS":
                with contextlib.suppress(ArchiveError):
                    expected.update(m.name for _oid, m in self.blob_members(e))
                expected.add(self.blobs_toc_name(e))
        return [Finding(f"tar member {name!r} is not part of the archive ({IGNORED})",
                        self.path, m.offset)
                for name, m in self.members.items() if name not in expected]

    def script_member(self) -> bytes | None:
        """The ``restore.sql`` member (pg_restore never reads it), or None."""
        m = self.members.get("restore.sql")
        if m is None:
            return None
        if m.name in self.cut_short:
            raise TruncatedError(f"archive is truncated inside {m.name}", path=self.path,
                                 offset=m.offset)
        return bytes(self.buf[m.offset:m.offset + m.size])
