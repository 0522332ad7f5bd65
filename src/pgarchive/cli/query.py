"""``pgarchive query``: read-only SQL over the archive's tables, through DuckDB."""

from __future__ import annotations

from typing import Any

import click

from .app import cli
from .options import output_options

EXAMPLES = """
\b
Examples:
  pgarchive query backup.dump "select status, count(*) from app.orders group by 1"
  pgarchive query backup.dump "select * from app.orders o join app.customers c
      on c.id = o.customer_id where o.total > 100" --format csv -o big_orders.csv
  pgarchive query backup.dump "select count(*) from orders" --json   # public.orders
"""


def _plain(v: Any) -> Any:
    """A result value as JSON can carry it (NaN and infinities as text)."""
    import datetime  # (these four, only for a query: not at start-up)
    import decimal
    import uuid

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
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return str(v)


def _unique(names: list[str]) -> list[str]:
    """Result column names made unique (id, id_2) so each row is one object."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


@cli.command(short_help="Run a read-only SQL query (DuckDB) over the archive's tables, without "
                        "a server.",
             epilog=EXAMPLES)
@click.argument("archive")
@click.argument("sql")
@output_options("table", "csv", "json")
@click.option("-o", "--output", type=click.Path(), help="Write to this file (atomically).")
def query(archive: str, sql: str, fmt: str, output: str | None, raw: bool) -> None:
    """Run a read-only SQL query (DuckDB's dialect) over the tables of ARCHIVE.

    Tables are named schema.table as in the database (public on the search path) and are
    decoded from the archive as the query reads them, never copied whole.  Needs
    pgarchive[query].  CSV carries the values exactly (data, as export writes it: no
    formula guard); the table escapes control characters unless --raw.
    """
    import json

    from .. import archive as archive_mod
    from ..export.query import run_query
    from ..fileio import output_stream
    from ..output import render_csv, render_table

    with archive_mod.open(archive) as a:
        names, batches = run_query(a, sql)
        names = _unique(names)
        with output_stream(output) as out:
            if fmt == "table":
                rows = [dict(zip(names, map(_plain, r), strict=True))
                        for chunk in batches for r in chunk]
                out.write(render_table(rows, names, raw=raw).encode("utf-8", "surrogateescape"))
                out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n".encode())
                return
            first = True
            if fmt == "json":
                out.write(b"[")
            for chunk in batches:
                recs = [dict(zip(names, map(_plain, r), strict=True)) for r in chunk]
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
