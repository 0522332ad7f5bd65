"""``ls`` as a library call: the table of contents of an archive, selected as pg_restore
selects, rendered as pg_restore -l's list or as rows (table, JSON, CSV).

With pg_restore's default selection the output is made in passes over the TOC that keep no
entry (a million entries: issue 12); any other selection holds the entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import archive as archive_mod
from .format.model import TocEntry

if TYPE_CHECKING:  # ls --format list alone imports neither (start-up is most of its time)
    from .selection import Selection

#: The columns of ``--format table`` (JSON and CSV carry every field), and those aligned right.
TABLE_COLUMNS = ("dump_id", "section", "desc", "namespace", "tag", "owner", "stored_size")
RIGHT = ("dump_id", "stored_size")


@dataclass
class ListRequest:
    """What to list and how: ``fmt`` is table, list, json or csv."""

    path: str
    fmt: str = "table"
    #: Builds the selection from the archive's entries; None: pg_restore's default one.
    selection: Callable[[list[TocEntry]], Selection] | None = None
    #: With the default selection: whether statistics entries are listed (--no-statistics).
    statistics: bool = True
    raw: bool = False  # names as stored in tables and CSV (no escapes, no formula guard)
    show_all: bool = False  # every entry, ignoring the selection
    verbose: bool = False  # list: every entry, with its dependencies (pg_restore -l -v)
    explain: bool = False  # why each entry was selected
    safe: bool = False  # list: control characters escaped (ls --safe-list)


def list_toc(req: ListRequest, warn: Callable[[str], None]) -> bytes | Iterator[bytes]:
    """The output of ``ls`` for ``req``, encoded: bytes when it was made at once, pieces
    when it is streamed from the archive (errors then come as the pieces are made).
    ``warn`` gets each warning (names that match nothing, an empty selection)."""
    default = req.selection is None and not (req.show_all or req.verbose or req.explain
                                             or req.safe)
    if default and req.fmt == "list":
        return archive_mod.default_list(req.path, req.statistics)
    if default:  # pg_restore's default selection is decided entry by entry: stream it
        return _streamed(req.path, req.fmt, req.raw, req.statistics)
    return _selected(req, warn)


def _selected(req: ListRequest, warn: Callable[[str], None]) -> bytes:
    """ls of any selection but the default one: the entries are held."""
    from .listing import render_list
    from .output import render
    from .selection import RestoreOptions, Selection, chosen, select
    from .strictnames import unmatched
    from .summary import ENTRY_FIELDS, entry_record

    with archive_mod.open(req.path) as a:
        selection = (req.selection(a.entries) if req.selection is not None else
                     Selection(RestoreOptions(statistics=req.statistics)))
        decisions = select(a.entries, selection)
        for text in unmatched(a.entries, selection.restore):
            warn(text)
        if not chosen(decisions):
            warn("the selection matches no entry")
        picked = decisions if (req.show_all or req.verbose) else chosen(decisions)
        if req.fmt == "list":
            why = {d.entry.dump_id: d.reason for d in picked} if req.explain else None
            text = render_list(a.header, a.format_name, [d.entry for d in picked],
                               verbose_deps=req.verbose, reasons=why, safe=req.safe)
            return text.encode(a.encoding, "surrogateescape")
        rows = [entry_record(a, d.entry) | ({"reason": d.reason} if req.explain else {})
                for d in picked]
    table_cols = [*TABLE_COLUMNS, "reason"] if req.explain else list(TABLE_COLUMNS)
    fields = [*ENTRY_FIELDS, "reason"] if req.explain else list(ENTRY_FIELDS)
    text = render(rows, req.fmt, fields, table_cols, right=RIGHT, raw=req.raw)
    return text.encode("utf-8", "surrogateescape")


def _streamed(path: str, fmt: str, raw: bool, statistics: bool) -> Iterator[bytes]:
    """ls with pg_restore's default selection, in passes over the TOC that keep no entry
    (a million entries: issue 12): one for the data offsets (and the column widths of a
    table), one to render."""
    from .output import csv_lines, json_list_lines, table_lines, table_widths
    from .selection import default_listed
    from .summary import ENTRY_FIELDS, StoredSizes, entry_record

    with archive_mod.open(path, read_toc=False) as a:
        sizes = StoredSizes(a, a.iter_entries())

        def rows(columns: tuple[str, ...] = ENTRY_FIELDS) -> Iterator[dict[str, Any]]:
            for e in default_listed(a.iter_entries(), statistics):
                record = entry_record(a, e, sizes)
                yield {c: record[c] for c in columns}

        if fmt == "json":
            for text in json_list_lines(rows()):
                yield text.encode("utf-8", "surrogateescape")
        elif fmt == "csv":
            for text in csv_lines(rows(), ENTRY_FIELDS, raw):
                yield text.encode("utf-8", "surrogateescape")
        else:
            widths = table_widths(rows(TABLE_COLUMNS), TABLE_COLUMNS, raw)
            for line in table_lines(rows(TABLE_COLUMNS), TABLE_COLUMNS, widths, RIGHT, raw):
                yield line.encode("utf-8", "surrogateescape")
