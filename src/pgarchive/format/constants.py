"""Numbers that the archive format stores, named as pg_backup_archiver.h names them."""

from __future__ import annotations

from enum import IntEnum, StrEnum

MAGIC = b"PGDMP"


def version(major: int, minor: int, rev: int = 0) -> int:
    """Pack a version the way pg_restore compares them: (maj << 16) | (min << 8) | rev."""
    return (major << 16) | (minor << 8) | rev


K_VERS_1_0 = version(1, 0)
K_VERS_1_2 = version(1, 2)
K_VERS_1_3 = version(1, 3)
K_VERS_1_4 = version(1, 4)
K_VERS_1_5 = version(1, 5)
K_VERS_1_6 = version(1, 6)
K_VERS_1_7 = version(1, 7)
K_VERS_1_8 = version(1, 8)
K_VERS_1_9 = version(1, 9)
K_VERS_1_10 = version(1, 10)
K_VERS_1_11 = version(1, 11)
K_VERS_1_12 = version(1, 12)
K_VERS_1_13 = version(1, 13)
K_VERS_1_14 = version(1, 14)
K_VERS_1_15 = version(1, 15)
K_VERS_1_16 = version(1, 16)

#: Oldest archive version we read: 1.10 (pg_dump 8.0) has every field we model but section.
K_VERS_MIN = K_VERS_1_10
#: Newest we know. Like pg_restore we accept any revision of it.
K_VERS_MAX = version(1, 16, 255)

#: pg_restore rejects an intSize above this.
MAX_INT_SIZE = 32


class ArchiveFormat(IntEnum):
    """The format byte of the header (directory archives store TAR)."""

    UNKNOWN = 0
    CUSTOM = 1
    FILES = 2
    TAR = 3
    NULL = 4
    DIRECTORY = 5


class Section(IntEnum):
    """The section byte of a TOC entry (1.11+): pg_restore's --section and its order of work."""

    NONE = 1
    PRE_DATA = 2
    DATA = 3
    POST_DATA = 4


class OffsetFlag(IntEnum):
    """Whether a custom archive's TOC entry knows where its data block is (a piped dump does
    not: NOT_SET), or has none."""

    NOT_SET = 1
    SET = 2
    NO_DATA = 3


class BlockType(IntEnum):
    """The type byte of a custom-format data block: table data or large objects."""

    DATA = 1
    BLOB = 2  # obsolete; no longer accepted by pg_restore
    BLOBS = 3


class TocExtra(StrEnum):
    """What closes each TOC entry (pg_dump's WriteExtraTocPtr): a data offset in custom
    archives, the data file's name in directory and tar archives."""

    OFFSET = "offset"
    FILENAME = "filename"


class Compression(IntEnum):
    """The 1.15+ algorithm byte; older archives store a zlib level instead."""

    NONE = 0
    GZIP = 1
    LZ4 = 2
    ZSTD = 3


#: How many decompressed bytes a reader yields at a time (pgarchive's choice, not the
#: format's): here rather than in pgarchive.compression so that what only reads the TOC
#: need not import the decompressors.
DEFAULT_OUT_SIZE = 1 << 20

#: The suffix pg_dump adds to a directory archive's data file names, by algorithm.
SUFFIXES = {Compression.NONE: "", Compression.GZIP: ".gz", Compression.LZ4: ".lz4",
            Compression.ZSTD: ".zst"}
#: A directory archive's TOC file by its compression, in the order pg_restore looks for it.
TOC_FILES = {algorithm: "toc.dat" + suffix for algorithm, suffix in SUFFIXES.items()}
