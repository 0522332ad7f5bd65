"""``pgarchive info``: header facts and counts."""

from __future__ import annotations

import click

from .app import cli
from .options import output_options, write_out


@cli.command(short_help="Header facts, entry counts per section and type, and stored data "
                        "size of an archive.")
@click.argument("archive")
@output_options("table", "json")
def info(archive: str, fmt: str, raw: bool) -> None:
    """Header facts, entry counts and stored data size of ARCHIVE.

    \b
    Examples:
      pgarchive info backup.dump
      pgarchive info backup_dir --json
    """
    from ..output import render_facts, render_json
    from ..summary import read_info

    facts = read_info(archive)
    text = render_json(facts) if fmt == "json" else render_facts(facts, raw)
    write_out(text.encode("utf-8", "surrogateescape"), None)
