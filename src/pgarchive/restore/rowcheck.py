"""After a restore: count the rows of every table whose data pg_restore loaded and compare
them with the rows in the archive.

A table whose data pg_restore did not load (its COPY failed, pg_restore stopped before it,
or -1 rolled everything back) is "not restored": nothing is claimed about its rows.  Only
a table that was loaded can "match" or "differ"; "missing" is a loaded table that is not
there afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..archive import Archive
from ..copytext import CopyChecker
from ..format.model import TocEntry
from ..inserts import copy_text, is_insert_data, std_strings
from .runner import RunResult

if TYPE_CHECKING:
    import psycopg

MATCH, DIFFER, MISSING, NOT_RESTORED, UNCHECKED = (
    "match", "differ", "missing", "not restored", "unchecked")


@dataclass(frozen=True)
class TableCheck:
    """One table's data: rows in the archive, rows on the target, and the verdict."""

    entry: TocEntry
    archive_rows: int
    target_rows: int | None
    status: str
    why: str = ""

    @property
    def name(self) -> str:
        """``schema.table``, as the summary names the table."""
        return f"{self.entry.namespace}.{self.entry.tag}" if self.entry.namespace else \
            self.entry.tag


def counted_entries(entries: Sequence[TocEntry]) -> list[TocEntry]:
    """The entries whose rows can be compared: table data (COPY, or INSERT statements)."""
    return [e for e in entries if e.desc == "TABLE DATA" and e.has_data]


def archive_row_counts(archive: Archive, entries: Sequence[TocEntry]) -> dict[int, int]:
    """Rows of each COPY TABLE DATA entry, counted from the archive's data."""
    counts: dict[int, int] = {}
    std = std_strings(archive.entries)
    for e in counted_entries(entries):
        rows = CopyChecker(None)  # the rows verify counts: those before the \. marker
        pieces = archive.data(e)
        for piece in (copy_text(pieces, archive.encoding, std) if is_insert_data(e.copy_stmt)
                      else pieces):
            rows.feed(piece)
        counts[e.dump_id] = rows.rows
    return counts


def not_loaded(entries: Sequence[TocEntry], run: RunResult, parallel: bool,
               single_transaction: bool) -> dict[int, str]:
    """dump id -> why, for each table data entry whose rows pg_restore did not load."""
    data = counted_entries(entries)
    if single_transaction and not run.ok:
        return {e.dump_id: "-1 rolled the whole restore back after an error" for e in data}
    out: dict[int, str] = {}
    failed = run.failed_entries()
    for e in data:
        if e.dump_id in failed:
            out[e.dump_id] = "pg_restore could not load its data (errors above)"
    if run.completed:
        return out
    # pg_restore stopped at an error: what came after it in the list was never reached.
    if parallel:
        reached = run.finished
    else:
        stop = max((i for i, e in enumerate(entries) if e.dump_id in failed), default=-1)
        reached = {e.dump_id for e in entries[:stop + 1]}
    for e in data:
        if e.dump_id not in reached and e.dump_id not in out:
            out[e.dump_id] = "pg_restore stopped before it"
    return out


#: tables counted per query: a select list holds at most 1664 entries (PostgreSQL's
#: MaxTupleAttributeNumber), and each count takes a lock until the query ends
COUNT_BATCH = 500


def compare_rows(conn: psycopg.Connection[Any], entries: Sequence[TocEntry],
                 expected: dict[int, int], skipped: dict[int, str],
                 uncertain: str | None = None) -> list[TableCheck]:
    """Count the target's rows of each loaded table (one query) and give every table its
    verdict.  ``uncertain``: why a loaded table that differs may have been rolled back
    (pg_restore stopped inside a --transaction-size batch)."""
    from psycopg import pq

    checks: dict[int, TableCheck] = {}
    todo: list[TocEntry] = []
    for e in counted_entries(entries):
        if e.dump_id not in expected:
            continue
        if e.dump_id in skipped:
            checks[e.dump_id] = TableCheck(e, expected[e.dump_id], None, NOT_RESTORED,
                                           skipped[e.dump_id])
        else:
            todo.append(e)
    present: list[bool] = []
    if todo:  # one lookup of every name (a join, not thousands of to_regclass calls)
        row = conn.execute(
            "SELECT coalesce(array_agg(c.oid IS NOT NULL ORDER BY w.i), '{}') FROM "
            "unnest(%s::text[], %s::text[]) WITH ORDINALITY AS w(nsp, rel, i) "
            "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = w.nsp "
            "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.rel",
            ([e.namespace or "public" for e in todo], [e.tag for e in todo])).fetchone()
        present = list(row[0]) if row else [False] * len(todo)
    # the names quoted by libpq (PQescapeIdentifier), the queries joined as bytes: for
    # tens of thousands of tables, psycopg.sql's composition took longer than the counts
    quote = pq.Escaping(conn.pgconn).escape_identifier
    counted = [(e, quote((e.namespace or "public").encode()) + b"." + quote(e.tag.encode()))
               for e, here in zip(todo, present, strict=True) if here]
    got: dict[int, int | str] = {}
    for i in range(0, len(counted), COUNT_BATCH):
        batch = counted[i:i + COUNT_BATCH]
        try:
            row = conn.execute(b"SELECT " + b", ".join(
                b"(SELECT count(*) FROM ONLY " + n + b")" for _, n in batch)).fetchone()
            got.update({e.dump_id: int(v) for (e, _), v in zip(batch, row or (), strict=True)})
        except Exception:  # one table we may not read: count them one by one
            got.update(_one_by_one(conn, batch))
    for e, here in zip(todo, present, strict=True):
        want = expected[e.dump_id]
        value = got.get(e.dump_id)
        if not here:
            checks[e.dump_id] = TableCheck(e, want, None, MISSING,
                                           "the table is not on the target")
        elif isinstance(value, str) or value is None:
            checks[e.dump_id] = TableCheck(e, want, None, UNCHECKED, value or "")
        elif value == want:
            checks[e.dump_id] = TableCheck(e, want, value, MATCH)
        elif uncertain:
            checks[e.dump_id] = TableCheck(e, want, value, NOT_RESTORED, uncertain)
        else:
            more = "more" if value > want else "fewer"
            checks[e.dump_id] = TableCheck(e, want, value, DIFFER,
                                           f"the target has {more} rows than the archive")
    return [checks[e.dump_id] for e in counted_entries(entries) if e.dump_id in checks]


def _one_by_one(conn: psycopg.Connection[Any], counted: list[tuple[TocEntry, bytes]]
                ) -> dict[int, int | str]:
    import psycopg

    out: dict[int, int | str] = {}
    for e, name in counted:
        try:
            row = conn.execute(b"SELECT count(*) FROM ONLY " + name).fetchone()
            out[e.dump_id] = int(row[0]) if row else "no answer"
        except psycopg.Error as err:
            out[e.dump_id] = f"cannot count: {' '.join(str(err).split())}"
    return out
