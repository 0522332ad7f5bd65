"""``pgarchive ls``: the table of contents, as pg_restore -l or as data."""

from __future__ import annotations

from typing import Any

import click

from .app import cli
from .options import build_selection, output_options, selection_options, write_out


@cli.command(short_help="List the table of contents, as pg_restore -l does or as data "
                        "(table, JSON, CSV), with pg_restore's selection options.")
@click.argument("archive")
@output_options("table", "list", "json", "csv")
@selection_options
@click.option("--all", "show_all", is_flag=True,
              help="Every TOC entry, ignoring selection (like pg_restore -l -v).")
@click.option("-v", "--verbose", is_flag=True,
              help="With --format list: every entry and its dependencies (pg_restore -l -v).")
@click.option("--explain", is_flag=True, help="Say why each entry was selected.")
@click.option("--safe-list", is_flag=True,
              help="--format list with every control character in names and header "
                   "strings escaped (\\n, \\x1b), so archive content cannot add a line; "
                   "pg_restore -L reads it the same.")
@click.option("-o", "--output", type=click.Path(), help="Write to this file (atomically).")
def ls(archive: str, fmt: str, raw: bool, show_all: bool, verbose: bool, explain: bool,
       safe_list: bool,
       output: str | None, **kw: Any) -> None:
    """List the table of contents of ARCHIVE.

    --format list is byte-identical to pg_restore -l (PostgreSQL 18) and can be edited and
    given to pg_restore -L.  Like pg_restore -l, it prints names raw apart from line
    breaks; --safe-list escapes every control character instead.

    \b
    Examples:
      pgarchive ls backup.dump -t orders --with-deps --explain
      pgarchive ls backup.dump -t orders --with-deps -F list -o orders.list
    """
    from ..toclist import ListRequest, list_toc

    if safe_list:
        if fmt not in ("table", "list"):
            raise click.UsageError(f"--safe-list is a form of --format list, not {fmt}")
        fmt = "list"
    selecting = any(v for k, v in kw.items() if k != "no_statistics")
    request = ListRequest(
        archive, fmt, (lambda entries: build_selection(entries, kw)) if selecting else None,
        statistics=not kw["no_statistics"], raw=raw, show_all=show_all, verbose=verbose,
        explain=explain, safe=safe_list)

    def warn(text: str) -> None:
        click.echo(f"pgarchive: warning: {text}", err=True)

    write_out(list_toc(request, warn), output)
