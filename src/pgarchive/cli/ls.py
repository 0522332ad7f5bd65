"""``pgarchive ls``: the table of contents, as pg_restore -l or as data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from .app import cli
from .options import (
    build_selection,
    output_options,
    selection_options,
    warn_unmatched,
    write_out,
)

TABLE_COLUMNS = ("dump_id", "section", "desc", "namespace", "tag", "owner", "stored_size")
RIGHT = ("dump_id", "stored_size")


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
    if safe_list:
        if fmt not in ("table", "list"):
            raise click.UsageError(f"--safe-list is a form of --format list, not {fmt}")
        fmt = "list"
    plain = not (show_all or verbose or explain or safe_list) and not any(
        v for k, v in kw.items() if k != "no_statistics")
    if fmt == "list" and plain:
        from .. import archive as archive_mod
        write_out(archive_mod.default_list(archive, not kw["no_statistics"]), output)
        return
    if plain:  # pg_restore's default selection is decided entry by entry: stream it
        write_out(_streamed(archive, fmt, raw, not kw["no_statistics"]), output)
        return
    from .. import archive as archive_mod
    from ..listing import render_list
    from ..output import render
    from ..selection import chosen, select
    from ..summary import ENTRY_FIELDS, entry_record

    with archive_mod.open(archive) as a:
        selection = build_selection(a.entries, kw)
        decisions = select(a.entries, selection)
        warn_unmatched(a.entries, selection)
        if not chosen(decisions):
            click.echo("pgarchive: warning: the selection matches no entry", err=True)
        picked = decisions if (show_all or verbose) else chosen(decisions)
        entries = [d.entry for d in picked]
        if fmt == "list":
            why = {d.entry.dump_id: d.reason for d in picked} if explain else None
            text = render_list(a.header, a.format_name, entries, verbose_deps=verbose,
                               reasons=why, safe=safe_list)
            write_out(text.encode(a.encoding, "surrogateescape"), output)
            return
        rows = [entry_record(a, d.entry) | ({"reason": d.reason} if explain else {})
                for d in picked]
    table_cols = list(TABLE_COLUMNS)
    fields = [*ENTRY_FIELDS, "reason"] if explain else list(ENTRY_FIELDS)
    if explain:
        table_cols.append("reason")
    text = render(rows, fmt, fields, table_cols, right=RIGHT, raw=raw)
    write_out(text.encode("utf-8", "surrogateescape"), output)


def _streamed(path: str, fmt: str, raw: bool, statistics: bool) -> Iterator[bytes]:
    """ls with pg_restore's default selection, in passes over the TOC that keep no entry
    (a million entries: issue 12): one for the data offsets (and the column widths of a
    table), one to render."""
    from .. import archive as archive_mod
    from ..output import csv_lines, render_json, table_lines, table_widths
    from ..selection import default_listed
    from ..summary import ENTRY_FIELDS, StoredSizes, entry_record

    with archive_mod.open(path, read_toc=False) as a:
        sizes = StoredSizes(a, a.iter_entries())

        def rows(columns: tuple[str, ...] = ENTRY_FIELDS) -> Iterator[dict[str, Any]]:
            for e in default_listed(a.iter_entries(), statistics):
                record = entry_record(a, e, sizes)
                yield {c: record[c] for c in columns}

        if fmt == "json":
            first = True
            yield b"["
            for row in rows():
                yield (b"\n" if first else b",\n") + _indented(render_json(row).rstrip("\n"))
                first = False
            yield b"]\n" if first else b"\n]\n"
        elif fmt == "csv":
            for text in csv_lines(rows(), ENTRY_FIELDS, raw):
                yield text.encode("utf-8", "surrogateescape")
        else:
            widths = table_widths(rows(TABLE_COLUMNS), TABLE_COLUMNS, raw)
            for line in table_lines(rows(TABLE_COLUMNS), TABLE_COLUMNS, widths, RIGHT, raw):
                yield line.encode("utf-8", "surrogateescape")


def _indented(text: str) -> bytes:
    """One element of a JSON list as ``json.dumps(rows, indent=2)`` lays it out."""
    return ("  " + text.replace("\n", "\n  ")).encode("utf-8", "surrogateescape")
