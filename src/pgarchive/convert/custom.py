"""Writing a custom-format archive (pg_backup_custom.c): header and TOC, then one data block
per entry with data, in TOC order -- always with data offsets.

As pg_dump does on a seekable file, the TOC is written first with the offsets not set,
then the blocks, then the TOC again over the first with each block's position (offsets
have a fixed size, so the TOC's size does not change).  A piped dump thereby becomes one
that ``pg_restore -j`` and a reordered ``-L`` can use.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable
from typing import BinaryIO

from ..archive import Archive
from ..compression import GZIP_CHUNK
from ..containers.spool import readable_path  # ("-", a .gz: the local copy)
from ..errors import ArchiveError
from ..format import chunkscan
from ..format.blocks import DENSE_CHUNK
from ..format.constants import BlockType, Compression, OffsetFlag, TocExtra
from ..format.model import TocEntry
from ..format.writer import BlockFramer, build_toc_file
from .model import OutEntry, Plan
from .parallel import Jobs
from .rawcopy import Ranges, Walk, copy_walked, walk_dense
from .streams import Counts, Mode, entry_mode, entry_streams

BUFFER = 1 << 20
#: How many chunks of a block say whether they are small (then read whole as they are walked).
SAMPLE = 3


def write_block(f: BinaryIO, a: Archive, plan: Plan, item: OutEntry,
                source: Ranges | None = None) -> Counts:
    """One entry's data block at the current position of ``f``.  A compressed block kept
    as it is (same entry, same compression) is copied whole from ``source`` (the source
    archive's file), its framing checked as it is copied; anything else is written stream
    by stream."""
    counts = Counts()
    mode = entry_mode(a, plan, item)
    counts.count(mode)
    e = item.entry
    if (source is not None and mode is Mode.COPY and plan.spec.algorithm != Compression.NONE
            and len(item.sources) == 1 and item.sources[0].dump_id == e.dump_id):
        src = item.sources[0]
        size = a.stored_size(src)  # known where the TOC has offsets: the copy starts now
        f.flush()
        if size is not None and src.data_offset:
            start = src.data_offset
            walk, paced = _walk(source, a, src, start + size)
            copy_walked(source, start, start + size, walk, paced)
        else:
            start, end = _walked(a, src)
            source.copy(start, end)
        f.seek(0, os.SEEK_END)
        return counts
    h = plan.header
    framer = BlockFramer(h.version, h.int_size)
    exact = GZIP_CHUNK if plan.spec.algorithm == Compression.GZIP else None
    write = f.write
    blobs = item.is_blobs
    write(framer.block_header(BlockType.BLOBS if blobs else BlockType.DATA, e.dump_id))
    for stream in entry_streams(a, plan, item):
        if blobs:
            write(framer.oid(stream.oid or 0))
        try:
            framer.write_chunks(write, stream.pieces, exact)
        except ArchiveError as err:
            raise stream.located(err) from None
        if blobs:
            write(framer.end)
    write(framer.end)
    return counts


def _walk(source: Ranges, a: Archive, entry: TocEntry, limit: int) -> tuple[Walk, bool]:
    """How the block of ``entry`` is walked beside its copy: a table's block of small
    chunks (gzip's 4 kB) a window at a time in the copy's wake (rawcopy.walk_dense), one
    of large chunks (lz4, zstd) by a read of each length in compiled code
    (chunkscan.hop: 45,000 for 1.7 GB, 0.04 s of CPU against 0.10 s for the reader's
    walk); where either finds the lengths not whole, or for large objects, the reader
    walks the block, which names what is wrong.  Returns the walk and whether it reads in
    the copy's wake (the copy then reports its progress in smaller steps)."""
    ranges = a.stored_ranges(entry)  # the block's header checked, as the walk checks it
    # Its first chunks decide (not the first alone: lz4's frame header is a chunk of its own)
    first = list(itertools.islice(ranges, SAMPLE)) if ranges is not None else []
    int_size = a.header.int_size
    dense = bool(first) and max(n for _s, n in first) < DENSE_CHUNK

    def walk(wait: Callable[[int], None]) -> int:
        if first:
            body = first[0][0] - 1 - int_size
            if dense:
                end = walk_dense(source, body, limit, int_size, wait)
            else:
                end = chunkscan.hop(source.src, body, limit, int_size)
            if end is not None and end >= 0:
                return end
        return _walked(a, entry)[1]
    return walk, dense


def _walked(a: Archive, entry: TocEntry) -> tuple[int, int]:
    """(start, end) of the entry's block in a custom archive, its chunk lengths walked."""
    extent = a.stored_extent(entry)
    assert extent is not None  # a custom archive's
    return extent


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
    spooled = _spool(a, plan, jobs)
    # r+b, not w+b: the staged file exists (empty); truncating it makes ext4 start
    # writeback of everything written when it is closed (auto_da_alloc), ~1 s a GB
    with open(path, "r+b", buffering=BUFFER) as f, contextlib.ExitStack() as stack:
        source = None
        if a.kind == "custom":
            name = readable_path(a.path)
            source = Ranges(stack.enter_context(open(name, "rb")).fileno(), f.fileno(), name)
        first = build_toc_file(plan.header, _with_offsets(items, {}), TocExtra.OFFSET, codec)
        f.write(first)
        positions: dict[int, int] = {}
        for k, item in enumerate(items):
            if not item.has_data:
                continue
            positions[k] = f.tell()
            if k in spooled:
                spool, wait = spooled[k]
                counts.add(wait())
                _append(f, spool)
            else:
                counts.add(write_block(f, a, plan, item, source))
            if progress is not None:
                progress(sum(a.stored_size(s) or 0 for s in item.sources))
        top = max(positions.values(), default=0)
        if top >= 1 << (8 * plan.header.off_size):
            raise ArchiveError(f"a data block starts at offset {top}, more than the "
                               f"archive's {plan.header.off_size}-byte offsets can hold",
                               path=a.path)
        toc = build_toc_file(plan.header, _with_offsets(items, positions), TocExtra.OFFSET, codec)
        if len(toc) != len(first):  # pragma: no cover - offsets have a fixed size
            raise AssertionError("the TOC changed size when the offsets were set")
        f.seek(0)
        f.write(toc)
    return counts


def _spool(a: Archive, plan: Plan, jobs: Jobs
           ) -> dict[int, tuple[str, Callable[[], Counts]]]:
    """Start the workers on the blocks that need compressing; index -> (spool file,
    wait for it)."""
    work = jobs.parallel_entries(a, plan)
    if not work:
        return {}
    folder = jobs.spool_folder()
    targets = {k: os.path.join(folder, f"{k}.block") for k in work}

    def block(index: int, spool: str) -> Counts:
        with open(spool, "wb", buffering=BUFFER) as f:
            return write_block(f, a, plan, plan.entries[index])

    waits = jobs.start(block, targets)
    return {k: (targets[k], waits[k]) for k in work}


def _append(f: BinaryIO, spool: str) -> None:
    """Append a spooled block to ``f`` and delete the spool file."""
    f.flush()
    with open(spool, "rb") as src:
        Ranges(src.fileno(), f.fileno(), spool).copy(0, os.fstat(src.fileno()).st_size)
    f.seek(0, os.SEEK_END)
    os.unlink(spool)
