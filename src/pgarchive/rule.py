"""pg_restore 18's ``_tocEntryRequired``: which parts of one TOC entry a restore takes.

The rule the selection (:mod:`pgarchive.selection`) applies to every entry, apart so that
mypyc compiles it (``setup.py``; plain Python without a compiler): a 100,000-entry TOC
asks it 100,000 times.  It reads the options from :class:`Switches`, taken once from the
frozen options (compiled: a field each, where the dataclass costs a dictionary lookup a
read), and the entry as plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .format.model import TocEntry
    from .patterns import NameMatcher
    from .selection import RestoreOptions

TABLE_LIKE: Final = frozenset({"TABLE", "TABLE DATA", "VIEW", "FOREIGN TABLE",
                               "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA", "SEQUENCE",
                               "SEQUENCE SET"})
FUNCTION_LIKE: Final = frozenset({"FUNCTION", "AGGREGATE", "PROCEDURE"})
ACL_DESCS: Final = frozenset({"ACL", "ACL LANGUAGE", "DEFAULT ACL"})
SPECIAL_DESCS: Final = frozenset({"ENCODING", "STDSTRINGS", "SEARCHPATH"})
DEPENDENT_DESCS: Final = frozenset({"ACL", "COMMENT", "SECURITY LABEL"})

#: flags: had a dumper; the definition is real (not empty, not a partition-root comment);
#: it is a partition-root comment; it says PARTITION BY (a partitioned table).
HAD_DUMPER: Final = 1
DEFN_REAL: Final = 2
DEFN_ROOT: Final = 4
PARTITIONED: Final = 8

_PARTITION_ROOT: Final = "-- load via partition root "
_MASK: Final = 11  # SCHEMA | DATA | STATS
_PRE_DATA: Final = 2  # Section.PRE_DATA (and NONE = 1): see format.constants

#: (desc, reqs) of an earlier entry with this dump id, or None.
ParentOf = Callable[[int], "tuple[str, int] | None"]


def no_parent(dep: int) -> tuple[str, int] | None:
    """A :data:`ParentOf` for rules that look at the entry alone."""
    return None


def entry_flags(e: TocEntry, partitioned: bool = True) -> int:
    """The :data:`HAD_DUMPER` ... :data:`PARTITIONED` bits of an entry (PARTITIONED only
    if asked for: the rule never reads it, and it is a search through each definition)."""
    flags = HAD_DUMPER if e.had_dumper else 0
    defn = e.defn
    if defn:
        flags |= DEFN_ROOT if defn.startswith(_PARTITION_ROOT) else DEFN_REAL
        if partitioned and "PARTITION BY" in defn:
            flags |= PARTITIONED
    return flags


class Switches:
    """The options the rule reads, as fields (see the module's doc)."""

    def __init__(self, o: RestoreOptions) -> None:
        self.options = o
        self.dump_statistics: bool = o.dump_statistics
        self.dump_schema: bool = o.dump_schema
        self.dump_data: bool = o.dump_data
        self.create: bool = o.create
        self.no_acl: bool = o.no_acl
        self.no_comments: bool = o.no_comments
        self.no_policies: bool = o.no_policies
        self.no_publications: bool = o.no_publications
        self.no_subscriptions: bool = o.no_subscriptions
        self.no_security_labels: bool = o.no_security_labels
        self.sections: frozenset[int] = frozenset(int(s) for s in o.sections)
        self.selective: bool = o.selective
        self.sel_types: bool = o.sel_types
        self.sel_table: bool = o.sel_table
        self.sel_index: bool = o.sel_index
        self.sel_function: bool = o.sel_function
        self.sel_trigger: bool = o.sel_trigger
        self.schemas: bool = bool(o.schemas)
        self.exclude_schemas: bool = bool(o.exclude_schemas)
        self.tables: bool = bool(o.tables)
        self.indexes: bool = bool(o.indexes)
        self.functions: bool = bool(o.functions)
        self.triggers: bool = bool(o.triggers)

    def matcher(self, which: str) -> NameMatcher:
        """The compiled names of one option (made on first use, by the options)."""
        return self.options.names[which]


def each(entries: Sequence[TocEntry], o: Switches) -> list[int]:
    """The rule's Req bits for every entry in order, when it looks at each entry alone (no
    names, no -L: see :func:`pgarchive.selection.independent`); a SECTION_NONE entry is in
    the section of the entry before it."""
    out = [0] * len(entries)
    cur = _PRE_DATA
    parent = no_parent  # (a local: compiled, a global function is a dictionary lookup)
    for i, e in enumerate(entries):
        section: int = e.section  # (the IntEnum as the int it is: int() is a call)
        if section != 1:  # SECTION_NONE
            cur = section
        out[i] = rule(e.desc, e.tag, e.namespace, entry_flags(e, False), e.dump_id,
                      e.dependencies, cur, o, None, parent)
    return out


def rule(desc: str, tag: str, namespace: str | None, flags: int, dump_id: int,
         deps: Iterable[int], cur: int, o: Switches, wanted: set[int] | None,
         parent: ParentOf) -> int:
    """pg_restore 18's _tocEntryRequired on an entry's fields: its Req bits.

    Plain ints in here: IntFlag arithmetic costs microseconds per operation, which a
    100,000-entry TOC feels."""
    if desc in SPECIAL_DESCS:
        return 4  # SPECIAL
    res = 3  # SCHEMA | DATA
    if desc == "STATISTICS DATA":
        if not o.dump_statistics:
            return 0
        res = 8  # STATS
    if desc in ("DATABASE", "DATABASE PROPERTIES"):
        return 1 if o.create else 0
    if o.no_acl and desc in ACL_DESCS:
        return 0
    if o.no_comments and desc == "COMMENT":
        return 0
    if o.no_policies and (desc in ("POLICY", "ROW SECURITY") or
                          (desc == "COMMENT" and tag.startswith("POLICY "))):
        return 0
    if o.no_publications and (desc in ("PUBLICATION", "PUBLICATION TABLE",
                                       "PUBLICATION TABLES IN SCHEMA") or
                              (desc in ("COMMENT", "SECURITY LABEL") and
                               tag.startswith("PUBLICATION "))):
        return 0
    if o.no_subscriptions and (desc in ("SUBSCRIPTION", "SUBSCRIPTION TABLE") or
                               (desc in ("COMMENT", "SECURITY LABEL") and
                                tag.startswith("SUBSCRIPTION "))):
        return 0
    if o.no_security_labels and desc == "SECURITY LABEL":
        return 0
    if cur not in o.sections:
        return 0
    if wanted is not None and dump_id not in wanted:
        return 0
    if desc in DEPENDENT_DESCS:
        if tag.startswith("DATABASE "):
            if not o.create:
                return 0
        elif o.selective:
            for dep in deps:
                p = parent(dep)
                if p is None or p[0] == "ACL" or not p[1]:
                    continue
                break
            else:
                return 0
    else:
        if o.schemas and not o.matcher("schemas").matches(namespace):
            return 0
        if o.exclude_schemas and o.matcher("exclude_schemas").matches(namespace):
            return 0
        if o.sel_types and not _matches_types(desc, tag, namespace, deps, o, parent):
            return 0
    if not flags & HAD_DUMPER:
        if (desc in ("SEQUENCE SET", "BLOB", "BLOB METADATA") or
                (desc in DEPENDENT_DESCS and tag.startswith("LARGE OBJECT"))):
            res &= 10  # DATA | STATS
        else:
            res &= ~2  # DATA
    if not flags & DEFN_REAL:
        res &= ~1  # SCHEMA
    if desc == "<Init>" and tag == "Max OID":
        return 0
    if not o.dump_schema:
        res &= ~1
    if not o.dump_data:
        res &= ~2
    return res


def _matches_types(desc: str, tag: str, namespace: str | None, deps: Iterable[int],
                   o: Switches, parent: ParentOf) -> bool:
    if desc in TABLE_LIKE:
        return o.sel_table and (not o.tables or o.matcher("tables").matches(tag, namespace))
    if desc == "INDEX":
        return o.sel_index and (not o.indexes or o.matcher("indexes").matches(tag, namespace))
    if desc in FUNCTION_LIKE:
        return o.sel_function and (not o.functions or
                                   o.matcher("functions").matches(tag, namespace))
    if desc == "TRIGGER":
        return o.sel_trigger and (not o.triggers or
                                  o.matcher("triggers").matches(tag, namespace))
    if desc == "STATISTICS DATA":
        for dep in deps:
            p = parent(dep)
            if p is None or not p[1]:
                continue
            if p[0] in TABLE_LIKE and o.sel_table:
                return True
            if p[0] == "INDEX" and o.sel_index:
                return True
        return False
    return False
