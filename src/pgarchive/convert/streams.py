"""An output entry's data as the target stores it: each source stream copied as it is,
rewrapped (a deflate stream moving between a custom archive's zlib wrapper and a directory
archive's gzip file), or decompressed and compressed again.

Copying and rewrapping keep the compressed bytes; only a change of method or level
recompresses.  Every stream is read and written in bounded pieces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from ..archive import Archive
from ..compression import (
    DEFAULT_OUT_SIZE,
    CompressionSpec,
    compressed,
    gzip_to_zlib,
    zlib_to_gzip,
)
from ..containers import StoredStream
from ..errors import ArchiveError
from ..format.constants import Compression
from ..format.model import TocEntry
from .model import OutEntry, Plan
from .plan import effective_level


class Mode(Enum):
    COPY = "copied"
    REWRAP = "rewrapped"
    RECOMPRESS = "recompressed"


@dataclass
class Counts:
    """Streams and bytes of one or more entries, by what was done to them."""

    copied: int = 0
    rewrapped: int = 0
    recompressed: int = 0
    bytes_out: int = 0

    def add(self, other: Counts) -> None:
        self.copied += other.copied
        self.rewrapped += other.rewrapped
        self.recompressed += other.recompressed
        self.bytes_out += other.bytes_out

    def count(self, mode: Mode) -> None:
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


def _located(pieces: Iterator[bytes], path: str, offset: int | None,
             entry: TocEntry) -> Iterator[bytes]:
    """Errors raised while reading a stream, with its file, offset and entry."""
    try:
        yield from pieces
    except ArchiveError as e:
        raise e.located(path=path, offset=offset, entry=entry.label) from None


def entry_streams(a: Archive, plan: Plan, item: OutEntry,
                  counts: Counts) -> Iterator[tuple[int | None, Iterator[bytes]]]:
    """The output entry's streams, in order, as the target stores them: one (None, pieces)
    for table data, (oid, pieces) per large object.  Each stream must be consumed before
    the next is asked for."""
    gzip_file = target_gzip_file(plan.kind)
    for src in item.sources:
        form = a.stored_compression(src)
        mode = mode_for(form, plan.source_level, plan.spec, gzip_file)
        if mode is Mode.RECOMPRESS:
            if src.desc == "BLOBS":
                for lo in a.large_objects(src, DEFAULT_OUT_SIZE):
                    counts.count(mode)
                    yield lo.oid, _counted(compressed(plan.spec, lo.chunks,
                                                      gzip_file=gzip_file), counts)
            else:
                counts.count(mode)
                yield None, _counted(compressed(plan.spec, a.data(src, DEFAULT_OUT_SIZE),
                                                gzip_file=gzip_file), counts)
            continue
        for oid, stream in a.stored_streams(src):
            counts.count(mode)
            yield oid, _counted(_kept(stream, mode, plan, src), counts)


def _kept(stream: StoredStream, mode: Mode, plan: Plan, src: TocEntry) -> Iterator[bytes]:
    """A stored stream copied, or rewrapped, without compressing it again."""
    chunks: Iterator[bytes] = stream.chunks
    if mode is Mode.REWRAP:
        level = plan.spec.level if plan.spec.level is not None else plan.source_level
        chunks = (zlib_to_gzip(chunks, level) if target_gzip_file(plan.kind)
                  else gzip_to_zlib(chunks, level))
    return _located(chunks, stream.path, stream.offset, src)


def _counted(pieces: Iterator[bytes], counts: Counts) -> Iterator[bytes]:
    for piece in pieces:
        counts.bytes_out += len(piece)
        yield piece
