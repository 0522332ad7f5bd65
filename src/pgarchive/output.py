"""Rendering rows as an aligned table, JSON or CSV: the same choices for every command."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _cell(value: Any) -> str:
    """A table cell: control characters made visible so a row stays on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        value = " ".join(map(str, value))
    text = str(value)
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
                 right: Sequence[str] = ()) -> str:
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = []
    for row in [list(columns), *cells]:
        parts = [v.rjust(w) if columns[i] in right else v.ljust(w)
                 for i, (v, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def render_json(data: Any) -> str:
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in names: escape them
        text = json.dumps(data, indent=2, ensure_ascii=True)
    return text + "\n"


def render_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else
                    " ".join(map(str, r[c])) if isinstance(r.get(c), list) else r[c]
                    for c in columns])
    return buf.getvalue()


def render(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str],
           table_columns: Sequence[str] | None = None, right: Sequence[str] = ()) -> str:
    if fmt == "json":
        return render_json(list(rows))
    if fmt == "csv":
        return render_csv(rows, columns)
    return render_table(rows, table_columns or columns, right)
