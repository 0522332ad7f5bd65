"""Which TOC entries a restore takes: pg_restore's own rules, plus patterns and --with-deps.

:func:`select` follows pg_restore 18's ``_tocEntryRequired`` rule by rule (section
tracking, -L reordering, ACL/COMMENT parents, schema and data masks), so that with only
pg_restore's options the result is exactly what ``pg_restore -l`` prints.  Pure: entries
in, decisions out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntFlag

from .format.constants import Section
from .format.model import TocEntry
from .patterns import NameMatcher, any_matches


class Req(IntFlag):
    """What of an entry is restored (pg_restore's teReqs): its definition, its data, its
    statistics, or it is one of the settings entries (ENCODING, ...)."""

    NONE = 0
    SCHEMA = 1
    DATA = 2
    SPECIAL = 4
    STATS = 8


_REQS = tuple(Req(i) for i in range(16))
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
    no_data: bool = False                   # --no-data
    no_schema: bool = False                 # --no-schema
    with_statistics: bool = False           # --statistics
    strict_names: bool = False              # --strict-names

    @functools.cached_property
    def names(self) -> dict[str, NameMatcher]:
        """The name options compiled once (a filter file may give a million names)."""
        return {"schemas": NameMatcher(self.schemas, qualified=False),
                "exclude_schemas": NameMatcher(self.exclude_schemas, qualified=False),
                "tables": NameMatcher(self.tables), "indexes": NameMatcher(self.indexes),
                "functions": NameMatcher(self.functions),
                "triggers": NameMatcher(self.triggers)}

    @functools.cached_property
    def sel_types(self) -> bool:
        """Whether any -t/-I/-P/-T was given (pg_restore's selTypes)."""
        return self.sel_table or self.sel_index or self.sel_function or self.sel_trigger

    @functools.cached_property
    def selective(self) -> bool:
        """Whether names select entries at all (then dependent entries follow their parents)."""
        return bool(self.schemas or self.exclude_schemas or self.sel_types)

    # (cached: the options are frozen, and these are asked once per TOC entry)
    # The three below are pg_restore 18's derivation (pg_restore.c), once validate() has
    # refused the contradictory combinations.
    @functools.cached_property
    def dump_schema(self) -> bool:
        """Whether definitions are restored."""
        return ((self.schema_only or (not self.data_only and not self.statistics_only))
                and not self.no_schema)

    @functools.cached_property
    def dump_data(self) -> bool:
        """Whether data is restored."""
        return ((self.data_only or (not self.schema_only and not self.statistics_only))
                and not self.no_data)

    @functools.cached_property
    def dump_statistics(self) -> bool:
        """Whether statistics are restored."""
        return self.statistics and (self.statistics_only or self.with_statistics or
                                    (not self.schema_only and not self.data_only))

    def validate(self) -> None:
        """Refuse the "-only"/"no-" contradictions pg_restore 18 refuses, in its order."""
        from .errors import UsageError

        both = "options {} and {} cannot be used together ({})"
        only = "each -only option keeps one part; for several, name none of them"
        pairs = [
            (self.data_only and self.schema_only, "-s/--schema-only", "-a/--data-only",
             "-s restores only definitions and -a only data; for both, give neither"),
            (self.schema_only and self.statistics_only, "-s/--schema-only",
             "--statistics-only", only),
            (self.data_only and self.statistics_only, "-a/--data-only", "--statistics-only",
             only),
            (self.data_only and self.no_data, "-a/--data-only", "--no-data",
             "-a keeps only the data that --no-data leaves out"),
            (self.schema_only and self.no_schema, "-s/--schema-only", "--no-schema",
             "-s keeps only the definitions that --no-schema leaves out"),
            (self.statistics_only and not self.statistics, "--statistics-only",
             "--no-statistics", "they contradict each other"),
            (self.with_statistics and not self.statistics, "--statistics",
             "--no-statistics", "they contradict each other"),
            (self.data_only and self.with_statistics, "-a/--data-only", "--statistics",
             "-a keeps only table data"),
            (self.schema_only and self.with_statistics, "-s/--schema-only", "--statistics",
             "-s keeps only definitions"),
        ]
        for refused, a, b, why in pairs:
            if refused:
                raise UsageError(both.format(a, b, why))


@dataclass(slots=True)
class Decision:
    """What the selection decided for one entry, and why (slots: one per TOC entry, a
    million of them for a big archive)."""

    entry: TocEntry
    reqs: Req
    reason: str = ""
    #: None until something pulls it (a list per entry of a million-entry TOC is 56 MB)
    pulled_by: list[int] | None = None
    #: --with-deps took it only because a chosen entry needs it (a schema, a type, a
    #: function...): a restore may leave it out where the target already has it.
    needed: bool = False


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
    # plain ints in here: IntFlag arithmetic costs microseconds per operation, which a
    # 100,000-entry TOC feels (the result is one of _REQS)
    res = 3  # SCHEMA | DATA
    if desc == "STATISTICS DATA":
        if not o.dump_statistics:
            return Req.NONE
        res = 8  # STATS
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
        if o.schemas and not o.names["schemas"].matches(e.namespace):
            return Req.NONE
        if o.exclude_schemas and o.names["exclude_schemas"].matches(e.namespace):
            return Req.NONE
        if o.sel_types and not _matches_types(e, o, done):
            return Req.NONE
    if not e.had_dumper:
        if (desc in ("SEQUENCE SET", "BLOB", "BLOB METADATA") or
                (desc in DEPENDENT_DESCS and tag.startswith("LARGE OBJECT"))):
            res &= 10  # DATA | STATS
        else:
            res &= ~2  # DATA
    if not e.defn or e.defn.startswith("-- load via partition root "):
        res &= ~1  # SCHEMA
    if desc == "<Init>" and tag == "Max OID":
        return Req.NONE
    if not o.dump_schema:
        res &= ~1
    if not o.dump_data:
        res &= ~2
    return _REQS[res]


def _matches_types(e: TocEntry, o: RestoreOptions, done: dict[int, Decision]) -> bool:
    desc = e.desc
    names = o.names
    if desc in TABLE_LIKE:
        return o.sel_table and (not o.tables or names["tables"].matches(e.tag, e.namespace))
    if desc == "INDEX":
        return o.sel_index and (not o.indexes or names["indexes"].matches(e.tag, e.namespace))
    if desc in FUNCTION_LIKE:
        return o.sel_function and (not o.functions or
                                   names["functions"].matches(e.tag, e.namespace))
    if desc == "TRIGGER":
        return o.sel_trigger and (not o.triggers or
                                  names["triggers"].matches(e.tag, e.namespace))
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


def check_strict_names(entries: Sequence[TocEntry], o: RestoreOptions) -> None:
    """--strict-names: refuse, as pg_restore's StrictNamesCheck does, a -n/-t/-I/-P/-T name
    that no entry reaching pg_restore's name comparison has (schema, then table, index,
    function, trigger; the first missing name of the first list)."""
    from .errors import UsageError

    ordered = (order_for_list(entries, o.use_list) if o.use_list is not None
               else list(entries))
    wanted = set(o.use_list) if o.use_list is not None else None
    touched: set[tuple[str, str]] = set()
    cur = Section.PRE_DATA
    for e in ordered:
        if e.section != Section.NONE:
            cur = e.section
        if (e.desc in SPECIAL_DESCS or e.desc in DEPENDENT_DESCS or
                e.desc in ("DATABASE", "DATABASE PROPERTIES", "STATISTICS DATA") or
                cur not in o.sections or (wanted is not None and e.dump_id not in wanted)):
            continue
        if o.schemas:
            hits = [p for p in o.schemas if any_matches((p,), e.namespace, qualified=False)]
            touched.update(("schema", p) for p in hits)
            if not hits:
                continue
        if o.exclude_schemas and any_matches(o.exclude_schemas, e.namespace,
                                             qualified=False):
            continue
        for kind, names, descs in (("table", o.tables, TABLE_LIKE),
                                   ("index", o.indexes, {"INDEX"}),
                                   ("function", o.functions, FUNCTION_LIKE),
                                   ("trigger", o.triggers, {"TRIGGER"})):
            if e.desc in descs:
                touched.update((kind, p) for p in names
                               if any_matches((p,), e.tag, e.namespace))
    for kind, names in (("schema", o.schemas), ("table", o.tables), ("index", o.indexes),
                        ("function", o.functions), ("trigger", o.triggers)):
        for name in names:
            if (kind, name) not in touched:
                raise UsageError(f'{kind} "{name}" not found')


def default_listed(entries: Iterable[TocEntry], statistics: bool = True) -> Iterator[TocEntry]:
    """The entries pg_restore -l prints with default options, as a stream: with no name,
    section or list option, pg_restore's rule looks at each entry alone."""
    opts = RestoreOptions(statistics=statistics)
    mask = Req.SCHEMA | Req.DATA | Req.STATS
    for e in entries:
        if _required(e, Section.PRE_DATA, opts, None, {}) & mask:
            yield e


def listed(decisions: Iterable[Decision]) -> list[TocEntry]:
    """The entries pg_restore -l prints: those with a schema, data or statistics part."""
    return [d.entry for d in chosen(decisions)]


def list_file_ids(entries: Sequence[TocEntry], chunks: Iterable[bytes],
                  on_ignored: Callable[[bytes], None] | None = None) -> tuple[tuple[int, ...], int]:
    """The ids of a -L list file (as byte chunks), checked against the TOC as pg_restore
    checks them: the ids in list order, and how many lines pg_restore would ignore with a
    warning (each also given to ``on_ignored``)."""
    from .errors import UsageError
    from .listfile import parse_list_chunks

    known = {e.dump_id for e in entries}
    parsed = parse_list_chunks(chunks, max(known, default=0), on_ignored)
    for i in parsed.ids:
        if i not in known:
            raise UsageError(f"could not find entry for ID {i}")
    return tuple(parsed.ids), parsed.ignored


# --- beyond pg_restore: --exclude-table-data, --with-deps, --explain ---------------------

#: Entries that belong to the object they depend on: selecting a table brings them along.
BELONGINGS = frozenset({
    "TABLE DATA", "INDEX", "CONSTRAINT", "CHECK CONSTRAINT", "TRIGGER", "RULE", "POLICY",
    "ROW SECURITY", "COMMENT", "SECURITY LABEL", "ACL", "DEFAULT", "SEQUENCE", "SEQUENCE SET",
    "STATISTICS", "STATISTICS DATA", "MATERIALIZED VIEW DATA", "EXTENDED STATISTICS",
})
#: Entries that tie two relations together: they come only when every relation they
#: depend on is selected; with --with-fks, a selected table's FKs bring the tables they
#: reference.
BINDINGS = frozenset({"FK CONSTRAINT", "TABLE ATTACH", "INDEX ATTACH", "SEQUENCE OWNED BY"})
#: What even an object pulled in only because something needs it brings along.
ALWAYS_ALONG = frozenset({"COMMENT", "SECURITY LABEL", "ACL", "SEQUENCE SET"})
OWNERS = TABLE_LIKE | {"DOMAIN"}


@dataclass(frozen=True)
class Selection:
    """pg_restore's options plus pgarchive's own."""

    restore: RestoreOptions = field(default_factory=RestoreOptions)
    exclude_table_data: tuple[str, ...] = ()
    with_deps: bool = False
    with_fks: bool = False


def _mask_only(o: RestoreOptions) -> RestoreOptions:
    """The same options without the name filters: what still applies to pulled entries."""
    from dataclasses import replace

    return replace(o, schemas=(), exclude_schemas=(), tables=(), indexes=(), functions=(),
                   triggers=(), sel_table=False, sel_index=False, sel_function=False,
                   sel_trigger=False, use_list=None)


def select(entries: Sequence[TocEntry], sel: Selection) -> list[Decision]:
    """Decide every entry: pg_restore's rules, then the dependency closure and the
    table-data exclusions.  Each chosen Decision carries the reason it was chosen."""
    decisions = required(entries, sel.restore)
    if sel.restore.strict_names:
        check_strict_names(entries, sel.restore)
    mask = int(Req.SCHEMA | Req.DATA | Req.STATS)
    for d in decisions:
        if int(d.reqs) & mask:
            d.reason = _option_reason(d.entry, sel.restore)
    if sel.with_deps:
        _close(decisions, sel)
    if sel.exclude_table_data:
        excluded = NameMatcher(sel.exclude_table_data)
        for d in decisions:
            e = d.entry
            if e.desc == "TABLE DATA" and d.reqs and excluded.matches(e.tag, e.namespace):
                d.reqs = Req.NONE
                d.reason = "excluded by --exclude-table-data"
    return decisions


def _option_reason(e: TocEntry, o: RestoreOptions) -> str:
    if o.use_list is not None:
        return "listed in the -L list file"
    if o.sel_types or o.schemas:
        if e.desc in DEPENDENT_DESCS:
            return "pg_restore keeps it with its selected parent"
        for flag, names, descs in ((o.sel_table, o.tables, TABLE_LIKE),
                                   (o.sel_index, o.indexes, {"INDEX"}),
                                   (o.sel_function, o.functions, FUNCTION_LIKE),
                                   (o.sel_trigger, o.triggers, {"TRIGGER"})):
            if flag and e.desc in descs:
                return "matches " + ", ".join(names)
        if o.schemas:
            return f"in schema {e.namespace}"
    return "selected"


def _close(decisions: list[Decision], sel: Selection) -> None:
    """Add what the chosen entries own and what they need, to a fixpoint; with --with-fks,
    also every table a chosen table references through a foreign key, whole.

    Time is linear in the entries and their dependency references: each entry is looked
    at a bounded number of times, and whether a binding's relations are all selected is a
    counter kept up to date (a foreign key tying thousands of tables is not walked again
    each time one of them is chosen)."""
    mask = Req.SCHEMA | Req.DATA | Req.STATS
    by_id = {d.entry.dump_id: d for d in decisions}
    # Memory (a million entries, issue 12): an entry's only child is kept as it is, a
    # list is made for the second; the section is kept only for the SECTION_NONE entries,
    # which are in the section of the entry before them.
    children: dict[int, Decision | list[Decision]] = {}
    for d in decisions:
        deps = d.entry.dependencies
        for dep in (set(deps) if len(deps) > 1 else deps):
            had = children.setdefault(dep, d)
            if had is not d:
                if isinstance(had, list):
                    had.append(d)
                else:
                    children[dep] = [had, d]
    mask_opts = _mask_only(sel.restore)
    none_section: dict[int, Section] = {}
    cur = Section.PRE_DATA
    for d in decisions:
        if d.entry.section != Section.NONE:
            cur = d.entry.section
        else:
            none_section[d.entry.dump_id] = cur
    chosen = {d.entry.dump_id for d in decisions if d.reqs & mask}
    # "full" objects bring their belongings; "needed" ones only what always comes along.
    full: set[int] = set()
    bindings = _Bindings(by_id, full)
    for i in chosen:
        if by_id[i].entry.desc not in DEPENDENT_DESCS:
            bindings.make_full(i)
    work = list(chosen)

    def take(d: Decision, why: str, parent: Decision, owner: bool, needed: bool = False
             ) -> None:
        i = d.entry.dump_id
        if i in chosen:
            if owner and i not in full:
                bindings.make_full(i)
                work.append(i)
                if d.needed:  # needed before, now wanted whole: say why
                    d.needed = False
                    d.reason = why
                    _pulled(d, parent)
            return
        sec = d.entry.section
        reqs = _required(d.entry, none_section[i] if sec == Section.NONE else sec, mask_opts,
                         None, by_id)
        if not reqs & mask:
            return
        d.reqs = reqs
        d.reason = why
        d.needed = needed
        _pulled(d, parent)
        chosen.add(i)
        if owner:
            bindings.make_full(i)
        work.append(i)

    while work:
        i = work.pop()
        d = by_id[i]
        e = d.entry
        # What it needs: everything it depends on.
        for dep in dict.fromkeys(e.dependencies):
            p = by_id.get(dep)
            if p is not None:
                take(p, f"needed by {e.label}", d, False, needed=True)
        # What belongs to it (only relations and domains own things).
        owner_full = i in full and e.desc in OWNERS
        partitioned = e.desc == "TABLE" and "PARTITION BY" in (e.defn or "")
        kids = children.get(i, ())
        for c in (kids if isinstance(kids, (list, tuple)) else (kids,)):
            ce = c.entry
            if ce.desc in BINDINGS:
                if sel.with_fks and owner_full and ce.desc == "FK CONSTRAINT":
                    src, ref = fk_tables(c.entry, by_id)
                    if src == i and ref is not None:
                        name = fk_name(c.entry, e)
                        take(by_id[ref], f"referenced by foreign key {name} of {_qualified(e)}"
                             " (--with-fks)", d, True)
                        take(c, f"foreign key of {_qualified(e)} (--with-fks)", d, False)
                        continue
                if ce.dump_id not in chosen and bindings.bound(c):
                    take(c, f"ties selected tables ({e.label})", d, False)
            elif ce.desc in ALWAYS_ALONG or (owner_full and ce.desc in BELONGINGS):
                take(c, f"belongs to {e.label}", d, True)
            elif owner_full and partitioned and ce.desc == "TABLE":
                take(c, f"partition of {e.label}", d, True)


def _pulled(d: Decision, parent: Decision) -> None:
    if d.pulled_by is None:
        d.pulled_by = []
    d.pulled_by.append(parent.entry.dump_id)


def _qualified(e: TocEntry) -> str:
    return f"{e.namespace}.{e.tag}" if e.namespace else e.tag


def fk_tables(fk: TocEntry, by_id: dict[int, Decision]) -> tuple[int | None, int | None]:
    """(referencing table, referenced table) of an FK CONSTRAINT entry, by dump id.

    pg_dump makes the constraint depend on both tables and on the referenced table's key
    (a CONSTRAINT or INDEX entry): the key's table is the referenced one.  Without it, the
    tag, ``"<table> <constraint>"`` in the constraint's schema, names the referencing one.
    """
    tables = [x for x in dict.fromkeys(fk.dependencies)
              if x in by_id and by_id[x].entry.desc == "TABLE"]
    referenced = None
    for dep in fk.dependencies:
        key = by_id.get(dep)
        if key is not None and key.entry.desc in ("CONSTRAINT", "INDEX"):
            owners = [x for x in key.entry.dependencies
                      if x in by_id and by_id[x].entry.desc == "TABLE"]
            if owners:
                referenced = owners[0]
                break
    if referenced is None:
        named = [x for x in tables if by_id[x].entry.namespace == fk.namespace
                 and fk.tag.startswith(by_id[x].entry.tag + " ")]
        if len(named) == 1:
            others = [x for x in tables if x != named[0]]
            return named[0], (others[0] if others else named[0])
        return (tables[0] if tables else None), None
    others = [x for x in tables if x != referenced]
    return (others[0] if others else referenced), referenced


def fk_name(fk: TocEntry, table: TocEntry) -> str:
    """The constraint's own name: its tag without the table name in front."""
    prefix = table.tag + " "
    return fk.tag[len(prefix):] if fk.tag.startswith(prefix) else fk.tag


class _Bindings:
    """Whether a binding entry comes along: every relation it joins is selected (not
    merely needed by something else) -- for SEQUENCE OWNED BY, the relations its
    sequences depend on.  A binding is a child of each of them, so it is looked at again
    when the last one is chosen.  Kept as counts of relations still missing, updated as
    entries become "full", so each look is O(1) and the whole closure stays linear."""

    def __init__(self, by_id: dict[int, Decision], full: set[int]) -> None:
        self.by_id = by_id
        self.full = full
        self.missing: dict[int, int] = {}          # binding -> relations not yet full
        self.waiting: dict[int, list[int]] = {}    # relation -> bindings counting it
        self.seq_missing: dict[int, int] = {}      # sequence -> its relations not yet full
        self.seq_waiting: dict[int, list[int]] = {}  # relation -> sequences counting it
        self.seq_waiters: dict[int, list[int]] = {}  # sequence -> bindings counting it

    def make_full(self, i: int) -> None:
        if i in self.full:
            return
        self.full.add(i)
        for b in self.waiting.pop(i, ()):
            self.missing[b] -= 1
        for s in self.seq_waiting.pop(i, ()):
            self.seq_missing[s] -= 1
            if self.seq_missing[s] == 0:
                for b in self.seq_waiters.pop(s, ()):
                    self.missing[b] -= 1

    def bound(self, d: Decision) -> bool:
        b = d.entry.dump_id
        if b not in self.missing:
            self.missing[b] = self._count(d)
        return self.missing[b] == 0

    def _count(self, d: Decision) -> int:
        """Relations of a binding not yet full, registering it to hear of each."""
        by_id, full = self.by_id, self.full
        b = d.entry.dump_id
        missing = 0
        for dep in dict.fromkeys(d.entry.dependencies):
            p = by_id.get(dep)
            if p is None:
                continue
            if p.entry.desc in TABLE_LIKE and p.entry.desc != "SEQUENCE":
                if dep not in full:
                    missing += 1
                    self.waiting.setdefault(dep, []).append(b)
            elif (d.entry.desc == "SEQUENCE OWNED BY" and p.entry.desc == "SEQUENCE"
                  and self._sequence_missing(dep, p)):
                missing += 1
                self.seq_waiters.setdefault(dep, []).append(b)
        return missing

    def _sequence_missing(self, s: int, seq: Decision) -> int:
        if s not in self.seq_missing:
            by_id, full = self.by_id, self.full
            n = 0
            for x in dict.fromkeys(seq.entry.dependencies):
                if x in by_id and by_id[x].entry.desc in TABLE_LIKE and x not in full:
                    n += 1
                    self.seq_waiting.setdefault(x, []).append(s)
            self.seq_missing[s] = n
        return self.seq_missing[s]


def chosen(decisions: Iterable[Decision]) -> list[Decision]:
    """The decisions that restore something (schema, data or statistics)."""
    mask = int(Req.SCHEMA | Req.DATA | Req.STATS)  # int & int: IntFlag's & is slow
    return [d for d in decisions if int(d.reqs) & mask]
