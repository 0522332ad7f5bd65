"""The column types of a table's data, from the archive's own SQL (pure: entries in, types out).

A TABLE DATA entry only says ``COPY t (a, b) FROM stdin``; the types are in the table's
CREATE TABLE entry, parsed here by pglast (PostgreSQL's own parser).  Domains are resolved to
their base types through the archive's DOMAIN entries, enums and composite types through its
TYPE entries; inherited columns come from the parents (INHERITS, PARTITION OF) and typed
tables' from their composite type.  A type the archive does not define (an extension's, such
as citext) keeps its text form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .format.model import TocEntry

#: Built-in types by their pg_catalog name, to the kind the decoders know.
BUILTIN_KINDS = {
    "int2": "int2", "int4": "int4", "int8": "int8", "float4": "float4", "float8": "float8",
    "numeric": "numeric", "bool": "bool", "text": "text", "varchar": "text", "bpchar": "text",
    "name": "text", "char": "text", "bytea": "bytea", "date": "date", "timestamp": "timestamp",
    "timestamptz": "timestamptz", "time": "time", "timetz": "timetz", "interval": "interval",
    "uuid": "uuid", "json": "json", "jsonb": "jsonb",
}
#: The types pg_dump writes with their SQL-standard spelling that pglast reports unqualified.
_ALIASES = {"smallint": "int2", "integer": "int4", "int": "int4", "bigint": "int8",
            "real": "float4", "boolean": "bool", "decimal": "numeric"}
INT_RANGES = {"int2": 1 << 15, "int4": 1 << 31, "int8": 1 << 63}
_MAX_DEPTH = 32  # domains over domains over ...: deeper than anyone writes, bounded anyway


@dataclass(frozen=True)
class PgType:
    """A column type resolved to what decoding needs: its kind and, for some, details."""

    kind: str  # a BUILTIN_KINDS value, or "enum", "composite", "array", "other"
    name: str  # as declared, e.g. "integer", "app.posint", "text[]"
    precision: int | None = None  # numeric(p, s)
    scale: int | None = None
    element: PgType | None = None  # arrays
    labels: tuple[str, ...] = ()  # enums
    fields: tuple[tuple[str, PgType], ...] = ()  # composite types

    @property
    def base(self) -> PgType:
        """For arrays, the innermost element type; otherwise itself."""
        return self.element.base if self.element is not None else self


TEXT = PgType("other", "unknown")


@dataclass(frozen=True)
class Column:
    """One column of a table: its name and its type as the CREATE statement declares it."""

    name: str
    type: PgType


@dataclass(frozen=True)
class TableLayout:
    """The columns of one TABLE DATA entry, in COPY order, with their types."""

    namespace: str | None
    table: str
    columns: tuple[Column, ...]
    #: why some types are unknown (no CREATE TABLE in the archive, ...), for a warning
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """The column names, in COPY order."""
        return [c.name for c in self.columns]


def _parse(sql: str) -> Any:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        stmts = parse_sql(sql)
    except ParseError:
        return None
    return stmts[0].stmt if stmts else None


def copy_column_names(copy_stmt: str | None) -> list[str] | None:
    """The column names a ``COPY t (a, "b c") FROM stdin;`` statement lists, unquoted."""
    if not copy_stmt:
        return None
    st = _parse(copy_stmt)
    if st is None or type(st).__name__ != "CopyStmt":
        return None
    return [n.sval for n in st.attlist or ()]


@dataclass
class TypeCatalog:
    """The types and tables an archive defines, parsed on demand (big TOCs stay cheap)."""

    entries: Sequence[TocEntry]
    _types: dict[tuple[str | None, str], TocEntry] = field(default_factory=dict)
    _tables: dict[tuple[str | None, str], TocEntry] = field(default_factory=dict)
    _resolved: dict[tuple[str | None, str], PgType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for e in self.entries:
            if e.desc in ("DOMAIN", "TYPE"):
                self._types.setdefault((e.namespace, e.tag), e)
            elif e.desc in ("TABLE", "FOREIGN TABLE"):
                self._tables.setdefault((e.namespace, e.tag), e)

    def layout(self, data: TocEntry) -> TableLayout:
        """The columns of a TABLE DATA entry, typed from its table's CREATE statement."""
        names = copy_column_names(data.copy_stmt)
        notes: list[str] = []
        table = self._tables.get((data.namespace, data.tag))
        types: dict[str, PgType] = {}
        if table is None:
            notes.append("no CREATE TABLE for it in the archive: column types unknown")
        else:
            types = self._table_columns(table, notes, 0)
        if names is None:
            names = list(types)
        cols = []
        for n in names:
            t = types.get(n)
            if t is None:
                if table is not None:
                    notes.append(f"column {n!r} not found in the CREATE statement")
                t = TEXT
            cols.append(Column(n, t))
        return TableLayout(data.namespace, data.tag, tuple(cols), tuple(dict.fromkeys(notes)))

    def _table_columns(self, table: TocEntry, notes: list[str], depth: int
                       ) -> dict[str, PgType]:
        st = _parse(table.defn or "")
        if st is None or type(st).__name__ != "CreateStmt":
            notes.append(f"cannot parse the CREATE statement of {table.tag!r}")
            return {}
        out: dict[str, PgType] = {}
        ns = table.namespace
        if depth < _MAX_DEPTH:
            for parent in st.inhRelations or ():
                entry = self._tables.get((parent.schemaname or ns, parent.relname))
                if entry is None:
                    notes.append(f"parent table {parent.relname!r} not in the archive")
                    continue
                out.update(self._table_columns(entry, notes, depth + 1))
            if st.ofTypename is not None:
                of = self.resolve(st.ofTypename, ns)
                out.update(dict(of.fields))
        for elt in st.tableElts or ():
            if type(elt).__name__ == "ColumnDef" and elt.typeName is not None:
                out[elt.colname] = self.resolve(elt.typeName, ns)
        return out

    def resolve(self, type_name: Any, ns: str | None, depth: int = 0) -> PgType:
        """A pglast TypeName to a PgType (arrays, domains, enums, composites resolved)."""
        names = [n.sval for n in type_name.names]
        mods = [getattr(getattr(m, "val", None), "ival", None) for m in type_name.typmods or ()]
        declared = ".".join(names[1:] if names[0] == "pg_catalog" else names)
        base = self._named(names, ns, mods, depth)
        if declared != base.name and base.kind not in ("other", "enum", "composite"):
            base = PgType(base.kind, declared, base.precision, base.scale, base.element,
                          base.labels, base.fields)
        if type_name.arrayBounds:
            return PgType("array", declared + "[]", element=base)
        return base

    def _named(self, names: list[str], ns: str | None, mods: list[int | None],
               depth: int) -> PgType:
        last = names[-1]
        if len(names) == 1 or names[0] == "pg_catalog":
            kind = BUILTIN_KINDS.get(_ALIASES.get(last, last))
            if kind is not None:
                prec = mods[0] if kind == "numeric" and mods else None
                scale = (mods[1] if len(mods) > 1 else 0) if prec is not None else None
                return PgType(kind, last, prec, scale)
            if names[0] == "pg_catalog":
                return PgType("other", last)
            # An unqualified user type (pg_dump before 10.3 set search_path instead).
            for key in ((ns, last), ("public", last)):
                if key in self._types:
                    return self._user_type(key, depth)
            found = [k for k in self._types if k[1] == last]
            return self._user_type(found[0], depth) if found else PgType("other", last)
        key = (names[-2], last)
        if key in self._types:
            return self._user_type(key, depth)
        return PgType("other", ".".join(names))

    def _user_type(self, key: tuple[str | None, str], depth: int) -> PgType:
        if key in self._resolved:
            return self._resolved[key]
        name = f"{key[0]}.{key[1]}" if key[0] else key[1]
        t = PgType("other", name)
        if depth < _MAX_DEPTH:
            self._resolved[key] = t  # a cycle (impossible in a real archive) stays "other"
            st = _parse(self._types[key].defn or "")
            kind = type(st).__name__
            if kind == "CreateDomainStmt":
                base = self.resolve(st.typeName, key[0], depth + 1)
                t = PgType(base.kind, name, base.precision, base.scale, base.element,
                           base.labels, base.fields)
            elif kind == "CreateEnumStmt":
                t = PgType("enum", name, labels=tuple(v.sval for v in st.vals or ()))
            elif kind == "CompositeTypeStmt":
                t = PgType("composite", name, fields=tuple(
                    (c.colname, self.resolve(c.typeName, key[0], depth + 1))
                    for c in st.coldeflist or ()))
        self._resolved[key] = t
        return t
