"""Which TOC entries a restore takes: pg_restore's own rules, plus patterns and --with-deps.

:func:`select` follows pg_restore 18's ``_tocEntryRequired`` rule by rule (section
tracking, -L reordering, ACL/COMMENT parents, schema and data masks), so that with only
pg_restore's options the result is exactly what ``pg_restore -l`` prints.  Pure: entries
in, decisions out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntFlag

from .format.constants import Section
from .model import TocEntry


class Req(IntFlag):
    NONE = 0
    SCHEMA = 1
    DATA = 2
    SPECIAL = 4
    STATS = 8


TABLE_LIKE = frozenset({"TABLE", "TABLE DATA", "VIEW", "FOREIGN TABLE", "MATERIALIZED VIEW",
                        "MATERIALIZED VIEW DATA", "SEQUENCE", "SEQUENCE SET"})
FUNCTION_LIKE = frozenset({"FUNCTION", "AGGREGATE", "PROCEDURE"})
ACL_DESCS = frozenset({"ACL", "ACL LANGUAGE", "DEFAULT ACL"})
SPECIAL_DESCS = frozenset({"ENCODING", "STDSTRINGS", "SEARCHPATH"})
DEPENDENT_DESCS = frozenset({"ACL", "COMMENT", "SECURITY LABEL"})


@dataclass(frozen=True)
class RestoreOptions:
    """The selection switches of pg_restore, as pg_restore takes them (exact names)."""

    schemas: tuple[str, ...] = ()           # -n
    exclude_schemas: tuple[str, ...] = ()   # -N
    tables: tuple[str, ...] = ()            # -t
    indexes: tuple[str, ...] = ()           # -I
    functions: tuple[str, ...] = ()         # -P
    triggers: tuple[str, ...] = ()          # -T
    sel_table: bool = False                 # -t given (possibly with no names)
    sel_index: bool = False
    sel_function: bool = False
    sel_trigger: bool = False
    sections: frozenset[Section] = frozenset({Section.PRE_DATA, Section.DATA,
                                              Section.POST_DATA})
    schema_only: bool = False               # -s / --no-data
    data_only: bool = False                 # -a / --no-schema
    statistics: bool = True                 # pg_restore 18 restores statistics by default
    statistics_only: bool = False
    create: bool = False                    # -C
    no_acl: bool = False                    # -x
    no_comments: bool = False
    no_policies: bool = False
    no_publications: bool = False
    no_subscriptions: bool = False
    no_security_labels: bool = False
    use_list: tuple[int, ...] | None = None  # -L: wanted ids, in list order

    @property
    def sel_types(self) -> bool:
        return self.sel_table or self.sel_index or self.sel_function or self.sel_trigger

    @property
    def selective(self) -> bool:
        return bool(self.schemas or self.exclude_schemas or self.sel_types)

    @property
    def dump_schema(self) -> bool:
        return not self.data_only and not self.statistics_only

    @property
    def dump_data(self) -> bool:
        return not self.schema_only and not self.statistics_only

    @property
    def dump_statistics(self) -> bool:
        if self.statistics_only:
            return True
        return self.statistics and not self.schema_only and not self.data_only


@dataclass
class Decision:
    entry: TocEntry
    reqs: Req
    reason: str = ""
    pulled_by: list[int] = field(default_factory=list)


def order_for_list(entries: Sequence[TocEntry], wanted: Sequence[int]) -> list[TocEntry]:
    """The TOC order after -L: unwanted entries first (in TOC order), then the list's order.

    pg_restore moves each listed entry to the end of the list in turn.
    """
    by_id = {e.dump_id: e for e in entries}
    listed = [by_id[i] for i in wanted if i in by_id]
    listed_ids = {e.dump_id for e in listed}
    return [e for e in entries if e.dump_id not in listed_ids] + listed


def required(entries: Sequence[TocEntry], opts: RestoreOptions) -> list[Decision]:
    """Run pg_restore's selection over ``entries``; returns one Decision per entry, in the
    (possibly -L reordered) TOC order."""
    ordered = (order_for_list(entries, opts.use_list) if opts.use_list is not None
               else list(entries))
    wanted = set(opts.use_list) if opts.use_list is not None else None
    by_id: dict[int, Decision] = {}
    out: list[Decision] = []
    cur = Section.PRE_DATA
    for e in ordered:
        if e.section != Section.NONE:
            cur = e.section
        d = Decision(e, _required(e, cur, opts, wanted, by_id))
        by_id.setdefault(e.dump_id, d)
        out.append(d)
    return out


def _required(e: TocEntry, cur: Section, o: RestoreOptions, wanted: set[int] | None,
              done: dict[int, Decision]) -> Req:
    desc, tag = e.desc, e.tag
    if desc in SPECIAL_DESCS:
        return Req.SPECIAL
    res = Req.SCHEMA | Req.DATA
    if desc == "STATISTICS DATA":
        if not o.dump_statistics:
            return Req.NONE
        res = Req.STATS
    if desc in ("DATABASE", "DATABASE PROPERTIES"):
        return Req.SCHEMA if o.create else Req.NONE
    if o.no_acl and desc in ACL_DESCS:
        return Req.NONE
    if o.no_comments and desc == "COMMENT":
        return Req.NONE
    if o.no_policies and (desc in ("POLICY", "ROW SECURITY") or
                          (desc == "COMMENT" and tag.startswith("POLICY "))):
        return Req.NONE
    if o.no_publications and (desc in ("PUBLICATION", "PUBLICATION TABLE",
                                       "PUBLICATION TABLES IN SCHEMA") or
                              (desc in ("COMMENT", "SECURITY LABEL") and
                               tag.startswith("PUBLICATION "))):
        return Req.NONE
    if o.no_subscriptions and (desc in ("SUBSCRIPTION", "SUBSCRIPTION TABLE") or
                               (desc in ("COMMENT", "SECURITY LABEL") and
                                tag.startswith("SUBSCRIPTION "))):
        return Req.NONE
    if o.no_security_labels and desc == "SECURITY LABEL":
        return Req.NONE
    if cur not in o.sections:
        return Req.NONE
    if wanted is not None and e.dump_id not in wanted:
        return Req.NONE
    if desc in DEPENDENT_DESCS:
        if tag.startswith("DATABASE "):
            if not o.create:
                return Req.NONE
        elif o.selective:
            for dep in e.dependencies:
                parent = done.get(dep)
                if parent is None or parent.entry.desc == "ACL" or not parent.reqs:
                    continue
                break
            else:
                return Req.NONE
    else:
        if o.schemas and (e.namespace is None or e.namespace not in o.schemas):
            return Req.NONE
        if o.exclude_schemas and e.namespace is not None and e.namespace in o.exclude_schemas:
            return Req.NONE
        if o.sel_types and not _matches_types(e, o, done):
            return Req.NONE
    if not e.had_dumper:
        if (desc in ("SEQUENCE SET", "BLOB", "BLOB METADATA") or
                (desc in DEPENDENT_DESCS and tag.startswith("LARGE OBJECT"))):
            res &= Req.DATA | Req.STATS
        else:
            res &= ~Req.DATA
    if not e.defn or e.defn.startswith("-- load via partition root "):
        res &= ~Req.SCHEMA
    if desc == "<Init>" and tag == "Max OID":
        return Req.NONE
    if not o.dump_schema:
        res &= ~Req.SCHEMA
    if not o.dump_data:
        res &= ~Req.DATA
    return res


def _matches_types(e: TocEntry, o: RestoreOptions, done: dict[int, Decision]) -> bool:
    desc = e.desc
    if desc in TABLE_LIKE:
        return o.sel_table and (not o.tables or e.tag in o.tables)
    if desc == "INDEX":
        return o.sel_index and (not o.indexes or e.tag in o.indexes)
    if desc in FUNCTION_LIKE:
        return o.sel_function and (not o.functions or e.tag in o.functions)
    if desc == "TRIGGER":
        return o.sel_trigger and (not o.triggers or e.tag in o.triggers)
    if desc == "STATISTICS DATA":
        for dep in e.dependencies:
            parent = done.get(dep)
            if parent is None or not parent.reqs:
                continue
            if parent.entry.desc in TABLE_LIKE and o.sel_table:
                return True
            if parent.entry.desc == "INDEX" and o.sel_index:
                return True
        return False
    return False


def listed(decisions: Iterable[Decision]) -> list[TocEntry]:
    """The entries pg_restore -l prints: those with a schema, data or statistics part."""
    mask = Req.SCHEMA | Req.DATA | Req.STATS
    return [d.entry for d in decisions if d.reqs & mask]


def list_file_ids(entries: Sequence[TocEntry], text: str) -> tuple[tuple[int, ...], list[str]]:
    """The ids of a -L list file, checked against the TOC as pg_restore checks them.

    Returns the ids in list order and the lines pg_restore would ignore with a warning.
    """
    from .errors import UsageError
    from .listing import parse_list

    known = {e.dump_id for e in entries}
    parsed = parse_list(text, max(known, default=0))
    for i in parsed.ids:
        if i not in known:
            raise UsageError(f"could not find entry for ID {i}")
    return tuple(parsed.ids), parsed.ignored
