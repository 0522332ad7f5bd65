"""SQL over an archive's tables through DuckDB (needs the extra ``pgarchive[query]``).

Each table the query names is a view, ``schema.table`` as in the database (``public`` is on
the search path), over an object DuckDB scans through the Arrow C stream interface: every
scan opens a new stream of record batches decoded straight from the archive
(:meth:`pgarchive.export.Exporter.record_batches`), so nothing is copied to disk or held
whole, and a table scanned twice (a self-join) is simply decoded twice.  The connection is
in memory with external access off: a query cannot read or write files.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from ..archive import Archive
from ..errors import UsageError
from ..format.model import TocEntry
from . import Exporter, exportable


def require_duckdb() -> Any:
    """The duckdb module, or a one-line error naming the extra to install (it is optional)."""
    try:
        import duckdb
    except ImportError:
        raise UsageError("this needs duckdb: pip install 'pgarchive[query]'") from None
    from .arrowbatch import require_pyarrow

    require_pyarrow("query")
    return duckdb


class ArchiveTable:
    """One table as an Arrow C stream source: each scan decodes it anew from the archive."""

    def __init__(self, exporter: Exporter, entry: TocEntry) -> None:
        self.exporter = exporter
        self.entry = entry
        self.layout = exporter.layout(entry)
        self.schema = exporter.arrow_decoder(self.layout).schema

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        import pyarrow as pa

        reader = pa.RecordBatchReader.from_batches(
            self.schema, self.exporter.record_batches(self.entry, self.layout))
        return reader.__arrow_c_stream__(requested_schema)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(a: Archive, sql: str) -> Any:
    """A DuckDB connection where the tables ``sql`` names are views over the archive."""
    duckdb = require_duckdb()
    try:
        named = {n.lower() for n in duckdb.get_table_names(sql)}
    except duckdb.Error as err:
        raise UsageError(f"query: {' '.join(str(err).split())}") from None
    exporter = Exporter(a, "jsonl")
    con = duckdb.connect(":memory:", config={"enable_external_access": False})
    schemas = {"public"}
    con.execute("CREATE SCHEMA IF NOT EXISTS public")
    for i, entry in enumerate(exportable(list(a.entries))):
        if entry.tag.lower() not in named:
            continue
        ns = entry.namespace or "public"
        if ns not in schemas:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(ns)}")
            schemas.add(ns)
        source = f"_pgarchive_{i}"
        con.register(source, ArchiveTable(exporter, entry))
        con.execute(f"CREATE VIEW {_ident(ns)}.{_ident(entry.tag)} AS SELECT * FROM {source}")
    con.execute("SET search_path = 'public,main'")
    return con


#: Result types passed on as Python values; every other type comes out as DuckDB's text.
_NATIVE = frozenset({"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                     "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE",
                     "VARCHAR"})


def run_query(a: Archive, sql: str, batch: int = 10_000
              ) -> tuple[list[str], Iterator[list[tuple[Any, ...]]]]:
    """Column names and the result rows, in batches, of ``sql`` over the archive.

    Numbers, booleans and strings come as Python values; every other type (decimals,
    dates, timestamps in UTC, intervals, lists...) as DuckDB's text for it, which keeps
    what Python's types cannot hold (infinity, BC dates, years past 9999)."""
    duckdb = require_duckdb()
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise UsageError(f"query: {' '.join(str(e).split())}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise UsageError("query: give exactly one read-only query (SELECT, WITH, VALUES)")
    con = connect(a, sql)
    body = sql.strip().rstrip(";")
    try:
        con.execute("SET TimeZone = 'UTC'")
        described = con.execute(f"DESCRIBE {body}").fetchall()
        cols = [f"#{i}" if str(r[1]) in _NATIVE else f"CAST(#{i} AS VARCHAR)"
                for i, r in enumerate(described, 1)]
        cur = con.execute(f"SELECT {', '.join(cols) or '*'} FROM ({body}) AS q")
    except duckdb.Error as e:
        con.close()
        raise UsageError(f"query: {' '.join(str(e).split())}") from None
    names = [str(r[0]) for r in described]

    def rows() -> Iterator[list[tuple[Any, ...]]]:
        try:
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                yield chunk
        except duckdb.Error as e:
            raise UsageError(f"query: {' '.join(str(e).split())}") from None
        finally:
            con.close()
    return names, rows()


def plain_value(v: Any) -> Any:
    """A result value as JSON can carry it (NaN and infinities as text)."""
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return str(v)
    if isinstance(v, bool | int | float | str) or v is None:
        return v
    if isinstance(v, decimal.Decimal | uuid.UUID):
        return str(v)
    if isinstance(v, datetime.date | datetime.time | datetime.datetime):
        return v.isoformat()
    if isinstance(v, bytes | bytearray | memoryview):
        return "\\x" + bytes(v).hex()
    if isinstance(v, list | tuple):
        return [plain_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain_value(x) for k, x in v.items()}
    return str(v)


def unique_names(names: list[str]) -> list[str]:
    """Result column names made unique (id, id_2) so each row is one object."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def write_rows(names: list[str], batches: Iterable[list[tuple[Any, ...]]], fmt: str,
               out: BinaryIO, raw: bool = False) -> None:
    """Write a query's result (:func:`run_query`) to ``out`` as a table (control characters
    escaped unless ``raw``, with a row count), CSV (the values exactly: data, no formula
    guard) or JSON (one object per row, written as the rows come)."""
    from ..output import render_csv, render_table

    names = unique_names(names)
    if fmt == "table":
        rows = [dict(zip(names, map(plain_value, r), strict=True))
                for chunk in batches for r in chunk]
        out.write(render_table(rows, names, raw=raw).encode("utf-8", "surrogateescape"))
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n".encode())
        return
    first = True
    if fmt == "json":
        out.write(b"[")
    for chunk in batches:
        recs = [dict(zip(names, map(plain_value, r), strict=True)) for r in chunk]
        if fmt == "csv":
            text = render_csv(recs, names, raw=True)
            out.write((text if first else text.split("\n", 1)[1]).encode(
                "utf-8", "surrogateescape"))
        else:
            for rec in recs:
                out.write(((",\n " if not first else "\n ") + json.dumps(
                    rec, ensure_ascii=False)).encode("utf-8", "surrogateescape"))
                first = False
        first = False
    if fmt == "csv" and first:
        out.write(render_csv([], names, raw=True).encode("utf-8", "surrogateescape"))
    if fmt == "json":
        out.write(b"\n]\n")


def run(path: str, sql: str, fmt: str, output: str | None, raw: bool = False) -> None:
    """``query``: the result of ``sql`` over the archive at ``path``, written to the file
    ``output`` (atomically) or, for None or ``-``, to standard output."""
    from ..archive import open as open_archive
    from ..fileio import output_stream

    with open_archive(path) as a:
        names, batches = run_query(a, sql)
        with output_stream(output) as out:
            write_rows(names, batches, fmt, out, raw)
