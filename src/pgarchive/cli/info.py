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
    from .. import archive as archive_mod
    from ..output import render_json
    from ..summary import archive_info
    from ..terminal import for_terminal

    with archive_mod.open(archive, read_toc=False) as a:  # one pass, no entry kept
        facts = archive_info(a)
    if fmt == "json":
        write_out(render_json(facts).encode(), None)
        return

    def shown(value: object) -> str:
        text = "" if value is None else str(value)
        return text if raw else for_terminal(text)

    lines = []
    for key, value in facts.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {shown(k):<28} {shown(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key + ':':<20} {shown(value)}")
    write_out(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"), None)
