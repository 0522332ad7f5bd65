"""Custom format (pg_dump -Fc): one file, header + TOC, then data blocks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet

from ..errors import ArchiveError, FormatError, TruncatedError
from ..format.blocks import BlockHeader, BlockReader
from ..format.constants import ArchiveFormat, BlockType, Compression, OffsetFlag
from ..format.model import TocEntry
from ..format.toc import TocRead, parse_header
from .base import Container, EntryData, Finding, StoredStream, window_reader
from .source import ByteSource


class CustomContainer(Container):
    """A custom archive (pg_dump -Fc): header, TOC, then data blocks in one file."""
    kind = "custom"

    def __init__(self, source: ByteSource) -> None:
        path = source.name
        super().__init__(path)
        try:
            self._open_source(source)
            self.header = parse_header(self.buf, 0, self.size)
        except ArchiveError as e:
            self.close()
            raise e.located(path=path) from None
        self._require_format(ArchiveFormat.CUSTOM, path)
        self.blocks = BlockReader(self.buf, self.header.int_size, self.header.version,
                                  self.size, source.release, source.read_at)
        self._data_start: int | None = None
        self._known: dict[int, int] = {}  # dump id -> block position, learned by scanning
        self._scan_pos: int | None = None
        self._sizes: dict[int, int] | None = None

    def _toc_source(self) -> tuple[Callable[[int, int], bytes], int, str, str]:
        return window_reader(self.source), self.size, "offset", self.path

    def _after_toc(self, res: TocRead) -> None:
        # An entry's data past the end of the file (the archive was cut after its TOC) is
        # not the TOC's fault: the TOC stays listable, as pg_restore -l lists it, and the
        # entries whose data is gone are reported when their data is read (block_of).
        self._data_start = res.end

    @property
    def data_start(self) -> int:
        """Where the data blocks begin: just after the TOC."""
        if self._data_start is None:
            _ = self.entries
        assert self._data_start is not None
        return self._data_start

    @property
    def has_offsets(self) -> bool:
        """True when every data entry records where its block is (not written to a pipe)."""
        return all(e.offset_flag == OffsetFlag.SET for e in self.entries if e.has_data)

    @property
    def can_seek_data(self) -> bool:
        """Whether entries' data can be read in any order: the TOC records their offsets."""
        return self.has_offsets

    def stored_size(self, entry: TocEntry) -> int | None:
        """The bytes the entry's data block takes in the file, if it can be found."""
        if not entry.has_data or not self.has_offsets:
            return None
        if self._sizes is None:
            starts = sorted({e.data_offset or 0 for e in self.entries if e.has_data})
            ends = dict(zip(starts, [*starts[1:], self.size], strict=True))
            self._sizes = {e.dump_id: max(0, ends[e.data_offset or 0] - (e.data_offset or 0))
                           for e in self.entries if e.has_data}
        return self._sizes.get(entry.dump_id)

    def data_area_size(self) -> int:
        """The bytes from the end of the TOC to the end of the file (progress totals)."""
        return self.size - self.data_start

    def block_of(self, entry: TocEntry) -> BlockHeader:
        """Find the entry's block: by its offset, or by scanning forward as pg_restore does."""
        try:
            if entry.offset_flag == OffsetFlag.SET and entry.data_offset is not None:
                if entry.data_offset >= self.size:
                    raise TruncatedError(
                        f"archive is truncated: the data of this entry starts at offset "
                        f"{entry.data_offset}, past the end of the file ({self.size} bytes)",
                        offset=entry.data_offset)
                hdr = self.blocks.header(entry.data_offset)
                if hdr.dump_id != entry.dump_id:
                    raise FormatError(
                        f"found unexpected block ID ({hdr.dump_id}) when reading data -- "
                        f"expected {entry.dump_id}", offset=hdr.position)
                return hdr
            pos = self._known.get(entry.dump_id)
            if pos is not None:
                return self.blocks.header(pos)
            if self._scan_pos is None:
                self._scan_pos = self.data_start
            while self._scan_pos < self.size:
                hdr = self.blocks.header(self._scan_pos)
                self._known.setdefault(hdr.dump_id, hdr.position)
                self._scan_pos = self.blocks.skip_block(hdr)
                if hdr.dump_id == entry.dump_id:
                    return hdr
            raise FormatError(
                f"could not find block ID {entry.dump_id} in archive -- possibly corrupt "
                f"archive", offset=self._scan_pos)
        except ArchiveError as e:
            raise e.located(path=self.path, entry=entry.label) from None

    def stored_streams(self, entry: TocEntry) -> Iterator[tuple[int | None, StoredStream]]:
        """The entry's stored chunks, one stream (one per large object for BLOBS)."""
        self._require_data(entry)
        hdr = self.block_of(entry)
        try:
            yield from self.block_streams(hdr)
        except ArchiveError as e:
            raise e.located(path=self.path, entry=entry.label) from None

    def block_streams(self, hdr: BlockHeader, ended: list[int] | None = None
                      ) -> Iterator[tuple[int | None, StoredStream]]:
        """The streams of the block at ``hdr``: one for DATA, one per large object for
        BLOBS.  ``ended`` receives the block's end once it has been read to the end, so a
        caller walking the data area need not walk the block again."""
        if hdr.type == BlockType.DATA:
            plain = self.header.compression == Compression.NONE
            chunks = (self.blocks.gathered(hdr.body, sink=ended) if plain
                      else self.blocks.chunks(hdr.body, ended))
            yield None, StoredStream(chunks, hdr.body, self.path, ended)
            return
        p = hdr.body
        while True:
            oid = self.blocks.blob_oid(p)
            p += self.blocks.ints.size
            if oid == 0:
                if ended is not None:
                    ended.append(p)
                return
            end: list[int] = []
            yield oid, StoredStream(self.blocks.chunks(p, end), p, self.path)
            p = end[0] if end else self.blocks.skip_chunks(p)

    # -- verify: the data area walked as written, and its framing --------------------

    def data_walk(self, wanted: AbstractSet[int] | None = None
                  ) -> Iterator[EntryData | Finding]:
        """Walk the data area block by block from the end of the TOC, as written: each
        block of a wanted entry with data is handed on (unwanted ones are stepped over by
        their lengths), the rest found wrong on the way; at the end, the wanted entries
        whose block was never met."""
        owners: dict[int, TocEntry] = {}
        for e in self.entries:
            if e.has_data:
                owners.setdefault(e.dump_id, e)
        met: set[int] = set()

        def resume(after: int) -> int | None:
            """Where the walk goes on past a block whose end is lost: the next data
            offset the TOC gives for an entry not met yet (None: nowhere, the rest is
            lost), so that an entry after the damage is read, as by its offset."""
            later = [o.data_offset for o in owners.values() if o.dump_id not in met
                     and o.offset_flag == OffsetFlag.SET and o.data_offset is not None
                     and o.data_offset > after]
            return min(later) if later else None

        pos: int | None = self.data_start
        while pos is not None and pos < self.size:
            try:
                hdr = self.blocks.header(pos)
            except ArchiveError as err:
                yield Finding(f"cannot read a data block header: {err.message}", self.path,
                              err.offset if err.offset is not None else pos)
                pos = resume(pos)
                continue
            owner = owners.get(hdr.dump_id)
            if owner is None or hdr.dump_id in met:
                yield self._stray_block(pos, hdr.dump_id, hdr.dump_id in met)
                try:
                    pos = self.blocks.skip_block(hdr)
                except ArchiveError:
                    pos = resume(pos)
                continue
            met.add(hdr.dump_id)
            if wanted is not None and hdr.dump_id not in wanted:
                try:  # not read: its lengths alone, as reading it would find them
                    pos = self.blocks.block_end(hdr)
                except ArchiveError:
                    pos = resume(pos)
                continue
            e = owner
            problems = []
            if e.offset_flag == OffsetFlag.SET and e.data_offset != pos:
                problems.append(Finding(f"TOC says the data block is at offset "
                                        f"{e.data_offset}, but it is at {pos}", self.path,
                                        pos, e.dump_id, e.label))
            ended: list[int] = []
            finish = self._finisher(hdr, ended)
            item = EntryData(e, self.block_streams(hdr, ended), problems, start=pos,
                             finish=finish)
            yield item
            try:  # the reader may have called it: a broken length is its to report
                pos = item.end = finish()
            except ArchiveError:
                pos = resume(pos)
        for e in owners.values():
            if e.dump_id not in met and (wanted is None or e.dump_id in wanted):
                yield EntryData(e, iter(()), [Finding(
                    "no data block found for this entry (archive truncated or damaged "
                    "before it)", self.path, e.data_offset if e.data_offset else None,
                    e.dump_id, e.label)], found=False)

    def entry_data(self, entry: TocEntry) -> EntryData:
        """The entry's block, found by its offset; ``finish`` gives its end."""
        hdr = self.block_of(entry)
        ended: list[int] = []
        return EntryData(entry, self.block_streams(hdr, ended), start=hdr.position,
                         finish=self._finisher(hdr, ended))

    def _finisher(self, hdr: BlockHeader, ended: list[int]) -> Callable[[], int]:
        """Where the block at ``hdr`` ends: as its reader found it (``ended``), or, if
        the reader stopped early (at a row found wrong), by its lengths, remembered; raises
        the ArchiveError of a broken length past where the reader stopped.  One for the
        walk (--jobs 1) and the reads by offset (--jobs 2), so both report it alike."""
        failed: list[ArchiveError] = []

        def finish() -> int:
            if failed:  # (the walk asks again after verify did: not read twice)
                raise failed[0]
            if not ended:
                try:
                    ended.append(self.blocks.skip_block(hdr))
                except ArchiveError as err:
                    failed.append(err)
                    raise
            return ended[-1]
        return finish

    def _stray_block(self, pos: int, dump_id: int, repeated: bool) -> Finding:
        """A data block no TOC entry with data reads: repeated, of an entry the TOC says has
        no data (pg_restore skips it: its rows are lost), or of no entry at all."""
        if repeated:
            return Finding(f"data block at offset {pos} repeats the block of dump id "
                           f"{dump_id}", self.path, pos)
        owner = next((e for e in self.entries if e.dump_id == dump_id), None)
        if owner is not None and owner.has_data:
            return Finding(f"data block at offset {pos} repeats the block of dump id "
                           f"{dump_id}", self.path, pos, owner.dump_id, owner.label)
        if owner is None:
            return Finding(f"data block at offset {pos} has no TOC entry for dump id "
                           f"{dump_id}", self.path, pos)
        return Finding(f"data block at offset {pos} belongs to an entry the TOC says has no "
                       "data: pg_restore would skip it and lose what it holds", self.path,
                       pos, owner.dump_id, owner.label)

    def layout_problems(self, extents: Mapping[int, tuple[int | None, int | None]]
                        ) -> list[Finding]:
        """Blocks read by their offsets, out of order, must tile the data area exactly.

        A block found at its offset whose framing is broken (its entry says so) has no
        known end: the bytes from it up to the next block are its remains, not bytes
        unaccounted for holding a block that repeats its own."""
        placed: list[tuple[int, int | None, int]] = []
        for e in self.entries:
            if not e.has_data:
                continue
            start, end = (extents[e.dump_id] if e.dump_id in extents
                          else self._measured(e))
            if start is not None:
                placed.append((start, end, e.dump_id))
        placed.sort(key=lambda b: b[0])
        problems: list[Finding] = []
        pos: int | None = self.data_start
        for start, end, dump_id in placed:
            if pos is None:  # after a block of unknown end
                pos = start
            if start > pos:
                problems += self._blocks_between(pos, start)
            if start != pos:
                what = "unaccounted for" if start > pos else "overlap"
                problems.append(Finding(f"{abs(start - pos)} bytes {what} before the data "
                                        f"block of dump id {dump_id}", self.path, pos))
            pos = end
        if pos is None:
            return problems
        if placed and pos < self.size:
            problems += self._blocks_between(pos, self.size)
        if placed and pos != self.size:
            problems.append(Finding(f"{self.size - pos} unexpected bytes after the last data "
                                    "block", self.path, pos))
        return problems

    def _measured(self, entry: TocEntry) -> tuple[int | None, int | None]:
        """(start, end) of an entry's block found by its lengths alone (None where they
        fail), as reading it would find them."""
        try:
            hdr = self.block_of(entry)
        except ArchiveError:
            return None, None
        try:
            return hdr.position, self.blocks.block_end(hdr)
        except ArchiveError:
            return hdr.position, None

    def _blocks_between(self, pos: int, end: int) -> list[Finding]:
        """The blocks found in bytes no entry's block took (as the walk names them)."""
        out = []
        with contextlib.suppress(ArchiveError):
            while pos < end:
                hdr = self.blocks.header(pos)
                out.append(self._stray_block(pos, hdr.dump_id, False))
                pos = self.blocks.skip_block(hdr)
        return out

    def stored_ranges(self, entry: TocEntry) -> Iterator[tuple[int, int]] | None:
        """Where a table data block's chunk payloads lie: (start, length) each, found by
        their lengths as they are asked for; None for a BLOBS block."""
        self._require_data(entry)
        hdr = self.block_of(entry)
        if hdr.type != BlockType.DATA:
            return None
        return self._located(self.blocks.payload_ranges(hdr.body), entry)

    def chunk_list(self, entry: TocEntry) -> int | None:
        """Where a table data block's chunk list starts (its block header checked); None
        for a BLOBS block."""
        self._require_data(entry)
        hdr = self.block_of(entry)
        return hdr.body if hdr.type == BlockType.DATA else None

    def _located(self, spans: Iterator[tuple[int, int]],
                 entry: TocEntry) -> Iterator[tuple[int, int]]:
        try:
            yield from spans
        except ArchiveError as e:
            raise e.located(path=self.path, entry=entry.label) from None

    def stored_extent(self, entry: TocEntry) -> tuple[int, int]:
        """(start, end) of the entry's whole data block, its framing walked (chunk lengths
        only, no data read) and found whole."""
        hdr = self.block_of(entry)
        try:
            return hdr.position, self.blocks.block_end(hdr)
        except ArchiveError as e:
            raise e.located(path=self.path, entry=entry.label) from None
