"""Archive versions: which pg_restore reads each, and rewriting entries for an older one.

What changed, version by version (pg_backup_archiver.h; ``../shared/docs/archive-format.md``):

* 1.13 -- no layout change: the SEARCHPATH entry and schema-qualified SQL (CVE-2018-1058).
* 1.14 -- TOC entries gain ``tableam`` (pg_dump 12).
* 1.15 -- the header's zlib level becomes an algorithm byte: lz4 and zstd (pg_dump 16).
* 1.16 -- TOC entries gain ``relkind``; large objects are described by BLOB METADATA
  entries of up to 1000 objects, with one BLOBS data entry per group (pg_dump 17).

Going back, the 1.16 large-object entries become what pg_dump 12-16 wrote: one BLOB entry
per object (``lo_create``/``lo_unlink``, section pre-data), its comments, security labels
and ACLs one per object, and one BLOBS data entry holding every object (tested field for
field against the same database dumped by pg_dump 15 and 16).  They stay where the 1.16
entries were, after the table data, where pg_dump 16 put them at the end of pre-data: the
order of entries is kept; a serial restore creates the objects just before the BLOBS data
that follows them, a parallel one with the rest of pre-data (tested with pg_restore 15).
What an older version cannot record is refused, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from ..errors import UsageError
from ..format.constants import (
    K_VERS_1_12,
    K_VERS_1_13,
    K_VERS_1_14,
    K_VERS_1_15,
    K_VERS_1_16,
    Section,
    version,
)
from ..format.model import TocEntry
from .model import OutEntry

#: The versions convert writes.
WRITABLE = (K_VERS_1_12, K_VERS_1_13, K_VERS_1_14, K_VERS_1_15, K_VERS_1_16)
#: The newest version convert raises an archive to: up to 1.15 only layout changes; 1.16
#: describes large objects differently.
HIGHEST_RAISE = K_VERS_1_15

#: Who reads each version (pg_backup_archiver.h's K_VERS_MAX of each release; 1.13 came
#: with the 2018-03 security releases of the back branches).
READERS = {
    K_VERS_1_16: "pg_restore of PostgreSQL 17 and later",
    K_VERS_1_15: "pg_restore of PostgreSQL 16 and later",
    K_VERS_1_14: "pg_restore of PostgreSQL 12 and later",
    K_VERS_1_13: "pg_restore of PostgreSQL 11 and later, and of 10.3, 9.6.8, 9.5.12, 9.4.17, "
                 "9.3.22 and later minor releases",
    K_VERS_1_12: "pg_restore of PostgreSQL 9.0 and later",
    version(1, 11): "pg_restore of PostgreSQL 8.4 and later",
    version(1, 10): "pg_restore of PostgreSQL 8.0 and later",
}


def text(v: int) -> str:
    """``1.14`` for a packed version."""
    return f"{v >> 16}.{(v >> 8) & 0xFF}"


def parse(value: str) -> int:
    """A packed version from ``1.14`` (one of :data:`WRITABLE`), else UsageError."""
    major, _, minor = value.strip().partition(".")
    if major.isdigit() and minor.isdigit():
        v = version(int(major), int(minor))
        if v in WRITABLE:
            return v
    raise UsageError(f"--archive-version {value}: convert writes archive versions "
                     f"{', '.join(text(v) for v in WRITABLE)}")


def readers(v: int) -> str:
    """Which pg_restore reads archive version ``v`` (any revision of it)."""
    return READERS.get(v & ~0xFF, "no released pg_restore")


# --- entries for an older version ----------------------------------------------------------


def downgrade(items: Sequence[OutEntry], source: int, target: int, ids: Iterator[int],
              notes: list[str]) -> list[OutEntry]:
    """Rewrite entries of a ``source`` archive for archive version ``target`` (lower).

    ``ids`` gives fresh dump ids for entries that have to be split; ``notes`` receives
    what was adapted.  Raises UsageError where the older version cannot say the same.
    """
    out = list(items)
    if source >= K_VERS_1_16 > target:
        _refuse_partitioned_access_methods(out, target)
        out = split_large_objects(out, ids)
        notes.append("large objects: the BLOB METADATA and BLOBS entries of archive version "
                     "1.16 are written as pg_dump 12-16 wrote them (one BLOB entry per large "
                     "object, one BLOBS data entry)")
    if target < K_VERS_1_14 <= source:
        out = _drop_access_methods(out, target, notes)
    if source >= K_VERS_1_13 > target:
        notes.append("archive version 1.12 predates the SEARCHPATH entry: a pg_restore "
                     "older than the 2018-03 releases runs it as ordinary SQL and sets "
                     "search_path for each object itself (CVE-2018-1058)")
    if target < K_VERS_1_16 and any(i.entry.desc == "STATISTICS DATA" for i in out):
        notes.append("STATISTICS DATA entries are kept: pg_restore before 18 runs them as "
                     "ordinary SQL (pg_restore_relation_stats needs a PostgreSQL 18 server); "
                     "leave them out with --no-statistics")
    return out


def _refuse_partitioned_access_methods(items: Sequence[OutEntry], target: int) -> None:
    """1.16's relkind lets pg_restore 17 give a partitioned table its access method
    (ALTER TABLE ... SET ACCESS METHOD); older pg_restore would only set
    default_table_access_method, which a partitioned table does not take."""
    for i in items:
        e = i.entry
        if e.relkind == ord("p") and e.tableam:
            raise UsageError(
                f"cannot write archive version {text(target)}: entry {e.label} is a "
                f"partitioned table with table access method {e.tableam!r} (PostgreSQL 17); "
                "only archive version 1.16 records it (its relkind field), and an older "
                "pg_restore would create the table without it")


def _drop_access_methods(items: Sequence[OutEntry], target: int,
                         notes: list[str]) -> list[OutEntry]:
    """Before 1.14 there is no tableam field: "heap" (the only access method before
    PostgreSQL 12, and the default after) is dropped; any other is refused."""
    out = []
    dropped = False
    for i in items:
        e = i.entry
        if e.tableam is not None:
            if e.tableam != "heap":
                raise UsageError(
                    f"cannot write archive version {text(target)}: entry {e.label} uses "
                    f"table access method {e.tableam!r}; archive versions before 1.14 "
                    "(pg_dump 12) have no field for it")
            dropped = True
            i = OutEntry(e._replace(tableam=None), i.sources)
        out.append(i)
    if dropped:
        notes.append("table access methods (all heap) are not recorded before archive "
                     "version 1.14: tables get the server's default_table_access_method")
    return out


# --- large objects: 1.16 -> the form of 1.12-1.15 ----------------------------------------

LO_CATALOG = 2613  # pg_largeobject


def blob_entry(dump_id: int, oid_text: str, owner: str | None,
               table_oid: int = LO_CATALOG) -> TocEntry:
    """A BLOB entry as pg_dump 9.0-16 wrote it (dumpLO): created in pre-data by lo_create;
    pg_restore adds ALTER LARGE OBJECT ... OWNER from the owner field."""
    return TocEntry(
        dump_id=dump_id, had_dumper=False, table_oid=table_oid, oid=int(oid_text),
        tag=oid_text, desc="BLOB", section=Section.PRE_DATA,
        defn=f"SELECT pg_catalog.lo_create('{oid_text}');\n",
        drop_stmt=f"SELECT pg_catalog.lo_unlink('{oid_text}');\n", copy_stmt=None,
        namespace=None, tablespace=None, tableam=None, relkind=0, owner=owner,
        with_oids=False, dependencies=())


def blobs_entry(dump_id: int) -> TocEntry:
    """The one BLOBS data entry of pg_dump 9.0-16: no owner, no dependencies."""
    return TocEntry(
        dump_id=dump_id, had_dumper=True, table_oid=0, oid=0, tag="BLOBS", desc="BLOBS",
        section=Section.DATA, defn=None, drop_stmt=None, copy_stmt=None, namespace=None,
        tablespace=None, tableam=None, relkind=0, owner=None, with_oids=False,
        dependencies=())


def metadata_oids(e: TocEntry) -> list[str]:
    """The oids a BLOB METADATA entry describes: its defn, one per line."""
    lines = (e.defn or "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not all(line.isdigit() and int(line) < 1 << 32 for line in lines):
        raise UsageError(f"entry {e.label}: BLOB METADATA does not list large object "
                         "oids one per line; cannot describe them for an older version")
    return lines


def lo_command_for(defn: str, oid: str) -> str:
    """A group's GRANT/REVOKE text for one of its large objects: every ``LARGE OBJECT
    <oid>`` outside double quotes names ``oid`` instead -- what pg_restore 17's
    IssueACLPerBlob issues for each object of the group."""
    out: list[str] = []
    i, n, quoted = 0, len(defn), False
    key = "LARGE OBJECT "
    while i < n:
        c = defn[i]
        if c == '"':
            quoted = not quoted
        if not quoted and defn.startswith(key, i):
            j = i + len(key)
            k = j
            while k < n and defn[k].isdigit():
                k += 1
            if k > j:
                out.append(key + oid)
                i = k
                continue
        out.append(c)
        i += 1
    return "".join(out)


def _lo_of_tag(tag: str) -> str | None:
    prefix = "LARGE OBJECT "
    if tag.startswith(prefix) and tag[len(prefix):].isdigit():
        return tag[len(prefix):]
    return None


def split_large_objects(items: Sequence[OutEntry], ids: Iterator[int]) -> list[OutEntry]:
    """Replace each BLOB METADATA entry, in place, by one BLOB entry per object (the first
    keeps its dump id), split each group ACL ("LARGE OBJECTS a..b") into one per object,
    point comments, labels and ACLs at their object's BLOB entry, and merge every BLOBS
    entry into one at the place of the first, holding all their data."""
    groups: dict[int, list[tuple[str, int]]] = {}  # metadata id -> [(oid, BLOB dump id)]
    for i in items:
        e = i.entry
        if e.desc == "BLOB METADATA":
            oids = metadata_oids(e)
            groups[e.dump_id] = [(oid, e.dump_id if k == 0 else next(ids))
                                 for k, oid in enumerate(oids)]
    blob_of = {oid: did for members in groups.values() for oid, did in members}
    blobs = [i for i in items if i.is_blobs]
    merged_id = blobs[0].entry.dump_id if blobs else None
    blobs_ids = {i.entry.dump_id for i in blobs}

    def remap(deps: tuple[int, ...], own_oid: str | None) -> tuple[int, ...]:
        new: list[int] = []
        for d in deps:
            if d in groups:
                if own_oid is not None and own_oid in blob_of:
                    new.append(blob_of[own_oid])
                else:
                    new.extend(did for _oid, did in groups[d])
            elif d in blobs_ids and merged_id is not None:
                new.append(merged_id)
            else:
                new.append(d)
        return tuple(new)

    out: list[OutEntry] = []
    for i in items:
        e = i.entry
        if e.desc == "BLOB METADATA":
            out.extend(OutEntry(blob_entry(did, oid, e.owner, e.table_oid))
                       for oid, did in groups[e.dump_id])
        elif e.desc == "BLOBS":
            if e.dump_id == merged_id:
                sources = tuple(s for b in blobs for s in b.sources)
                out.append(OutEntry(blobs_entry(e.dump_id), sources))
        elif e.desc == "ACL" and e.tag.startswith("LARGE OBJECTS ") and any(
                d in groups for d in e.dependencies):
            group = next(groups[d] for d in e.dependencies if d in groups)
            others = tuple(d for d in e.dependencies if d not in groups)
            for k, (oid, did) in enumerate(group):
                out.append(OutEntry(e._replace(
                    dump_id=e.dump_id if k == 0 else next(ids), tag=f"LARGE OBJECT {oid}",
                    defn=lo_command_for(e.defn or "", oid),
                    drop_stmt=(lo_command_for(e.drop_stmt, oid) if e.drop_stmt else
                               e.drop_stmt),
                    dependencies=(did, *remap(others, None)))))
        else:
            own = _lo_of_tag(e.tag) if e.desc in ("COMMENT", "SECURITY LABEL", "ACL") else None
            deps = remap(e.dependencies, own)
            out.append(i if deps == e.dependencies else
                       OutEntry(e._replace(dependencies=deps), i.sources))
    return out


def fresh_ids(entries: Sequence[TocEntry]) -> Callable[[], Iterator[int]]:
    """Dump ids above every id the archive uses, in its entries or their dependencies
    (pg_dump's section boundaries appear only as dependencies)."""
    top = max((max((e.dump_id, *e.dependencies)) for e in entries), default=0)

    def gen() -> Iterator[int]:
        n = top
        while True:
            n += 1
            yield n

    return gen
