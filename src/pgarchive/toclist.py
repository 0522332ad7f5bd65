"""``ls`` as a library call: the table of contents of an archive, selected as pg_restore
selects, rendered as pg_restore -l's list or as rows (table, JSON, CSV).

With pg_restore's default selection the output is made in passes over the TOC that keep no
entry (a million entries: issue 12).  Any other selection runs on the TOC's columns
(:class:`pgarchive.toctable.TocTable`, a few tens of bytes an entry), filled by one pass,
and a second pass keeps only the chosen entries (a TOC of up to :data:`HOLD_ENTRIES` is
read once and held instead); only ``--all``, ``-v`` and ``--explain`` hold every entry of a
bigger one.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import archive as archive_mod
from .format.model import TocEntry

if TYPE_CHECKING:  # ls --format list alone imports neither (start-up is most of its time)
    from .selection import Selection
    from .summary import StoredSizes

#: ls with a selection holds the entries of a TOC this small (a few MB) rather than read
#: it again for each pass; a bigger one is only ever held as the selection's columns.
HOLD_ENTRIES = 20_000
#: The columns of ``--format table`` (JSON and CSV carry every field), and those aligned right.
TABLE_COLUMNS = ("dump_id", "section", "desc", "namespace", "tag", "owner", "stored_size")
RIGHT = ("dump_id", "stored_size")


@dataclass
class ListRequest:
    """What to list and how: ``fmt`` is table, list, json or csv."""

    path: str
    fmt: str = "table"
    #: Builds the selection from the archive's entries (each may come as its dump id
    #: alone, a :class:`pgarchive.toctable.IdView`: all a -L list is checked against);
    #: None: pg_restore's default one.
    selection: Callable[[Iterable[Any]], Selection] | None = None
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
    if req.show_all or req.verbose or req.explain:
        return _selected(req, warn)
    return _lean(req, warn)


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


def _lean(req: ListRequest, warn: Callable[[str], None]) -> Iterator[bytes]:
    """ls of a selection in passes over the TOC: one fills the selection's columns, the
    selection runs on them, and the output is made from further passes that keep only
    the chosen entries (a million entries: issue 12).  As the pieces are made, warnings
    go to ``warn`` and errors (--strict-names, -L) are raised before the first piece."""
    from .selection import RestoreOptions, Selection, select_table
    from .strictnames import unmatched_names
    from .summary import StoredSizes
    from .toctable import TocTable

    with archive_mod.open(req.path, read_toc=False) as a:
        if a.header.toc_count <= HOLD_ENTRIES:  # read once, held: every pass is then free
            _ = a.entries

        def first_pass(entries: Iterator[TocEntry]) -> tuple[TocTable, StoredSizes | None]:
            table = TocTable()

            def added() -> Iterator[TocEntry]:
                for e in entries:
                    table.add(e)
                    yield e

            if req.fmt == "list":  # (no sizes to show)
                for _ in added():
                    pass
                return table, None
            return table, StoredSizes(a, added())

        table, sizes = a.scan_entries(first_pass)
        selection = (req.selection(table.id_views()) if req.selection is not None else
                     Selection(RestoreOptions(statistics=req.statistics)))
        rows = select_table(table, selection).chosen_rows()
        for text in unmatched_names(table.names, selection.restore):
            warn(text)
        del table
        if not rows:
            warn("the selection matches no entry")
        yield from _rendered(a, req.fmt, req.raw, _picker(rows), req.safe, sizes)


def _picker(rows: array[int]) -> Callable[[Iterator[TocEntry]], Iterator[TocEntry]]:
    """The entries at ``rows`` of a pass over the TOC, in the order of ``rows``: as they
    pass when that is file order, else (-L) kept until the pass ends."""
    ascending = all(rows[i] < rows[i + 1] for i in range(len(rows) - 1))

    def pick(entries: Iterator[TocEntry]) -> Iterator[TocEntry]:
        if ascending:
            want = iter(rows)
            nxt = next(want, -1)
            for row, e in enumerate(entries):
                if row == nxt:
                    yield e
                    nxt = next(want, -1)
            return
        wanted = set(rows)
        kept = {row: e for row, e in enumerate(entries) if row in wanted}
        for row in rows:
            yield kept[row]

    return pick


def _streamed(path: str, fmt: str, raw: bool, statistics: bool) -> Iterator[bytes]:
    """ls with pg_restore's default selection, in passes over the TOC that keep no entry
    (a million entries: issue 12)."""
    from .selection import default_listed

    with archive_mod.open(path, read_toc=False) as a:
        yield from _rendered(a, fmt, raw, lambda entries: default_listed(entries, statistics))


def _rendered(a: archive_mod.Archive, fmt: str, raw: bool,
              pick: Callable[[Iterator[TocEntry]], Iterator[TocEntry]], safe: bool = False,
              sizes: StoredSizes | None = None) -> Iterator[bytes]:
    """ls of the entries ``pick`` keeps of a pass over the TOC, made in passes that keep
    no other entry: one for the data offsets unless ``sizes`` has them (and one for the
    column widths of a table), one to render."""
    from .output import csv_lines, json_list_lines, table_lines, table_widths
    from .summary import ENTRY_FIELDS, StoredSizes, entry_record

    if fmt == "list":
        yield from _list_pieces(a, pick(a.iter_entries()), safe)
        return
    stored = sizes if sizes is not None else StoredSizes(a, a.iter_entries())

    def rows(columns: tuple[str, ...] = ENTRY_FIELDS) -> Iterator[dict[str, Any]]:
        for e in pick(a.iter_entries()):
            record = entry_record(a, e, stored)
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


def _list_pieces(a: archive_mod.Archive, entries: Iterator[TocEntry], safe: bool
                 ) -> Iterator[bytes]:
    """:func:`pgarchive.listing.render_list` in pieces, encoded as the archive's names
    are (known once the pass over the TOC has begun)."""
    from itertools import chain

    from .listing import entry_lines, header_text

    head: str | None = header_text(a.header, a.format_name, safe)
    batch: list[str] = []
    for line in chain(entry_lines(entries, safe=safe), (None,)):
        if line is not None:
            batch.append(line + "\n")
            if len(batch) < 4096:
                continue
        text = "".join(batch)
        if head is not None:
            text, head = head + text, None
        yield text.encode(a.encoding, "surrogateescape")
        batch = []
