"""An output entry's data as the target stores it: each source stream copied as it is,
rewrapped (a deflate stream moving between a custom archive's zlib wrapper and a directory
archive's gzip file), or decompressed and compressed again.

Copying and rewrapping keep the compressed bytes; only a change of method or level
recompresses.  Every stream is read and written in bounded pieces.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import NamedTuple

from ..archive import Archive
from ..compression import (
    DEFAULT_OUT_SIZE,
    CompressionSpec,
    InflateLimit,
    compressed,
    decompress,
    gzip_to_zlib,
    recut,
    zlib_to_gzip,
)
from ..errors import ArchiveError
from ..format.constants import Compression
from ..format.model import TocEntry
from .model import OutEntry, Plan
from .plan import effective_level

#: Stored bytes handed to a decoder at once (custom archives keep gzip in 4 kB chunks; the
#: decoder is faster fed larger pieces).
BATCH = 256 << 10


class Mode(Enum):
    """What is done to an entry's stored data."""

    COPY = "copied"
    REWRAP = "rewrapped"
    RECOMPRESS = "recompressed"


class Counts:
    """Data entries by what was done to their data."""

    __slots__ = ("copied", "recompressed", "rewrapped")

    def __init__(self, copied: int = 0, rewrapped: int = 0, recompressed: int = 0) -> None:
        self.copied, self.rewrapped, self.recompressed = copied, rewrapped, recompressed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counts) and (self.copied, self.rewrapped, self.recompressed) \
            == (other.copied, other.rewrapped, other.recompressed)

    def __repr__(self) -> str:
        return (f"Counts(copied={self.copied}, rewrapped={self.rewrapped}, "
                f"recompressed={self.recompressed})")

    def add(self, other: Counts) -> None:
        """Add another's counts (a worker's) to these."""
        self.copied += other.copied
        self.rewrapped += other.rewrapped
        self.recompressed += other.recompressed

    def count(self, mode: Mode) -> None:
        """Count one entry under ``mode``."""
        setattr(self, mode.value, getattr(self, mode.value) + 1)


def mode_for(source: tuple[Compression, bool], source_level: int | None,
             spec: CompressionSpec, gzip_file: bool) -> Mode:
    """Copy when the method stays and no other level is asked for (a level is known only
    from the header of archives before 1.15); rewrap gzip whose wrapper changes."""
    algorithm, source_gzip_file = source
    if algorithm != spec.algorithm:
        return Mode.RECOMPRESS
    if spec.level is not None and effective_level(algorithm, spec.level) != \
            effective_level(algorithm, source_level):
        return Mode.RECOMPRESS
    if algorithm == Compression.GZIP and source_gzip_file != gzip_file:
        return Mode.REWRAP
    return Mode.COPY


def target_gzip_file(kind: str) -> bool:
    """Directory archives hold gzip files, custom ones zlib streams."""
    return kind == "directory"


def entry_mode(a: Archive, plan: Plan, item: OutEntry) -> Mode:
    """What is done to an entry's data (its sources all come from one archive, stored
    one way)."""
    return mode_for(a.stored_compression(item.sources[0]), plan.source_level, plan.spec,
                    target_gzip_file(plan.kind))


class Stream(NamedTuple):
    """One stream of an output entry, as the target stores it, and where it comes from."""

    oid: int | None
    pieces: Iterator[bytes]
    path: str
    offset: int | None
    source: TocEntry

    def located(self, err: ArchiveError) -> ArchiveError:
        """The error, with this stream's file, offset and entry where it has none."""
        return err.located(path=self.path, offset=self.offset, entry=self.source.label)


def entry_streams(a: Archive, plan: Plan, item: OutEntry) -> Iterator[Stream]:
    """The output entry's streams, in order: one for table data, one per large object.
    Each must be consumed before the next is asked for; errors met while consuming it are
    to be raised through :meth:`Stream.located`."""
    gzip_file = target_gzip_file(plan.kind)
    mode = entry_mode(a, plan, item)
    for src in item.sources:
        limit = InflateLimit()  # one per source entry, for all its streams, as readers do
        for oid, stored in a.stored_streams(src):
            chunks: Iterator[bytes] = stored.chunks
            if mode is Mode.RECOMPRESS:
                algorithm, source_gzip_file = a.stored_compression(src)
                plain = decompress(algorithm, recut(chunks, BATCH), gzip_file=source_gzip_file,
                                   out_size=DEFAULT_OUT_SIZE, limit=limit)
                chunks = compressed(plan.spec, recut(plain, DEFAULT_OUT_SIZE),
                                    gzip_file=gzip_file)
            elif mode is Mode.REWRAP:
                level = plan.spec.level if plan.spec.level is not None else plan.source_level
                batched = recut(chunks, BATCH)
                chunks = (zlib_to_gzip(batched, level) if gzip_file
                          else gzip_to_zlib(batched, level))
            yield Stream(oid, chunks, stored.path, stored.offset, src)

