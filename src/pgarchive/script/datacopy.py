"""Table data into the script: the archive's COPY rows written as they are decoded.

Why a module of its own: at gigabytes this is nearly all of ``sql -f``'s time (issue 15),
and the generic path (:meth:`pgarchive.archive.Archive.data`) pays per piece for what the
script does not need, a new bytes object per decoded piece.  For the data block of a custom
archive compressed with lz4 or zstd, the stored chunks are decoded in place into one
reused buffer (:mod:`pgarchive.nativedecode`); uncompressed data is written in runs of
rows straight from the windows read.  Everything else takes the generic path.

The fast paths check what the generic one checks (framing, damage, the end of the
stream, the inflation limit) but only to know that something is wrong: then the entry is
read again through the generic path, which raises the error pgarchive gives for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, BinaryIO

from ..errors import ArchiveError, CompressionError
from ..format.constants import BlockType, Compression
from ..format.model import TocEntry

if TYPE_CHECKING:
    from .. import nativedecode
    from ..archive import Archive
    from ..containers.custom import CustomContainer
    from ..format.blocks import BlockHeader
    from .writer import DataSource

#: The size of the output buffer the decoders fill (written to the script when full).
OUT_BUFFER = 1 << 20
#: Uncompressed rows are written in runs of about this many bytes, at most IOV_MAX rows.
RUN = 256 << 10
IOV_MAX = 1024


class Buffers:
    """The buffers of the fast paths, made on first use and kept from entry to entry (a
    table of a few rows costs no megabyte of fresh memory); one set per writer."""

    def __init__(self) -> None:
        self._output: nativedecode.Output | None = None
        self._window: bytearray | None = None

    @property
    def output(self) -> nativedecode.Output:
        """What the decoders fill (written to the script when full)."""
        if self._output is None:
            from .. import nativedecode

            self._output = nativedecode.Output(OUT_BUFFER)
        return self._output

    @property
    def window(self) -> bytearray:
        """What full windows of stored chunks are read into."""
        if self._window is None:
            from ..format.blocks import CHUNK_WINDOW

            self._window = bytearray(CHUNK_WINDOW)
        return self._window


def copy_table_data(source: DataSource, entry: TocEntry, out: BinaryIO, piece: int,
                    buffers: Buffers) -> None:
    """Write the entry's decompressed data to ``out`` (pieces of ``piece`` bytes where the
    generic path is taken)."""
    if not _copied_fast(source, entry, out, buffers):
        write = out.write
        for chunk in source.data(entry, piece):
            write(chunk)


def _custom_block(archive: Archive, entry: TocEntry
                  ) -> tuple[CustomContainer, BlockHeader] | None:
    """The custom container and DATA block of the entry, when the fast paths apply."""
    from ..containers.custom import CustomContainer
    from ..containers.source import FileSource

    c = archive.container
    if (not isinstance(c, CustomContainer) or not isinstance(c.source, FileSource)
            or entry.desc == "BLOBS" or not entry.has_data):
        return None
    try:
        hdr = c.block_of(entry)
    except ArchiveError:
        return None  # the generic path says why
    return (c, hdr) if hdr.type == BlockType.DATA else None


def _copied_fast(source: DataSource, entry: TocEntry, out: BinaryIO,
                 buffers: Buffers) -> bool:
    """Whether the entry's data was written by a fast path (False: nothing written yet)."""
    from ..archive import Archive

    if not isinstance(source, Archive):
        return False
    method = source.header.compression
    if method == Compression.NONE:
        return _copied_plain(source, entry, out)
    if method not in (Compression.LZ4, Compression.ZSTD):
        return False
    from .. import nativedecode

    decoder = nativedecode.decoder(method)
    if decoder is None:
        return False
    found = _custom_block(source, entry)
    if found is None:
        return False
    c, hdr = found
    from ..containers.source import reused_reader
    from ..limits import INFLATE_FLOOR, INFLATE_RATIO

    ratio = INFLATE_RATIO[method.name.lower()]
    spans = c.blocks.spans(hdr.body, read=reused_reader(c.source, buffers.window))
    out.flush()
    try:
        status = decoder.copy(spans, buffers.output, out.write, INFLATE_FLOOR, ratio)
    except ArchiveError:
        status = nativedecode.BAD
    if status != nativedecode.OK:
        _replay(source, entry, method)
    return True


def _copied_plain(archive: Archive, entry: TocEntry, out: BinaryIO) -> bool:
    """Uncompressed data (one chunk per row): runs of rows handed to writev as they lie in
    the windows read, never joined (the generic path copies every row twice more)."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    found = _custom_block(archive, entry)
    if found is None:
        return False
    c, hdr = found
    out.flush()
    writev = os.writev
    try:
        for parts, size in c.blocks.runs(hdr.body, RUN, most=IOV_MAX):
            done = writev(fd, parts)
            if done < size:  # a pipe or a full disk: the rest by plain writes
                out.write(b"".join(parts)[done:])
                out.flush()
    except ArchiveError as e:
        raise e.located(path=c.path, offset=hdr.body, entry=entry.label) from None
    return True


def _replay(source: Archive, entry: TocEntry, method: Compression) -> None:
    """Read the entry through the generic path, output dropped, for its error."""
    for _ in source.data(entry):
        pass
    raise CompressionError(f"damaged {method.name.lower()} data", path=source.path,
                           entry=entry.label)
