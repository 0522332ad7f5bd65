"""``pgarchive query``: read-only SQL over the archive's tables, through DuckDB."""

from __future__ import annotations

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
    from ..export.query import run

    run(archive, sql, fmt, output, raw)
