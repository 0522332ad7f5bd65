"""After a restore: count the rows of every restored table on the target and compare them
with the rows in the archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ..archive import Archive
from ..copytext import CopyChecker
from ..format.model import TocEntry
from .conninfo import Target


@dataclass(frozen=True)
class RowMismatch:
    entry: str
    archive_rows: int
    target_rows: int | None  # None: the table is missing


def archive_row_counts(archive: Archive, entries: Sequence[TocEntry]) -> dict[int, int]:
    """Rows of each COPY TABLE DATA entry, counted from the archive's data."""
    counts: dict[int, int] = {}
    for e in entries:
        if e.desc != "TABLE DATA" or not e.has_data or not e.copy_stmt:
            continue
        rows = CopyChecker(None)  # the rows verify counts: those before the \. marker
        for piece in archive.data(e):
            rows.feed(piece)
        counts[e.dump_id] = rows.rows
    return counts


def compare_rows(target: Target, entries: Sequence[TocEntry],
                 expected: dict[int, int]) -> list[RowMismatch]:
    out: list[RowMismatch] = []
    with psycopg.connect(target.conninfo, password=target.password, autocommit=True) as conn:
        for e in entries:
            if e.dump_id not in expected:
                continue
            q = sql.SQL("SELECT count(*) FROM ONLY {}.{}").format(
                sql.Identifier(e.namespace or "public"), sql.Identifier(e.tag))
            try:
                row = conn.execute(q).fetchone()
                got = int(row[0]) if row else None
            except psycopg.Error:
                got = None
            if got != expected[e.dump_id]:
                out.append(RowMismatch(e.label, expected[e.dump_id], got))
    return out
