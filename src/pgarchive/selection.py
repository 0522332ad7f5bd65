"""Which TOC entries a restore takes: pg_restore's own rules, plus patterns and --with-deps.

:func:`select` follows pg_restore 18's ``_tocEntryRequired`` rule by rule (section
tracking, -L reordering, ACL/COMMENT parents, schema and data masks), so that with only
pg_restore's options the result is exactly what ``pg_restore -l`` prints.  Pure: entries
in, decisions out.

The rules run on the TOC's columns (:class:`pgarchive.toctable.TocTable`) and keep their
results in arrays (:class:`Outcome`), a few tens of bytes an entry: ``ls`` fills the
columns from one pass over a TOC too big to hold (a million entries, issue 12), and
:func:`select` makes them of a list of entries and returns one Decision per entry.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntFlag
from typing import NamedTuple, Protocol

from .format.constants import Section
from .format.model import TocEntry
from .patterns import NameMatcher, any_matches
from .rule import ACL_DESCS as ACL_DESCS  # (the rule's; re-exported: other modules ask here)
from .rule import DEPENDENT_DESCS as DEPENDENT_DESCS
from .rule import FUNCTION_LIKE as FUNCTION_LIKE
from .rule import PARTITIONED, Switches, each, entry_flags, no_parent, rule
from .rule import SPECIAL_DESCS as SPECIAL_DESCS
from .rule import TABLE_LIKE as TABLE_LIKE
from .toctable import IdMap, TocTable


class Req(IntFlag):
    """What of an entry is restored (pg_restore's teReqs): its definition, its data, its
    statistics, or it is one of the settings entries (ENCODING, ...)."""

    NONE = 0
    SCHEMA = 1
    DATA = 2
    SPECIAL = 4
    STATS = 8


_REQS = tuple(Req(i) for i in range(16))


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


#: Why an entry was chosen (:meth:`Outcome.reason` makes the text): by the options, or by
#: --with-deps after another (its position is kept, not the text: a million entries).
R_NONE, R_OPTION, R_NEEDED, R_BELONGS, R_TIES, R_PARTITION, R_FK_REF, R_FK_OF, R_EXCLUDED, \
    R_KEEP = range(10)
_CLOSURE_REASONS = frozenset({R_NEEDED, R_BELONGS, R_TIES, R_PARTITION, R_FK_REF, R_FK_OF})
_MASK = 11  # SCHEMA | DATA | STATS, as a plain int (IntFlag's & is slow)

class HasDumpId(Protocol):
    """An entry as a -L list file is checked against it."""

    @property
    def dump_id(self) -> int: ...


def order_for_list(entries: Sequence[TocEntry], wanted: Sequence[int]) -> list[TocEntry]:
    """The TOC order after -L: unwanted entries first (in TOC order), then the list's order.

    pg_restore moves each listed entry to the end of the list in turn.
    """
    return [entries[row] for row in _list_order([e.dump_id for e in entries], wanted)]


def _list_order(ids: Sequence[int], wanted: Sequence[int]) -> list[int]:
    """:func:`order_for_list` as rows (indexes into ``ids``)."""
    by_id = {i: row for row, i in enumerate(ids)}
    listed = [by_id[i] for i in wanted if i in by_id]
    listed_ids = {ids[row] for row in listed}
    return [row for row, i in enumerate(ids) if i not in listed_ids] + listed


class Outcome:
    """The selection over a :class:`TocTable`: for each position of ``order`` (the TOC
    order, after -L), what is restored (``reqs``, Req bits) and why -- in arrays, so that
    a million-entry TOC costs a few MB here (``ls`` emits the chosen entries from a second
    pass over the TOC; :func:`select` makes Decisions of it)."""

    def __init__(self, table: TocTable, order: Sequence[int], opts: RestoreOptions,
                 track: bool) -> None:
        n = len(order)
        self.table = table
        self.order = order
        self.opts = opts
        self.reqs = bytearray(n)
        self.needed = bytearray(n)
        self.why = bytearray(n)
        self.why_from = array("i", [-1]) * n  # the position that pulled it
        self.fk_of: dict[int, int] = {}       # R_FK_REF: the foreign key's position
        #: who pulled each position (dump ids), kept only when ``track`` (restore uses it)
        self.pulled: dict[int, list[int]] = {}
        self.track = track

    def because(self, p: int, kind: int, parent: int, fk: int = -1) -> None:
        self.why[p] = kind
        self.why_from[p] = parent
        if fk >= 0:
            self.fk_of[p] = fk

    def pull(self, p: int, parent: int) -> None:
        if self.track:
            self.pulled.setdefault(p, []).append(self.table.ids[self.order[parent]])

    def reason(self, p: int) -> str:
        """Why position ``p`` was chosen (or left out), in words."""
        t, kind = self.table, self.why[p]
        if kind == R_OPTION:
            row = self.order[p]
            return _option_reason(t.desc_of(row), t.namespace(row), self.opts)
        if kind == R_EXCLUDED:
            return "excluded by --exclude-table-data"
        if kind not in _CLOSURE_REASONS:
            return ""
        parent = self.order[self.why_from[p]]
        if kind == R_NEEDED:
            return f"needed by {t.label(parent)}"
        if kind == R_BELONGS:
            return f"belongs to {t.label(parent)}"
        if kind == R_TIES:
            return f"ties selected tables ({t.label(parent)})"
        if kind == R_PARTITION:
            return f"partition of {t.label(parent)}"
        ns, tag = t.namespace(parent), t.tag(parent)
        qualified = f"{ns}.{tag}" if ns else tag
        if kind == R_FK_REF:
            name = _fk_name(t.tag(self.order[self.fk_of[p]]), tag)
            return f"referenced by foreign key {name} of {qualified} (--with-fks)"
        return f"foreign key of {qualified} (--with-fks)"

    def chosen_rows(self) -> array[int]:
        """The rows that restore something (schema, data or statistics), in order."""
        reqs, order = self.reqs, self.order
        return array("i", (order[p] for p in range(len(order)) if reqs[p] & _MASK))

    def decisions(self, entries: Sequence[TocEntry]) -> list[Decision]:
        """One Decision per position, for the entries the table was made of."""
        return [Decision(entries[row], _REQS[self.reqs[p]], self.reason(p),
                         self.pulled.get(p), bool(self.needed[p]))
                for p, row in enumerate(self.order)]


def required(entries: Sequence[TocEntry], opts: RestoreOptions) -> list[Decision]:
    """Run pg_restore's selection over ``entries``; returns one Decision per entry, in the
    (possibly -L reordered) TOC order."""
    out = _outcome(TocTable.of(entries), opts, False)
    _decide(out)
    return out.decisions(entries)


def _outcome(t: TocTable, opts: RestoreOptions, track: bool) -> Outcome:
    order: Sequence[int] = (range(len(t)) if opts.use_list is None
                            else array("i", _list_order(t.ids, opts.use_list)))
    return Outcome(t, order, opts, track)


def _decide(out: Outcome) -> None:
    """pg_restore's rule for every position, in order (an ACL or COMMENT looks at the
    first earlier entry with its parent's id)."""
    t, order, o, reqs = out.table, out.order, out.opts, out.reqs
    wanted = set(o.use_list) if o.use_list is not None else None
    ids = t.ids
    first = IdMap(ids, len(t))

    def parent(dep: int) -> tuple[str, int] | None:
        q = first.get(dep)
        return None if q < 0 else (t.desc_of(order[q]), reqs[q])

    sw = Switches(o)
    cur = int(Section.PRE_DATA)
    for p in range(len(order)):
        row = order[p]
        if t.section[row] != Section.NONE:
            cur = t.section[row]
        reqs[p] = rule(t.desc_of(row), t.tag(row), t.namespace(row), t.flags[row], ids[row],
                       t.dependencies(row), cur, sw, wanted, parent)
        if first.get(ids[row]) < 0:
            first.set(ids[row], p)


def _required(e: TocEntry, cur: Section, o: RestoreOptions, wanted: set[int] | None,
              done: dict[int, Decision]) -> Req:
    """pg_restore's rule for one entry; ``done``: the earlier decisions by dump id."""
    def parent(dep: int) -> tuple[str, int] | None:
        d = done.get(dep)
        return None if d is None else (d.entry.desc, int(d.reqs))

    return _REQS[rule(e.desc, e.tag, e.namespace, entry_flags(e), e.dump_id,
                      e.dependencies, cur, Switches(o), wanted, parent)]


def check_strict_names(entries: Sequence[TocEntry], o: RestoreOptions) -> None:
    """--strict-names: refuse, as pg_restore's StrictNamesCheck does, a -n/-t/-I/-P/-T name
    that no entry reaching pg_restore's name comparison has (schema, then table, index,
    function, trigger; the first missing name of the first list)."""
    _check_strict(_outcome(TocTable.of(entries), o, False))


def _check_strict(out: Outcome) -> None:
    from .errors import UsageError

    t, o = out.table, out.opts
    wanted = set(o.use_list) if o.use_list is not None else None
    touched: set[tuple[str, str]] = set()
    cur = int(Section.PRE_DATA)
    for row in out.order:
        if t.section[row] != Section.NONE:
            cur = t.section[row]
        desc = t.desc_of(row)
        if (desc in SPECIAL_DESCS or desc in DEPENDENT_DESCS or
                desc in ("DATABASE", "DATABASE PROPERTIES", "STATISTICS DATA") or
                cur not in o.sections or (wanted is not None and t.ids[row] not in wanted)):
            continue
        namespace = t.namespace(row)
        if o.schemas:
            hits = [p for p in o.schemas if any_matches((p,), namespace, qualified=False)]
            touched.update(("schema", p) for p in hits)
            if not hits:
                continue
        if o.exclude_schemas and any_matches(o.exclude_schemas, namespace, qualified=False):
            continue
        for kind, names, descs in (("table", o.tables, TABLE_LIKE),
                                   ("index", o.indexes, {"INDEX"}),
                                   ("function", o.functions, FUNCTION_LIKE),
                                   ("trigger", o.triggers, {"TRIGGER"})):
            if desc in descs and names:
                tag = t.tag(row)
                touched.update((kind, p) for p in names if any_matches((p,), tag, namespace))
    for kind, names in (("schema", o.schemas), ("table", o.tables), ("index", o.indexes),
                        ("function", o.functions), ("trigger", o.triggers)):
        for name in names:
            if (kind, name) not in touched:
                raise UsageError(f'{kind} "{name}" not found')


def default_listed(entries: Iterable[TocEntry], statistics: bool = True) -> Iterator[TocEntry]:
    """The entries pg_restore -l prints with default options, as a stream: with no name,
    section or list option, pg_restore's rule looks at each entry alone."""
    sw = Switches(RestoreOptions(statistics=statistics))
    for e in entries:
        if rule(e.desc, e.tag, e.namespace, entry_flags(e), e.dump_id, e.dependencies,
                Section.PRE_DATA, sw, None, no_parent) & _MASK:
            yield e


def listed(decisions: Iterable[Decision]) -> list[TocEntry]:
    """The entries pg_restore -l prints: those with a schema, data or statistics part."""
    return [d.entry for d in chosen(decisions)]


def list_file_ids(entries: Iterable[HasDumpId], chunks: Iterable[bytes],
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
    if independent(sel):
        return _select_each(entries, sel.restore)
    return select_table(TocTable.of(entries), sel, track=True).decisions(entries)


class Bits(NamedTuple):
    """Every entry in order with its Req bits as a plain int: what :func:`select` decides
    when :func:`independent`, without a Decision each (the script renderer's input: for a
    100,000-entry TOC the Decisions cost a tenth of ``sql -s``)."""

    entries: Sequence[TocEntry]
    reqs: list[int]


def select_bits(entries: Sequence[TocEntry], sel: Selection) -> Bits | list[Decision]:
    """:func:`select`, as :class:`Bits` where the rule decides each entry alone."""
    if independent(sel):
        return Bits(entries, each(entries, Switches(sel.restore)))
    return select(entries, sel)


def independent(sel: Selection) -> bool:
    """Whether pg_restore's rule decides each entry from its own fields alone (and the
    section before it): no names to match (a dependent entry then follows its parent),
    no -L order, nothing of pgarchive's own.  The common case, and the one a
    100,000-entry ``sql -s`` takes."""
    o = sel.restore
    return not (o.selective or o.use_list is not None or o.strict_names or sel.with_deps
                or sel.exclude_table_data)


def _select_each(entries: Sequence[TocEntry], o: RestoreOptions) -> list[Decision]:
    """:func:`select` when :func:`independent`: the rule on each entry's own fields, in
    one pass, without the columns the general path builds (the same Decisions; the
    tests check both paths agree)."""
    reqs = _REQS
    return [Decision(e, reqs[r], "selected" if r & _MASK else "")
            for e, r in zip(entries, each(entries, Switches(o)), strict=True)]


def select_table(t: TocTable, sel: Selection, track: bool = False) -> Outcome:
    """:func:`select` over the columns of a TOC (``ls`` fills them in one pass over a TOC
    too big to hold); ``track``: keep who pulled each entry (Decision.pulled_by)."""
    out = _outcome(t, sel.restore, track)
    _decide(out)
    if sel.restore.strict_names:
        _check_strict(out)
    reqs, why = out.reqs, out.why
    for p in range(len(reqs)):
        if reqs[p] & _MASK:
            why[p] = R_OPTION
    if sel.with_deps:
        _closure(out, sel)
    if sel.exclude_table_data:
        excluded = NameMatcher(sel.exclude_table_data)
        for p, row in enumerate(out.order):
            if (reqs[p] and t.desc_of(row) == "TABLE DATA" and
                    excluded.matches(t.tag(row), t.namespace(row))):
                reqs[p] = 0
                why[p] = R_EXCLUDED
    return out


def _option_reason(desc: str, namespace: str | None, o: RestoreOptions) -> str:
    if o.use_list is not None:
        return "listed in the -L list file"
    if o.sel_types or o.schemas:
        if desc in DEPENDENT_DESCS:
            return "pg_restore keeps it with its selected parent"
        for flag, names, descs in ((o.sel_table, o.tables, TABLE_LIKE),
                                   (o.sel_index, o.indexes, {"INDEX"}),
                                   (o.sel_function, o.functions, FUNCTION_LIKE),
                                   (o.sel_trigger, o.triggers, {"TRIGGER"})):
            if flag and desc in descs:
                return "matches " + ", ".join(names)
        if o.schemas:
            return f"in schema {namespace}"
    return "selected"


def _close(decisions: list[Decision], sel: Selection) -> None:
    """--with-deps on Decisions (as :func:`select` leaves them before it): each one the
    closure takes gets its reqs, reason, needed flag and pulled_by."""
    entries = [d.entry for d in decisions]
    out = Outcome(TocTable.of(entries), range(len(entries)), sel.restore, True)
    for p, d in enumerate(decisions):
        out.reqs[p] = int(d.reqs)
        out.needed[p] = d.needed
        out.why[p] = R_KEEP
    _closure(out, sel)
    for p, d in enumerate(decisions):
        if out.why[p] != R_KEEP:
            d.reqs = _REQS[out.reqs[p]]
            d.reason = out.reason(p)
            d.needed = bool(out.needed[p])
            if p in out.pulled:
                d.pulled_by = [*(d.pulled_by or []), *out.pulled[p]]


def _closure(out: Outcome, sel: Selection) -> None:
    """Add what the chosen entries own and what they need, to a fixpoint; with --with-fks,
    also every table a chosen table references through a foreign key, whole.

    An entry is known by its dump id; with a repeated id, the last position in order
    stands for it (``key``).  Time is linear in the entries and their dependency
    references: each entry is looked at a bounded number of times, and whether a
    binding's relations are all selected is a counter kept up to date (a foreign key
    tying thousands of tables is not walked again each time one of them is chosen).
    Memory is a few arrays of positions (a million entries, issue 12)."""
    t, order, reqs = out.table, out.order, out.reqs
    ids, n = t.ids, len(order)
    key = IdMap(ids, len(t))
    for p in range(n):
        key.set(ids[order[p]], p)
    # children, by key: kids[start[k]:start[k + 1]], in order (one pass counts, one fills)
    start = array("i", [0]) * (n + 1)
    kids = array("i")
    for counting in (True, False):
        if not counting:
            for k in range(n):
                start[k + 1] += start[k]
            kids = array("i", [0]) * start[n]
            fill = array("i", start)
        for p in range(n):
            for k in _parent_keys(t, order[p], key):
                if counting:
                    start[k + 1] += 1
                else:
                    kids[fill[k]] = p
                    fill[k] += 1
    # a SECTION_NONE entry is in the section of the entry before it
    none_section = bytearray(n)
    cur = int(Section.PRE_DATA)
    for p in range(n):
        s = t.section[order[p]]
        if s != Section.NONE:
            cur = s
        else:
            none_section[key.get(ids[order[p]])] = cur
    mask_opts = Switches(_mask_only(sel.restore))
    chosen = bytearray(n)
    full = bytearray(n)  # "full" objects bring their belongings; others what comes along
    picked = (key.get(ids[order[p]]) for p in range(n) if reqs[p] & _MASK)
    if out.track:
        # Decisions tell why and who pulled what, which depends on the order of the work:
        # the order it always had (a set's), not the TOC's (the entries chosen are the same)
        picked = (key.get(i) for i in list({ids[order[p]] for p in range(n)
                                            if reqs[p] & _MASK}))
    work = array("i")
    for k in picked:
        if not chosen[k]:
            chosen[k] = 1
            work.append(k)
    bindings = _Bindings(out, key, full)
    for k in work:
        if t.desc_of(order[k]) not in DEPENDENT_DESCS:
            bindings.make_full(k)

    def take(p: int, why: int, parent: int, owner: bool, needed: bool = False, fk: int = -1
             ) -> None:
        row = order[p]
        k = key.get(ids[row])
        if chosen[k]:
            if owner and not full[k]:
                bindings.make_full(k)
                work.append(k)
                if out.needed[p]:  # needed before, now wanted whole: say why
                    out.needed[p] = 0
                    out.because(p, why, parent, fk)
                    out.pull(p, parent)
            return
        sec = t.section[row]
        got = rule(t.desc_of(row), t.tag(row), t.namespace(row), t.flags[row], ids[row],
                    t.dependencies(row), none_section[k] if sec == Section.NONE else sec,
                    mask_opts, None, no_parent)
        if not got & _MASK:
            return
        reqs[p] = got
        out.because(p, why, parent, fk)
        out.needed[p] = needed
        out.pull(p, parent)
        chosen[k] = 1
        if owner:
            bindings.make_full(k)
        work.append(k)

    look = _TableLookup(t, order, key)
    while work:
        k = work.pop()
        row = order[k]
        i, desc = ids[row], t.desc_of(row)
        # What it needs: everything it depends on.
        for dep in dict.fromkeys(t.dependencies(row)):
            q = key.get(dep)
            if q >= 0:
                take(q, R_NEEDED, k, False, needed=True)
        # What belongs to it (only relations and domains own things).
        owner_full = bool(full[k]) and desc in OWNERS
        partitioned = desc == "TABLE" and bool(t.flags[row] & PARTITIONED)
        for c in kids[start[k]:start[k + 1]]:
            crow = order[c]
            cdesc = t.desc_of(crow)
            if cdesc in BINDINGS:
                if sel.with_fks and owner_full and cdesc == "FK CONSTRAINT":
                    src, ref = _fk_tables(t.dependencies(crow), t.tag(crow),
                                          t.namespace(crow), look)
                    if src == i and ref is not None:
                        take(key.get(ref), R_FK_REF, k, True, fk=c)
                        take(c, R_FK_OF, k, False)
                        continue
                if not chosen[key.get(ids[crow])] and bindings.bound(c):
                    take(c, R_TIES, k, False)
            elif cdesc in ALWAYS_ALONG or (owner_full and cdesc in BELONGINGS):
                take(c, R_BELONGS, k, True)
            elif owner_full and partitioned and cdesc == "TABLE":
                take(c, R_PARTITION, k, True)


def _parent_keys(t: TocTable, row: int, key: IdMap) -> list[int]:
    """The keys of the entries a row depends on, each once (any order)."""
    deps, lo, hi = t.deps, t.dep_end[row], t.dep_end[row + 1]
    if hi - lo == 1:
        k = key.get(deps[lo])
        return [k] if k >= 0 else []
    return [k for k in map(key.get, set(deps[lo:hi])) if k >= 0]


def _qualified(e: TocEntry) -> str:
    return f"{e.namespace}.{e.tag}" if e.namespace else e.tag


class _Lookup(Protocol):
    """Entries by dump id, for :func:`_fk_tables`: desc None when there is none."""

    def desc(self, i: int) -> str | None: ...

    def deps(self, i: int) -> Sequence[int]: ...

    def tag(self, i: int) -> str: ...

    def namespace(self, i: int) -> str | None: ...


class _TableLookup:
    def __init__(self, t: TocTable, order: Sequence[int], key: IdMap) -> None:
        self.t, self.order, self.key = t, order, key

    def _row(self, i: int) -> int:
        k = self.key.get(i)
        return -1 if k < 0 else self.order[k]

    def desc(self, i: int) -> str | None:
        row = self._row(i)
        return None if row < 0 else self.t.desc_of(row)

    def deps(self, i: int) -> Sequence[int]:
        return self.t.dependencies(self._row(i))

    def tag(self, i: int) -> str:
        return self.t.tag(self._row(i))

    def namespace(self, i: int) -> str | None:
        return self.t.namespace(self._row(i))


class _DecisionLookup:
    def __init__(self, by_id: dict[int, Decision]) -> None:
        self.by_id = by_id

    def desc(self, i: int) -> str | None:
        d = self.by_id.get(i)
        return None if d is None else d.entry.desc

    def deps(self, i: int) -> Sequence[int]:
        return self.by_id[i].entry.dependencies

    def tag(self, i: int) -> str:
        return self.by_id[i].entry.tag

    def namespace(self, i: int) -> str | None:
        return self.by_id[i].entry.namespace


def fk_tables(fk: TocEntry, by_id: dict[int, Decision]) -> tuple[int | None, int | None]:
    """(referencing table, referenced table) of an FK CONSTRAINT entry, by dump id.

    pg_dump makes the constraint depend on both tables and on the referenced table's key
    (a CONSTRAINT or INDEX entry): the key's table is the referenced one.  Without it, the
    tag, ``"<table> <constraint>"`` in the constraint's schema, names the referencing one.
    """
    return _fk_tables(fk.dependencies, fk.tag, fk.namespace, _DecisionLookup(by_id))


def _fk_tables(deps: Sequence[int], tag: str, namespace: str | None, look: _Lookup
               ) -> tuple[int | None, int | None]:
    tables = [x for x in dict.fromkeys(deps) if look.desc(x) == "TABLE"]
    referenced = None
    for dep in deps:
        if look.desc(dep) in ("CONSTRAINT", "INDEX"):
            owners = [x for x in look.deps(dep) if look.desc(x) == "TABLE"]
            if owners:
                referenced = owners[0]
                break
    if referenced is None:
        named = [x for x in tables if look.namespace(x) == namespace
                 and tag.startswith(look.tag(x) + " ")]
        if len(named) == 1:
            others = [x for x in tables if x != named[0]]
            return named[0], (others[0] if others else named[0])
        return (tables[0] if tables else None), None
    others = [x for x in tables if x != referenced]
    return (others[0] if others else referenced), referenced


def fk_name(fk: TocEntry, table: TocEntry) -> str:
    """The constraint's own name: its tag without the table name in front."""
    return _fk_name(fk.tag, table.tag)


def _fk_name(fk_tag: str, table_tag: str) -> str:
    prefix = table_tag + " "
    return fk_tag[len(prefix):] if fk_tag.startswith(prefix) else fk_tag


class _Bindings:
    """Whether a binding entry comes along: every relation it joins is selected (not
    merely needed by something else) -- for SEQUENCE OWNED BY, the relations its
    sequences depend on.  A binding is a child of each of them, so it is looked at again
    when the last one is chosen.  Kept as counts of relations still missing, updated as
    entries become "full", so each look is O(1) and the whole closure stays linear.
    Entries are their keys (see :func:`_closure`)."""

    def __init__(self, out: Outcome, key: IdMap, full: bytearray) -> None:
        self.t, self.order, self.key = out.table, out.order, key
        self.full = full
        self.missing: dict[int, int] = {}          # binding -> relations not yet full
        self.waiting: dict[int, list[int]] = {}    # relation -> bindings counting it
        self.seq_missing: dict[int, int] = {}      # sequence -> its relations not yet full
        self.seq_waiting: dict[int, list[int]] = {}  # relation -> sequences counting it
        self.seq_waiters: dict[int, list[int]] = {}  # sequence -> bindings counting it

    def make_full(self, k: int) -> None:
        if self.full[k]:
            return
        self.full[k] = 1
        for b in self.waiting.pop(k, ()):
            self.missing[b] -= 1
        for s in self.seq_waiting.pop(k, ()):
            self.seq_missing[s] -= 1
            if self.seq_missing[s] == 0:
                for b in self.seq_waiters.pop(s, ()):
                    self.missing[b] -= 1

    def bound(self, c: int) -> bool:
        """Whether the binding at position ``c`` has all its relations full."""
        b = self.key.get(self.t.ids[self.order[c]])
        if b not in self.missing:
            self.missing[b] = self._count(c)
        return self.missing[b] == 0

    def _count(self, c: int) -> int:
        """Relations of a binding not yet full, registering it to hear of each."""
        t, order, key, full = self.t, self.order, self.key, self.full
        row = order[c]
        b = key.get(t.ids[row])
        owned_by = t.desc_of(row) == "SEQUENCE OWNED BY"
        missing = 0
        for dep in dict.fromkeys(t.dependencies(row)):
            q = key.get(dep)
            if q < 0:
                continue
            desc = t.desc_of(order[q])
            if desc in TABLE_LIKE and desc != "SEQUENCE":
                if not full[q]:
                    missing += 1
                    self.waiting.setdefault(q, []).append(b)
            elif owned_by and desc == "SEQUENCE" and self._sequence_missing(q):
                missing += 1
                self.seq_waiters.setdefault(q, []).append(b)
        return missing

    def _sequence_missing(self, s: int) -> int:
        if s not in self.seq_missing:
            t, order, key, full = self.t, self.order, self.key, self.full
            n = 0
            for x in dict.fromkeys(t.dependencies(order[s])):
                q = key.get(x)
                if q >= 0 and t.desc_of(order[q]) in TABLE_LIKE and not full[q]:
                    n += 1
                    self.seq_waiting.setdefault(q, []).append(s)
            self.seq_missing[s] = n
        return self.seq_missing[s]


def chosen(decisions: Iterable[Decision]) -> list[Decision]:
    """The decisions that restore something (schema, data or statistics)."""
    mask = int(Req.SCHEMA | Req.DATA | Req.STATS)  # int & int: IntFlag's & is slow
    return [d for d in decisions if int(d.reqs) & mask]
