"""Facts about an archive for ``info`` and for the fields of ``ls``: plain dicts, ready for
JSON, CSV or a table."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .archive import Archive
from .format.model import TocEntry

ENTRY_FIELDS = ("dump_id", "section", "desc", "namespace", "tag", "owner", "table_oid", "oid",
                "had_dumper", "has_data", "stored_size", "tablespace", "tableam", "relkind",
                "with_oids", "dependencies", "offset_flag", "data_offset", "filename",
                "defn", "drop_stmt", "copy_stmt")


def entry_record(archive: Archive, e: TocEntry) -> dict[str, Any]:
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
        "stored_size": archive.stored_size(e) if e.has_data else None,
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


def archive_info(archive: Archive) -> dict[str, Any]:
    """The header facts, entry counts per section and per type, and stored data size."""
    h = archive.header
    data_entries = [e for e in archive.entries if e.has_data]
    sizes = [archive.stored_size(e) for e in data_entries]
    known = [s for s in sizes if s is not None]
    return {
        "path": archive.path,
        "format": archive.format_name.lower(),
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
        "data_entries": len(data_entries),
        "has_data_offsets": archive.can_seek_data if archive.format_name == "CUSTOM" else None,
        "stored_data_bytes": sum(known) if len(known) == len(sizes) else archive.data_area_size(),
        "sections": dict(sorted(Counter(e.section.name for e in archive.entries).items())),
        "types": dict(sorted(Counter(e.desc for e in archive.entries).items())),
    }
