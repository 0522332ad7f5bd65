"""Writing a custom-format archive (pg_backup_custom.c): header and TOC, then one data block
per entry with data, in TOC order -- always with data offsets.

As pg_dump does on a seekable file, the TOC is written first with the offsets not set,
then the blocks, then the TOC again over the first with each block's position (offsets
have a fixed size, so the TOC's size does not change).  A piped dump thereby becomes one
that ``pg_restore -j`` and a reordered ``-L`` can use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import BinaryIO

from ..archive import Archive
from ..compression import GZIP_CHUNK
from ..format.constants import BlockType, Compression, OffsetFlag
from ..format.model import TocEntry
from ..format.writer import BlockFramer, build_toc_file
from .model import OutEntry, Plan
from .parallel import Jobs
from .streams import Counts, entry_streams

BUFFER = 1 << 20


def write_block(f: BinaryIO, a: Archive, plan: Plan, item: OutEntry) -> Counts:
    """One entry's data block at the current position of ``f``."""
    counts = Counts()
    h = plan.header
    framer = BlockFramer(h.version, h.int_size)
    exact = GZIP_CHUNK if plan.spec.algorithm == Compression.GZIP else None
    write = f.write
    if item.is_blobs:
        write(framer.block_header(BlockType.BLOBS, item.entry.dump_id))
        for oid, pieces in entry_streams(a, plan, item, counts):
            write(framer.oid(oid or 0))
            for framed in framer.chunks(pieces, exact):
                write(framed)
            write(framer.end)
        write(framer.end)
    else:
        write(framer.block_header(BlockType.DATA, item.entry.dump_id))
        for _oid, pieces in entry_streams(a, plan, item, counts):
            for framed in framer.chunks(pieces, exact):
                write(framed)
        write(framer.end)
    return counts


def _with_offsets(items: list[OutEntry], positions: dict[int, int]) -> list[TocEntry]:
    """The entries with their data location: SET and the block's position, NOT_SET before
    the blocks are written (as pg_dump's first TOC), NO_DATA without data."""
    out = []
    for k, item in enumerate(items):
        e = item.entry
        if not item.has_data:
            out.append(e._replace(offset_flag=OffsetFlag.NO_DATA, data_offset=0, filename=None))
        elif k in positions:
            out.append(e._replace(offset_flag=OffsetFlag.SET, data_offset=positions[k],
                                  filename=None))
        else:
            out.append(e._replace(offset_flag=OffsetFlag.NOT_SET, data_offset=0,
                                  filename=None))
    return out


def write_archive(path: str, a: Archive, plan: Plan, jobs: Jobs,
                  progress: Callable[[int], None] | None = None) -> Counts:
    """Write the whole archive to ``path`` (a new, empty file)."""
    counts = Counts()
    items = plan.entries
    codec = a.encoding
    spooled = jobs.spool_blocks(a, plan)
    with open(path, "w+b", buffering=BUFFER) as f:
        first = build_toc_file(plan.header, _with_offsets(items, {}), "offset", codec)
        f.write(first)
        positions: dict[int, int] = {}
        for k, item in enumerate(items):
            if not item.has_data:
                continue
            positions[k] = f.tell()
            if k in spooled:
                spool, done = spooled[k]
                counts.add(done())
                _append(f, spool)
            else:
                counts.add(write_block(f, a, plan, item))
            if progress is not None:
                progress(sum(a.stored_size(s) or 0 for s in item.sources))
        toc = build_toc_file(plan.header, _with_offsets(items, positions), "offset", codec)
        if len(toc) != len(first):  # pragma: no cover - offsets have a fixed size
            raise AssertionError("the TOC changed size when the offsets were set")
        f.seek(0)
        f.write(toc)
    return counts


def _append(f: BinaryIO, spool: str) -> None:
    """Append a spooled block to ``f`` and delete the spool file."""
    with open(spool, "rb") as src:
        shutil.copyfileobj(src, f, BUFFER)
    os.unlink(spool)
