"""``pgarchive convert``: rewrite an archive into another format, compression, version or
subset."""

from __future__ import annotations

from typing import Any

import click

from .app import cli
from .converting import FORMATS, run
from .options import build_selection, selection_options


def _compression(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from ..compression import CompressionSpec

    if value is None:
        return None
    try:
        return CompressionSpec.parse(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _version(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    from ..convert.versions import parse

    return None if value is None else parse(value)


@cli.command(short_help="Rewrite an archive into another format, compression, archive "
                         "version or subset, keeping everything else byte for byte.",
             epilog="""\b
Examples:
  pgarchive convert piped.dump seekable.dump     # pg_restore -j and -L work on it
  pgarchive convert pg17.dump pg15.dump --archive-version 1.14 -t orders --with-deps""")
@click.argument("src")
@click.argument("dst")
@click.option("-F", "--format", "kind", type=click.Choice(sorted(FORMATS)),
              help="Archive format to write: custom (c), directory (d) or tar (t) "
                   "[default: the source's]. Custom archives always get data offsets.")
@click.option("-Z", "--compress", "compression", callback=_compression,
              metavar="METHOD[:LEVEL]",
              help="none, gzip, lz4 or zstd, with an optional level (pg_dump's -Z syntax: "
                   "gzip:9, zstd:level=19,long, or 0-9 for gzip) [default: the source's; "
                   "tar: none]. Data whose method does not change is copied without "
                   "decompressing it; a level asked for recompresses.")
@click.option("--archive-version", "version", callback=_version, metavar="1.12-1.16",
              help="Archive version to write [default: the source's]. 1.16: pg_restore "
                   "17+; 1.15: 16+; 1.14: 12+; 1.13: 11+ (and 10.3+); 1.12: 9.0+. Older "
                   "versions get large objects as older pg_dump wrote them and lz4/zstd "
                   "data recompressed with gzip; what they cannot express is refused.")
@click.option("--target-version", type=int, metavar="MAJOR",
              help="Adapt the entries' SQL to this older PostgreSQL server (14-17), with "
                   "the rules of sql --target-version: what it lacks is adapted or left "
                   "out, each change marked with a comment.")
@selection_options
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Compress this many entries at once (custom and directory output).")
@click.option("--verify", "run_verify", is_flag=True,
              help="Run verify on the result before it is put in place.")
@click.option("--force", is_flag=True,
              help="Replace an existing DST (a file, or a directory archive).")
@click.option("--no-sync", is_flag=True,
              help="Do not fsync the result (as pg_dump --no-sync).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def convert(src: str, dst: str, kind: str | None, compression: Any, version: int | None,
            target_version: int | None, jobs: int, run_verify: bool, force: bool,
            no_sync: bool, as_json: bool, **kw: Any) -> None:
    """Rewrite archive SRC as DST: another format, compression, archive version or a
    subset (the selection options, with pg_restore's meaning plus --with-deps).

    Everything not changed on purpose is kept byte for byte: header, TOC entries and
    their order, dump ids, dependencies, creation time, data. Restoring a subset gives
    what pg_restore -L with the same selection gives on SRC. DST appears only once
    complete; SRC is only read.
    """
    from ..convert import ConvertOptions

    selective = any(v for v in kw.values())
    opts = ConvertOptions(kind=FORMATS[kind] if kind else None, compression=compression,
                          version=version, jobs=jobs, verify=run_verify, force=force,
                          sync=not no_sync, target_version=target_version)
    run(src, dst, opts, as_json,
        (lambda entries: build_selection(entries, kw)) if selective else None)
