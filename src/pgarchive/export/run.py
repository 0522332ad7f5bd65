"""``export`` as a library call: which tables, where each goes (a file, a folder of one
file per table, or standard output), and the large objects as files."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..archive import open as open_archive
from ..errors import UsageError
from ..format.model import TocEntry
from . import ROW_GROUP_BYTES, Exporter, ExportResult, export_large_objects, exportable, file_name

if TYPE_CHECKING:
    from ..selection import Selection


def _ignore(*_args: object) -> None:
    return None


@dataclass
class ExportRequest:
    """What to export and where: ``output`` is a file, a folder, ``-`` or None (stdout)."""

    path: str
    #: Builds the selection from the archive's entries; None: every table with data.
    selection: Callable[[list[TocEntry]], Selection] | None = None
    fmt: str = "csv"
    output: str | None = None
    header: bool | None = None  # None: the format's default
    lo_dir: str | None = None  # also write every large object here
    row_group_bytes: int = ROW_GROUP_BYTES


@dataclass
class ExportEvents:
    """What the caller is told while the export runs (all optional)."""

    #: (how many, folder) once the large objects are written
    large_objects: Callable[[int, str], None] = field(default=_ignore)
    #: a table whose values were exported as text, and why
    note: Callable[[TocEntry, str], None] = field(default=_ignore)
    #: each table written into a folder (its ``path`` says where)
    into_folder: Callable[[ExportResult], None] = field(default=_ignore)


def run(req: ExportRequest, events: ExportEvents | None = None) -> list[ExportResult]:
    """Export the selected tables (and the large objects) of ``req.path``; what was
    written for each table.  Refuses, before writing any table, several tables without
    a folder, a folder that is a file, and Parquet to a terminal."""
    ev = events or ExportEvents()
    with open_archive(req.path) as a:
        if req.selection is not None:
            from ..selection import chosen, select

            picked = [d.entry for d in chosen(select(a.entries, req.selection(a.entries)))]
        else:
            picked = list(a.entries)
        tables = exportable(picked)
        if req.lo_dir is not None:
            ev.large_objects(export_large_objects(a, req.lo_dir), req.lo_dir)
            if req.selection is None and req.output is None:
                tables = []  # --large-objects alone: only them
        if not tables:
            if req.lo_dir is not None:
                return []
            raise UsageError("no table data selected (check -t/-n; the archive may be "
                             "schema-only)", path=a.path)
        exporter = Exporter(a, req.fmt, req.header, req.row_group_bytes)
        output = req.output
        several = len(tables) > 1
        folder = output if output and (several or os.path.isdir(output)) else None
        if several and not output:
            raise UsageError(f"{len(tables)} tables selected: give -o DIR for one file "
                             "each, or select one table with -t")
        if folder is not None:
            if os.path.exists(folder) and not os.path.isdir(folder):
                raise UsageError("several tables need a folder, not a file", path=folder)
            os.makedirs(folder, exist_ok=True)
        if (req.fmt == "parquet" and folder is None and output in (None, "-")
                and sys.stdout.isatty()):
            raise UsageError("will not write Parquet to a terminal: give -o FILE")
        results = []
        for e in tables:
            target = os.path.join(folder, file_name(e, req.fmt)) if folder else output
            res = exporter.to_path(e, target)
            for note in res.notes:
                ev.note(e, note)
            if several or folder:
                ev.into_folder(res)
            results.append(res)
        return results
