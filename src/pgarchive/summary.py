"""Facts about an archive for ``info`` and for the fields of ``ls``: plain dicts, ready for
JSON, CSV or a table.

Both work in passes over :meth:`Archive.iter_entries`, keeping counts and data offsets but
no entry, so a TOC of a million entries is summarised in the memory of a few
(issue 12: 1.1 GB before for ``info``)."""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable
from typing import Any

from . import archive as archive_mod
from .archive import Archive
from .format.constants import OffsetFlag
from .format.model import TocEntry

ENTRY_FIELDS = ("dump_id", "section", "desc", "namespace", "tag", "owner", "table_oid", "oid",
                "had_dumper", "has_data", "stored_size", "tablespace", "tableam", "relkind",
                "with_oids", "dependencies", "offset_flag", "data_offset", "filename",
                "defn", "drop_stmt", "copy_stmt")


class StoredSizes:
    """The stored size of each entry's data, from one pass over the TOC.

    A custom archive's block ends where the next one starts: its sizes need every data
    offset (kept in an array, 8 bytes each), and exist only when every data entry has one
    (not for an archive written to a pipe).  Directory and tar sizes are the container's,
    entry by entry."""

    def __init__(self, archive: Archive, entries: Iterable[TocEntry]) -> None:
        self.archive = archive
        self.custom = archive.kind == "custom"
        self.offsets = array("q")
        self.all_set = True
        self.data_entries = 0
        for e in entries:
            if not e.has_data:
                continue
            self.data_entries += 1
            if self.custom:
                if e.offset_flag == OffsetFlag.SET:
                    self.offsets.append(e.data_offset or 0)
                else:
                    self.all_set = False
        if self.custom:
            self.offsets = array("q", sorted(set(self.offsets)))

    def of(self, e: TocEntry) -> int | None:
        """The stored size of an entry's data; None when it has none or it is unknown."""
        if not e.has_data:
            return None
        if not self.custom:
            return self.archive.stored_size(e)
        if not self.all_set:
            return None
        start = e.data_offset or 0
        i = bisect.bisect_right(self.offsets, start)
        end = self.offsets[i] if i < len(self.offsets) else self.archive.container.size
        return max(0, int(end) - start)  # 0: the file was cut before the entry's data


def entry_record(archive: Archive, e: TocEntry, sizes: StoredSizes | None = None
                 ) -> dict[str, Any]:
    """Every TOC field of an entry, plus where its data lies and its stored size."""
    return {
        "dump_id": e.dump_id,
        "section": e.section.name,
        "desc": e.desc,
        "namespace": e.namespace,
        "tag": e.tag,
        "owner": e.owner,
        "table_oid": e.table_oid,
        "oid": e.oid,
        "had_dumper": e.had_dumper,
        "has_data": e.has_data,
        "stored_size": (sizes.of(e) if sizes is not None else archive.stored_size(e))
        if e.has_data else None,
        "tablespace": e.tablespace,
        "tableam": e.tableam,
        "relkind": e.relkind_char,
        "with_oids": e.with_oids,
        "dependencies": list(e.dependencies),
        "offset_flag": e.offset_flag.name if e.offset_flag is not None else None,
        "data_offset": e.data_offset,
        "filename": e.filename,
        "defn": e.defn,
        "drop_stmt": e.drop_stmt,
        "copy_stmt": e.copy_stmt,
    }


def read_info(path: str) -> dict[str, Any]:
    """``info`` as a library call: :func:`archive_info` of the archive at ``path``, in one
    pass that keeps no entry."""
    with archive_mod.open(path, read_toc=False) as a:
        return archive_info(a)


def archive_info(archive: Archive) -> dict[str, Any]:
    """The header facts, entry counts per section and per type, and stored data size."""
    h = archive.header
    sections: Counter[str] = Counter()
    types: Counter[str] = Counter()
    data_entries = 0
    known: int | None = 0
    custom = archive.kind == "custom"
    has_offsets = True
    for e in archive.iter_entries():
        sections[e.section.name] += 1
        types[e.desc] += 1
        if not e.has_data:
            continue
        data_entries += 1
        if custom:
            has_offsets = has_offsets and e.offset_flag == OffsetFlag.SET
        elif known is not None:
            size = archive.stored_size(e)
            known = None if size is None else known + size
    # custom: the blocks tile the data area after the TOC, offsets or not
    stored = archive.data_area_size() if custom or known is None else known
    return {
        "path": archive.path,
        "format": archive.kind,
        "archive_version": f"{h.vmaj}.{h.vmin}.{h.vrev}",
        "compression": h.compression_name,
        "compression_level": h.compression_level,
        "int_size": h.int_size,
        "offset_size": h.off_size,
        "created": h.created_text(),
        "dbname": h.dbname,
        "server_version": h.server_version,
        "pg_dump_version": h.dump_version,
        "encoding": archive.encoding,
        "toc_entries": h.toc_count,
        "data_entries": data_entries,
        "has_data_offsets": has_offsets if custom else None,
        "stored_data_bytes": stored,
        "sections": dict(sorted(sections.items())),
        "types": dict(sorted(types.items())),
    }
