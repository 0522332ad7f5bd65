"""``pgarchive sql``: the SQL script of an archive, as PostgreSQL 18's ``pg_restore -f``
writes it."""

from __future__ import annotations

from typing import Any

import click

from .app import cli
from .options import build_selection, selection_options

EPILOG = """\b
Examples:
  pgarchive sql backup.dump -f backup.sql          # what pg_restore -f writes
  pgarchive sql backup.dump -s | less              # the schema, to read
  pgarchive sql backup.dump -t orders --with-deps -f orders.sql
  pgarchive sql backup.dump -c --if-exists -O -x | psql -d newdb
  pgarchive sql backup.dump --target-version 15 | psql -d on_pg15
  pgarchive sql backup.dump --restrict-key abc123 -f x.sql   # reproducible output

\b
The script is byte-identical to pg_restore 18's for the same options and --restrict-key
(without one, a random key is made, as pg_restore makes it).
"""


@cli.command(short_help="Write the SQL script of the archive, byte-identical to pg_restore "
                        "18's.",
             epilog=EPILOG)
@click.argument("archive")
@selection_options
@click.option("-c", "--clean", is_flag=True, help="DROP each object before creating it.")
@click.option("--if-exists", is_flag=True, help="With -c: DROP ... IF EXISTS.")
@click.option("-O", "--no-owner", is_flag=True, help="No ALTER ... OWNER TO.")
@click.option("--role", metavar="ROLE", help="SET ROLE to this role first.")
@click.option("-S", "--superuser", metavar="NAME",
              help="With --disable-triggers: the superuser to become for it.")
@click.option("--use-set-session-authorization", is_flag=True,
              help="SET SESSION AUTHORIZATION instead of ALTER ... OWNER TO.")
@click.option("--disable-triggers", is_flag=True,
              help="In a data-only script: disable triggers while loading each table.")
@click.option("--enable-row-security", is_flag=True, help="SET row_security = on.")
@click.option("-1", "--single-transaction", is_flag=True,
              help="Wrap the script in BEGIN/COMMIT.")
@click.option("--transaction-size", type=click.IntRange(1, 2**31 - 1), metavar="N",
              help="COMMIT after every N objects.")
@click.option("--no-tablespaces", is_flag=True, help="No SET default_tablespace.")
@click.option("--no-table-access-method", is_flag=True,
              help="No SET default_table_access_method.")
@click.option("--restrict-key", metavar="KEY",
              help="The key of psql's \\restrict (letters and digits); random if not given.")
@click.option("--target-version", type=int, metavar="MAJOR",
              help="Adapt the script to an older server (14 to 18): drop or rewrite what it "
                   "does not know, each change marked with an SQL comment.")
@click.option("-f", "--file", "output", metavar="FILE",
              help="Write to FILE (atomically), '-' for stdout (the default).")
def sql(archive: str, output: str | None, **kw: Any) -> None:
    """Write the SQL script of ARCHIVE, as pg_restore -f (PostgreSQL 18) writes it.

    Reads every archive pgarchive reads (pg_dump 10-18: custom, directory, tar; any
    compression) without PostgreSQL installed.  Table data and large objects are streamed
    from the archive in bounded memory.
    """
    from ..script import ScriptOptions, run

    opts = ScriptOptions(
        clean=kw.pop("clean"), if_exists=kw.pop("if_exists"), no_owner=kw.pop("no_owner"),
        role=kw.pop("role"), superuser=kw.pop("superuser"),
        use_set_session_authorization=kw.pop("use_set_session_authorization"),
        disable_triggers=kw.pop("disable_triggers"),
        enable_row_security=kw.pop("enable_row_security"),
        single_transaction=kw.pop("single_transaction"),
        transaction_size=kw.pop("transaction_size") or 0,
        no_tablespaces=kw.pop("no_tablespaces"),
        no_table_access_method=kw.pop("no_table_access_method"),
        restrict_key=kw.pop("restrict_key"), target_version=kw.pop("target_version"))

    def warn(message: str) -> None:
        click.echo(f"pgarchive: warning: {message}", err=True)

    run(archive, lambda entries: build_selection(entries, kw), opts, output, warn)
