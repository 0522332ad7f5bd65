"""``pgarchive export``: table data out of an archive as COPY text, CSV, TSV, JSON Lines or
Parquet, and large objects as files."""

from __future__ import annotations

import os
from typing import Any

import click

from ..errors import UsageError
from .app import cli
from .options import build_selection, selection_options

EXAMPLES = """
\b
Examples:
  pgarchive export backup.dump -t app.orders -F csv -o orders.csv
  pgarchive export backup.dump -t app.orders -F jsonl | head
  pgarchive export backup.dump -n app -F parquet -o out/     # out/app.orders.parquet, ...
  pgarchive export backup.dump -t app.orders -F copy          # the COPY text as pg_dump has it
  pgarchive export backup.dump --large-objects los/           # los/<oid>, one file each
"""


@cli.command(short_help="Write the selected tables' data as COPY text, CSV, TSV, JSON Lines or "
                        "Parquet, and large objects as files, without a server.",
             epilog=EXAMPLES)
@click.argument("archive")
@selection_options
@click.option("-F", "--format", "fmt", default="csv", show_default=True,
              type=click.Choice(["copy", "csv", "tsv", "jsonl", "parquet"]),
              help="copy: the COPY text as stored; csv: byte-identical to the server's "
                   "COPY ... TO STDOUT (FORMAT csv, HEADER); tsv: the same with a tab as "
                   "delimiter; jsonl: one JSON object per row; parquet: typed columns "
                   "(needs pgarchive[parquet]).")
@click.option("-o", "--output", metavar="FILE|DIR|-",
              help="One table: a file (written atomically), a folder to write it into, or "
                   "'-' for stdout (the default).  Several tables: a folder, one "
                   "'schema.table.FORMAT' file per table.")
@click.option("--header/--no-header", default=None,
              help="Write a header line of column names (default: yes for csv and tsv, no "
                   "for copy; jsonl and parquet name their columns anyway).")
@click.option("--large-objects", "lo_dir", metavar="DIR",
              help="Also write every large object to DIR/<oid>.")
@click.option("--row-group-mib", type=click.IntRange(1, 4096), default=128, show_default=True,
              help="Parquet: MiB of Arrow data per row group (held in memory while built).")
def export(archive: str, fmt: str, output: str | None, header: bool | None,
           lo_dir: str | None, row_group_mib: int, **kw: Any) -> None:
    """Write the data of the selected tables of ARCHIVE without a server.

    Select tables with pg_restore's switches (-t, -n, ...); with none, every table with
    data is exported.  Column types (for jsonl and parquet) come from each table's CREATE
    statement in the archive, domains resolved to their base types.
    """
    from .. import archive as archive_mod
    from ..export import Exporter, export_large_objects, exportable, file_name
    from ..selection import chosen, select

    with archive_mod.open(archive) as a:
        selecting = any(v for v in kw.values())
        if selecting:
            picked = [d.entry for d in chosen(select(a.entries,
                                                     build_selection(a.entries, kw)))]
        else:
            picked = list(a.entries)
        tables = exportable(picked)
        if lo_dir is not None:
            n = export_large_objects(a, lo_dir)
            click.echo(f"pgarchive: {n} large objects written to {lo_dir}", err=True)
            if not selecting:
                tables = tables if output is not None else []
        if not tables:
            if lo_dir is not None:
                return
            raise UsageError("no table data selected (check -t/-n; the archive may be "
                             "schema-only)", path=a.path)
        exporter = Exporter(a, fmt, header, row_group_mib << 20)
        several = len(tables) > 1
        folder = output if output and (several or os.path.isdir(output)) else None
        if several and not output:
            raise UsageError(f"{len(tables)} tables selected: give -o DIR for one file "
                             "each, or select one table with -t")
        if folder is not None:
            if os.path.exists(folder) and not os.path.isdir(folder):
                raise UsageError("several tables need a folder, not a file", path=folder)
            os.makedirs(folder, exist_ok=True)
        if fmt == "parquet" and folder is None and (output in (None, "-")):
            import sys

            if sys.stdout.isatty():
                raise UsageError("will not write Parquet to a terminal: give -o FILE")
        for e in tables:
            target = os.path.join(folder, file_name(e, fmt)) if folder else output
            res = exporter.to_path(e, target)
            for note in res.notes:
                click.echo(f"pgarchive: warning: {e.label}: {note} (values exported as "
                           "text)", err=True)
            if several or folder:
                click.echo(f"{res.rows} rows  {target}", err=True)
