"""Rows of COPY text to JSON Lines: one object per row, keyed by column name (pure).

Integers and finite floats become numbers (PostgreSQL's own digits), NaN and infinities
strings; numeric stays an exact string; boolean becomes true/false; json and jsonb are
embedded as JSON (their text, with the line breaks JSON allows between tokens turned into
spaces); arrays become JSON arrays of their elements mapped the same way; NULL becomes null;
every other type keeps PostgreSQL's text form as a string.  Every value is checked against
its type on the way (:mod:`pgarchive.values`), so a damaged one is an error naming its row
and column rather than a broken line.  Output is UTF-8 whatever the archive's encoding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from ..coltypes import INT_RANGES, PgType, TableLayout
from ..copyrows import RowBatch
from ..values import (
    NULL,
    parse_array,
    parse_bool,
    parse_float,
    parse_int,
    parse_json,
    unescape,
)
from ..values import decoder as value_decoder
from .arrowbatch import BadValue

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
Fragment = Callable[[str], str]


def _dumps(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def fragment(t: PgType) -> Fragment:
    """The function from one value's text to its JSON text, for type ``t``."""
    k = t.kind
    if k in INT_RANGES:
        return lambda s: str(parse_int(s, k))
    if k in ("float4", "float8"):
        def flt(s: str) -> str:
            f = parse_float(s, k)
            if f != f or f in (float("inf"), float("-inf")):
                return _dumps(s)
            return s if _JSON_NUMBER.fullmatch(s) else repr(f)
        return flt
    if k == "bool":
        return lambda s: "true" if parse_bool(s) else "false"
    if k in ("json", "jsonb"):
        return lambda s: parse_json(s).replace("\n", " ").replace("\r", " ")
    if k == "array":
        assert t.element is not None
        inner = fragment(t.element)
        delim = ";" if t.element.name in ("box", "pg_catalog.box") else ","

        def arr(s: str) -> str:
            return _nested(parse_array(s, delim), inner)
        return arr
    check = value_decoder(t, "utf-8")

    def text(s: str) -> str:
        check(s.encode("utf-8", "surrogatepass"))
        return _dumps(s)
    return text


def _nested(items: list[object], fn: Fragment) -> str:
    parts = []
    for x in items:
        if x is None:
            parts.append("null")
        elif isinstance(x, list):
            parts.append(_nested(x, fn))
        else:
            assert isinstance(x, str)
            parts.append(fn(x))
    return "[" + ",".join(parts) + "]"


class JsonlEncoder:
    """Encodes batches of one table's rows as JSON Lines."""

    def __init__(self, layout: TableLayout, codec: str = "utf-8", strict: bool = True):
        self.layout = layout
        self.codec = codec
        self.errors = "strict" if strict else "replace"
        self.keys = ["{" + _dumps(c.name) + ":" if i == 0 else "," + _dumps(c.name) + ":"
                     for i, c in enumerate(layout.columns)]
        self.frags = [fragment(c.type) for c in layout.columns]

    def encode(self, rows: RowBatch) -> bytes:
        """The JSON Lines of a batch of rows, one object per row, keys in column order."""
        out: list[str] = []
        codec, errors = self.codec, self.errors
        keys, frags = self.keys, self.frags
        if not keys:
            return b"{}\n" * rows.rows
        for i, line in enumerate(rows.data.split(b"\n")[:-1]):
            parts = []
            for j, field in enumerate(line.split(b"\t")):
                parts.append(keys[j])
                if field == NULL:
                    parts.append("null")
                    continue
                try:
                    parts.append(frags[j](unescape(field).decode(codec, errors)))
                except (ValueError, UnicodeDecodeError) as e:
                    msg = "invalid byte sequence for encoding" if isinstance(
                        e, UnicodeDecodeError) else str(e)
                    raise BadValue(msg, rows.first_row + i,
                                   self.layout.columns[j].name) from None
            parts.append("}\n")
            out.append("".join(parts))
        return "".join(out).encode("utf-8", "surrogatepass")
