"""Rendering rows as an aligned table, JSON or CSV: the same choices for every command.

Tables are for terminals: every cell goes through :func:`pgarchive.terminal.for_terminal`
(``raw`` keeps the bytes).  JSON escapes DEL and C1 controls too (``\\u009b``: the same
string to any JSON reader, and harmless on a terminal).  CSV is for spreadsheets: a text
cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'`` so that no
spreadsheet evaluates it as a formula (``raw`` keeps it as it is).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .terminal import for_terminal

_JSON_UNSAFE = re.compile("[\x7f-\x9f]")
#: What makes a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return " ".join(map(str, value))
    return str(value)


def _cell(value: Any, raw: bool = False) -> str:
    """A table cell: control characters made visible so a row stays one line."""
    text = _text(value)
    return text if raw else for_terminal(text)


def table_widths(rows: Iterable[dict[str, Any]], columns: Sequence[str],
                 raw: bool = False) -> list[int]:
    """The width of each column (a first pass, for rows that are streamed)."""
    widths = [len(c) for c in columns]
    for r in rows:
        for i, c in enumerate(columns):
            n = len(_cell(r.get(c), raw))
            if n > widths[i]:
                widths[i] = n
    return widths


def table_lines(rows: Iterable[dict[str, Any]], columns: Sequence[str], widths: Sequence[int],
                right: Sequence[str] = (), raw: bool = False) -> Iterator[str]:
    """The header and one line per row, each ending in a newline."""
    def line(cells: Sequence[str]) -> str:
        parts = [v.rjust(w) if columns[i] in right else v.ljust(w)
                 for i, (v, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip() + "\n"

    yield line(list(columns))
    for r in rows:
        yield line([_cell(r.get(c), raw) for c in columns])


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
                 right: Sequence[str] = (), raw: bool = False) -> str:
    """Rows as an aligned table for a terminal (see :func:`table_lines`)."""
    widths = table_widths(rows, columns, raw)
    return "".join(table_lines(rows, columns, widths, right, raw))


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def render_json(data: Any, indent: int | None = 2) -> str:
    """Data as indented JSON: UTF-8 where every string encodes, else ASCII escapes (names
    with undecodable bytes); DEL and C1 controls always escaped."""
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in names: escape them
        text = json.dumps(data, indent=indent, ensure_ascii=True)
    # DEL and C1 are only ever inside strings here: the escape is the same value
    return _JSON_UNSAFE.sub(_json_escape, text) + "\n"


def json_list_lines(rows: Iterable[Any]) -> Iterator[str]:
    """A JSON list laid out as :func:`render_json` lays out a list, one element at a time:
    for rows that are streamed rather than held."""
    first = True
    yield "["
    for row in rows:
        text = render_json(row).rstrip("\n")
        yield ("\n" if first else ",\n") + "  " + text.replace("\n", "\n  ")
        first = False
    yield "]\n" if first else "\n]\n"


def render_facts(facts: dict[str, Any], raw: bool = False) -> str:
    """Named facts as aligned ``name: value`` lines, a dict value as an indented block
    under its name (``info``); values shown as in tables unless ``raw``."""
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
    return "\n".join(lines) + "\n"


def csv_cell(value: Any, raw: bool = False) -> Any:
    """A CSV value: lists joined by spaces; text that a spreadsheet would take for a
    formula gets a leading ``'`` (unless ``raw``)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(map(str, value))
    if not raw and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict[str, Any]], columns: Sequence[str],
              raw: bool = False) -> Iterator[str]:
    """The header row and one CSV record per row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    # Python's minimal quoting looks only for the line terminator's characters, so a bare
    # carriage return would go out unquoted and end the record for most readers.
    quote_all = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(columns)
    for r in rows:
        cells = [csv_cell(r.get(c), raw) for c in columns]
        if any(isinstance(x, str) and "\r" in x for x in cells):
            quote_all.writerow(cells)
        else:
            w.writerow(cells)
        if buf.tell() > 1 << 16:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def render_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str], raw: bool = False) -> str:
    """Rows as CSV with a header row (see :func:`csv_lines`)."""
    return "".join(csv_lines(rows, columns, raw))


def render(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str],
           table_columns: Sequence[str] | None = None, right: Sequence[str] = (),
           raw: bool = False) -> str:
    """Rows in the ``--format`` asked for: json, csv (every column) or a table
    (``table_columns``, the columns worth a terminal's width)."""
    if fmt == "json":
        return render_json(list(rows))
    if fmt == "csv":
        return render_csv(rows, columns, raw)
    return render_table(rows, table_columns or columns, right, raw)
