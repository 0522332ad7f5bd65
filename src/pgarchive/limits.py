"""Every size limit pgarchive enforces on what it reads, in one place (README: "Limits").

Each is far above anything pg_dump writes for a real database, and low enough that no
input, however hostile, makes a command allocate without bound: a field or file past its
limit is refused with a one-line error naming it.  An unusual but real archive that needs
more can raise a limit with the environment variable ``PGARCHIVE_MAX_<NAME>`` (bytes or a
count; e.g. ``PGARCHIVE_MAX_DEFN=1073741824``), accepting the memory that costs.
"""

from __future__ import annotations

from .format.limits import MAX_DEFN, MAX_NAME
from .format.limits import env_limit as _limit

__all__ = ["INFLATE_FLOOR", "INFLATE_RATIO", "MANIFEST_PER_ENTRY", "MANIFEST_SLACK",
           "MAX_BLOB_LINES", "MAX_DEFN", "MAX_FILTER_FILE", "MAX_LIST_FILE", "MAX_NAME",
           "size_text"]

# MAX_NAME (a name field of a TOC entry) and MAX_DEFN (a definition, drop or COPY
# statement) are defined in pgarchive.format.limits, beside the TOC reader that enforces them.

#: Lines of one blobs TOC file (one per large object): pg_dump 17+ writes at most 1,000
#: per file; before, one file holds every large object of the database.  (The file is
#: also refused past 64 MiB, containers.directory.MAX_BLOB_TOC.)
MAX_BLOB_LINES = _limit("BLOB_LINES", 4_000_000)
#: A -L list file: pg_restore -l prints about 60 bytes per entry.
MAX_LIST_FILE = _limit("LIST_FILE", 1 << 30)
#: A --filter file: one pattern per line, written by hand or by a script.
MAX_FILTER_FILE = _limit("FILTER_FILE", 16 << 20)
#: A manifest, beyond what --write-manifest writes for the archive (which bounds it:
#: at most MANIFEST_PER_ENTRY bytes per TOC entry plus 6 bytes per byte of its names).
MANIFEST_SLACK = _limit("MANIFEST_SLACK", 1 << 20)
MANIFEST_PER_ENTRY = 512
#: Decompressed data of one entry may be at most INFLATE_FLOOR bytes plus this many times
#: its stored size, per algorithm: just above each format's own ceiling, which real
#: pg_dump output reaches on degenerate tables (measured with pg_dump 18: a zero bytea,
#: zstd 32,446:1; all-NULL rows, zstd 11,658:1, gzip 1,025:1, lz4 243:1).  A zstd stream
#: at its ceiling is indistinguishable from such a table: what stops a bomb of one endless
#: row is COPY's own limit of 1 GiB per row (copytext.MAX_ROW), a structural error.
INFLATE_RATIO = {"gzip": _limit("INFLATE_RATIO_GZIP", 1100),
                 "lz4": _limit("INFLATE_RATIO_LZ4", 300),
                 "zstd": _limit("INFLATE_RATIO_ZSTD", 40_000)}
INFLATE_FLOOR = _limit("INFLATE_FLOOR", 64 << 20)


def size_text(n: int) -> str:
    """``64 MiB`` for a limit in messages."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"
