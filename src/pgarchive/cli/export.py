"""``pgarchive export``: table data out of an archive as COPY text, CSV, TSV, JSON Lines or
Parquet, and large objects as files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .app import cli
from .options import build_selection, selection_options

if TYPE_CHECKING:
    from ..export import ExportResult
    from ..format.model import TocEntry

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
    from ..export.run import ExportEvents, ExportRequest, run

    selecting = any(v for v in kw.values())
    request = ExportRequest(
        archive, (lambda entries: build_selection(entries, kw)) if selecting else None,
        fmt=fmt, output=output, header=header, lo_dir=lo_dir,
        row_group_bytes=row_group_mib << 20)

    def large_objects(n: int, folder: str) -> None:
        click.echo(f"pgarchive: {n} large objects written to {folder}", err=True)

    def note(e: TocEntry, text: str) -> None:
        click.echo(f"pgarchive: warning: {e.label}: {text} (values exported as text)",
                   err=True)

    def into_folder(res: ExportResult) -> None:
        click.echo(f"{res.rows} rows  {res.path}", err=True)

    run(request, ExportEvents(large_objects, note, into_folder))
