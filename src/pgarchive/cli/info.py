"""``pgarchive info``: header facts and counts."""

from __future__ import annotations

import click

from .. import archive as archive_mod
from .app import cli
from .options import output_options, write_out


@cli.command(short_help="Header facts, entry counts per section and type, and stored data "
                        "size of an archive.")
@click.argument("archive")
@output_options("table", "json")
def info(archive: str, fmt: str) -> None:
    """Header facts, entry counts and stored data size of ARCHIVE.

    \b
    Examples:
      pgarchive info backup.dump
      pgarchive info backup_dir --json
    """
    from ..output import render_json
    from ..summary import archive_info

    with archive_mod.open(archive) as a:
        facts = archive_info(a)
    if fmt == "json":
        write_out(render_json(facts).encode(), None)
        return
    lines = []
    for key, value in facts.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k:<28} {v}" for k, v in value.items()]
        else:
            lines.append(f"{key + ':':<20} {'' if value is None else value}")
    write_out(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"), None)
