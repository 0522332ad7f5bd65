"""``pgarchive verify``: read and check every data block."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..format.model import TocEntry
from .app import cli
from .options import (
    EXIT_DAMAGED,
    build_selection,
    output_options,
    selection_options,
    write_out,
)


@cli.command(short_help="Read, decompress and check every data block of an archive; write "
                        "or compare a manifest of checksums.")
@click.argument("archive")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Cores to use: entries in parallel (custom with offsets, directory); "
                   "for one entry, a tar or a piped archive, reading and decompressing "
                   "ahead of the checks.")
@output_options("table", "json")
@click.option("--write-manifest", type=click.Path(),
              help="Record checksums, rows and sizes to this JSON file.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False),
              help="Compare with a manifest written earlier.")
@click.option("--types", is_flag=True,
              help="Also check that every value parses as its column's type (types from "
                   "the CREATE statements in the archive); each bad value is reported with "
                   "entry, row and column.  Much faster with pyarrow (pgarchive[parquet]).")
@click.option("--strict", is_flag=True,
              help="Count files pg_restore ignores (a README or stale data files in a "
                   "directory archive, stray tar members) as problems, not notes.")
@selection_options
def verify(archive: str, jobs: int, fmt: str, raw: bool, write_manifest: str | None,
           manifest_path: str | None, types: bool, strict: bool, **kw: Any) -> None:
    """Read, decompress and check every data block of ARCHIVE.

    Exit status: 0 intact (notes allowed: files pg_restore ignores, what a checksum
    cannot catch), 1 damaged (or different from --manifest; with --strict, also files
    pg_restore ignores), 2 unreadable.

    \b
    Examples:
      pgarchive verify backup.dump -j 2 --write-manifest backup.manifest.json
      pgarchive verify backup.dump --manifest backup.manifest.json
    """
    from ..manifest import build_manifest
    from ..output import render, render_json
    from ..progress import ByteProgress
    from ..selection import chosen, select
    from ..terminal import for_terminal
    from ..verify import KEPT_PROBLEMS
    from ..verify import verify as run_verify

    def chosen_ids(entries: list[TocEntry]) -> set[int]:
        """The dump ids the selection options pick (verify calls it once it has read the
        manifest, so a bad manifest is reported first, as before any other check)."""
        return {d.entry.dump_id for d in chosen(select(entries, build_selection(entries, kw)))}

    only = chosen_ids if any(v for v in kw.values()) else None
    bar = ByteProgress()
    try:
        report = run_verify(archive, jobs=jobs, progress=bar, only=only,
                            on_total=bar.set_total, types=types, strict=strict,
                            manifest=manifest_path)
    finally:
        bar.close()
    if write_manifest:
        from ..fileio import atomic_write

        atomic_write(write_manifest, (render_json(build_manifest(report))).encode())
    if fmt == "json":
        write_out(render_json(report.to_dict()).encode(), None)
    else:
        rows = [{"id": e.dump_id, "type": e.desc, "schema": e.namespace, "name": e.tag,
                 "rows": e.rows if e.rows is not None else (
                     f"{e.large_objects} LOs" if e.large_objects is not None else ""),
                 "raw bytes": e.raw_bytes, "stored bytes": e.stored_bytes,
                 "checksum": (e.checksum or "")[:16], "status": e.status}
                for e in report.entries]
        cols = ["id", "type", "schema", "name", "rows", "raw bytes", "stored bytes",
                "checksum", "status"]
        text = render(rows, "table", cols, right=("id", "rows", "raw bytes", "stored bytes"),
                      raw=raw)
        shown = (lambda t: t) if raw else for_terminal
        for p in report.problems:
            text += f"damage: {shown(str(p))}\n"
        if report.more_problems:
            text += (f"damage: ... and {report.more_problems} more problems of the archive "
                     f"(the first {KEPT_PROBLEMS} are shown)\n")
        for e in report.entries:
            for p in e.problems:
                text += f"damage: {shown(str(p))}\n"
            if e.more_problems:
                text += (f"damage: ... and {e.more_problems} more problems in entry "
                         f"{e.dump_id} (the first {KEPT_PROBLEMS} are shown)\n")
        for note in report.notes:
            text += f"note: {shown(note)}\n"
        secs = max(report.elapsed, 1e-9)
        text += (f"{len(report.entries)} entries checked, {report.total_rows} rows, "
                 f"{report.total_raw} bytes ({report.total_stored} stored), "
                 f"{len(report.damaged)} damaged, {report.problem_count} problems, "
                 f"{report.elapsed:.2f} s, {report.total_stored / secs / 1e6:.0f} MB/s stored, "
                 f"checksum {report.hash}, jobs {report.jobs}: "
                 f"{'OK' if report.ok else 'DAMAGED'}\n")
        write_out(text.encode("utf-8", "surrogateescape"), None)
    if not report.ok:
        sys.exit(EXIT_DAMAGED)
