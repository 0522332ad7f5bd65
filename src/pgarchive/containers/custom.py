"""Custom format (pg_dump -Fc): one file, header + TOC, then data blocks."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator

from ..errors import ArchiveError, FormatError, TruncatedError
from ..format.blocks import BlockHeader, BlockReader
from ..format.constants import ArchiveFormat, BlockType, Compression, OffsetFlag
from ..format.model import TocEntry
from ..format.toc import TocRead, parse_header
from .base import Container, StoredStream, release_pages, window_reader


class CustomContainer(Container):
    kind = "custom"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            f = self._open_mapped()
            self.header = parse_header(self.buf, 0, self.size)
        except ArchiveError as e:
            self.close()
            raise e.located(path=path) from None
        self._require_format(ArchiveFormat.CUSTOM, path)
        fd = f.fileno()
        self.blocks = BlockReader(self.buf, self.header.int_size, self.header.version,
                                  self.size, functools.partial(release_pages, self.buf),
                                  lambda off, n: os.pread(fd, n, off))
        self._data_start: int | None = None
        self._known: dict[int, int] = {}  # dump id -> block position, learned by scanning
        self._scan_pos: int | None = None
        self._sizes: dict[int, int] | None = None

    def _toc_source(self) -> tuple[Callable[[int, int], bytes], int, str, str]:
        return window_reader(self.buf), self.size, "offset", self.path

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
        return self.has_offsets

    def stored_size(self, entry: TocEntry) -> int | None:
        if not entry.has_data or not self.has_offsets:
            return None
        if self._sizes is None:
            starts = sorted({e.data_offset or 0 for e in self.entries if e.has_data})
            ends = dict(zip(starts, [*starts[1:], self.size], strict=True))
            self._sizes = {e.dump_id: max(0, ends[e.data_offset or 0] - (e.data_offset or 0))
                           for e in self.entries if e.has_data}
        return self._sizes.get(entry.dump_id)

    def data_area_size(self) -> int:
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
            yield None, StoredStream(chunks, hdr.body, self.path)
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
