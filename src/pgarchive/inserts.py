"""Table data that ``pg_dump --inserts`` / ``--column-inserts`` stored as INSERT statements,
turned into the COPY text the rest of pgarchive reads (export, query, type checks).

The statements are parsed by PostgreSQL's own parser (pglast), never by pattern: a value
can hold quotes, semicolons and newlines.  pg_dump writes every value as a constant
(numbers bare, ``true``/``false``, ``B'0101'``, NULL, string literals, ``DEFAULT`` for a
generated column, which COPY leaves out), so each value's text form is the constant's.
Streaming: statements end at a ``;`` followed by a newline outside any quotes; pg_dump
escapes a quote inside a literal by doubling it, so an even number of quotes before such
a place means the statement is complete there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .copytext import MAX_ROW
from .errors import FormatError
from .format.model import TocEntry

#: COPY text's escapes (CopyAttributeOutText): what a value may not hold as it is.
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                          "\b": "\\b", "\f": "\\f", "\v": "\\v"})
_QUOTE = ord("'")


def is_insert_data(copy_stmt: str | None) -> bool:
    """A TABLE DATA entry without a COPY statement holds INSERT statements."""
    return not copy_stmt


def std_strings(entries: Iterable[TocEntry]) -> bool:
    """Whether the dump's string literals are standard (its STDSTRINGS entry says 'on').
    With 'off', pg_dump doubled every backslash in a literal (and wrote no E prefix)."""
    for e in entries:
        if e.desc == "STDSTRINGS":
            return "'off'" not in (e.defn or "")
    return True


def copy_text(pieces: Iterable[bytes], codec: str, std: bool = True) -> Iterator[bytes]:
    """The COPY text (one line per row, then the end-of-data marker) of a stream of INSERT
    statements written in ``codec``, in pieces of at most about one input piece each."""
    buf = bytearray()
    for piece in pieces:
        buf += piece
        cut = _statements_end(buf)
        if cut:
            yield _rows(bytes(buf[:cut]), codec, std)
            del buf[:cut]
        elif len(buf) > MAX_ROW:
            raise FormatError(f"an INSERT statement longer than {MAX_ROW} bytes (the limit "
                              "of one row)")
    if buf.strip():
        yield _rows(bytes(buf), codec, std)
    yield b"\\.\n"  # the end-of-data marker COPY data ends with


def _statements_end(buf: bytearray) -> int:
    """Where the last complete statement in ``buf`` ends (0: none yet)."""
    cut = buf.rfind(b";\n")
    while cut >= 0:
        if buf.count(_QUOTE, 0, cut) % 2 == 0:
            return cut + 2
        cut = buf.rfind(b";\n", 0, cut)
    return 0


def _rows(sql: bytes, codec: str, std: bool) -> bytes:
    from pglast import parser

    text = sql.decode(codec, "surrogateescape")
    try:
        tree = json.loads(parser.parse_sql_json(text))
    except (parser.ParseError, UnicodeError) as e:
        raise FormatError(f"the INSERT statements do not parse: {e}") from None
    out: list[str] = []
    for raw in tree.get("stmts", ()):
        stmt = raw.get("stmt", {})
        insert = stmt.get("InsertStmt")
        if insert is None:
            kind = next(iter(stmt), "an empty statement")
            raise FormatError(f"table data holds {kind}, not INSERT statements")
        values = insert.get("selectStmt", {}).get("SelectStmt", {}).get("valuesLists")
        if values is None:
            raise FormatError("an INSERT without a VALUES list")
        for row in values:
            items = row.get("List", {}).get("items", ())
            values = (_value(v, std) for v in items)
            out.append("\t".join(v for v in values if v is not None) + "\n")
    return "".join(out).encode(codec, "surrogateescape")


def _value(node: dict[str, Any], std: bool) -> str | None:
    """A constant's COPY text form; None for DEFAULT (a generated column COPY leaves out)."""
    if "SetToDefault" in node:
        return None
    const = node.get("A_Const")
    if const is None:
        raise FormatError(f"an INSERT value that is not a constant ({next(iter(node))})")
    if const.get("isnull"):
        return "\\N"
    # Protocol-buffer JSON leaves out zero and false: {"ival": {}} is 0.
    if "ival" in const:
        return str(const["ival"].get("ival", 0))
    if "fval" in const:
        return str(const["fval"]["fval"])
    if "boolval" in const:
        return "t" if const["boolval"].get("boolval") else "f"
    if "bsval" in const:
        return str(const["bsval"]["bsval"])[1:]  # "b0101": the kind, then the bits
    if "sval" in const:
        text = str(const["sval"].get("sval", ""))
        if not std:  # parsed as standard strings, where pg_dump's doubled backslashes stay
            text = text.replace("\\\\", "\\")
        return text.translate(_ESCAPES)
    raise FormatError(f"an INSERT constant of an unknown kind ({const})")
