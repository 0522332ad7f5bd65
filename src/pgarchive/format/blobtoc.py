"""The large-object index files of directory and tar archives (``blobs.toc``,
``blobs_<dumpId>.toc``): their names and their lines, written and read in one place."""

from __future__ import annotations

from .constants import K_VERS_1_16
from .toc import decimal_uint


def blob_file_name(oid: int) -> str:
    """``blob_<oid>.dat``: one large object's file or tar member (plus suffix on disk)."""
    return f"blob_{oid}.dat"


def blobs_toc_name(version: int, dump_id: int) -> str:
    """The large-object index of a BLOBS entry: ``blobs_<dumpId>.toc`` from 1.16 on (there
    can be several BLOBS entries), else the one ``blobs.toc``."""
    return f"blobs_{dump_id}.toc" if version >= K_VERS_1_16 else "blobs.toc"


def blobs_toc_line(oid: int, name: str) -> bytes:
    """One line of a large-object index file: ``<oid> blob_<oid>.dat``."""
    return f"{oid} {name}\n".encode()


def parse_blobs_toc_line(line: bytes) -> tuple[int, str] | None:
    """(oid, file name) of one line of a large-object index file (without its newline),
    or None when it is not ``<digits> <name>``: the caller says where, in its words."""
    parts = line.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    return decimal_uint(parts[0]), parts[1].decode("utf-8", "surrogateescape")
