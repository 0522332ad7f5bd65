"""What convert writes: the target archive's header and entries, each output entry with the
source entries its data comes from.  Plain values, made by :mod:`.plan` (NamedTuples, as
the format's records: dataclasses would cost a plain conversion more start-up than its
TOC takes to write)."""

from __future__ import annotations

from typing import NamedTuple

from ..compression import CompressionSpec
from ..format.model import Header, TocEntry

#: The container kinds convert writes (as ``Archive.kind`` names them).
KINDS = ("custom", "directory", "tar")


class OutEntry(NamedTuple):
    """One entry of the output TOC.

    ``sources`` are the source archive's entries whose data streams, in order, become this
    entry's data: one for table data; for a BLOBS entry, one or (when 1.16's several BLOBS
    entries are merged into the single one of older versions) more.  Empty: no data.
    """

    entry: TocEntry
    sources: tuple[TocEntry, ...] = ()

    @property
    def has_data(self) -> bool:
        """Whether the entry gets a data stream (block, file or member)."""
        return bool(self.sources)

    @property
    def is_blobs(self) -> bool:
        """Whether the data is large objects (one stream each) rather than table data."""
        return self.entry.desc == "BLOBS"


class Plan(NamedTuple):
    """Everything decided before a byte is written."""

    kind: str
    #: the target header (format code, version, compression fields, TOC count set)
    header: Header
    #: the target compression; level None: pg_dump's default, and data already
    #: compressed with the same method is copied
    spec: CompressionSpec
    entries: list[OutEntry]
    #: which PostgreSQL releases' pg_restore read the result
    readers: str
    #: what was adapted on purpose, said to the user
    notes: list[str]
    #: the source header's recorded zlib level (archives before 1.15), for the copy rule
    source_level: int | None = None
