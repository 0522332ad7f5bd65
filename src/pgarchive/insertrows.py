"""Count and check the rows of INSERT-style table data (pg_dump --inserts,
--column-inserts, --rows-per-insert), streaming: each statement must be an INSERT into the
entry's own table, end with its semicolon, and hold at least one row.

Only what pg_dump writes is recognised: ``INSERT INTO name [(columns)] [OVERRIDING SYSTEM
VALUE] VALUES (...)[, (...)]...;`` or ``... DEFAULT VALUES;``, statements separated by
white space.  Quoted literals and identifiers double their quote character (pg_dump
doubles backslashes in E'' strings too), so a quote is found without knowing which string
syntax is in use.  Values are not parsed: rows are the parenthesised lists after VALUES.
"""

from __future__ import annotations

import re

from .copytext import StreamFault

_SPECIAL = re.compile(rb"['\"();]")
#: The head of a statement: the INSERT and its table name, up to the columns or VALUES.
_HEAD = re.compile(rb'\s*INSERT INTO ((?:"(?:[^"]|"")*"|[^\s."(]+)(?:\.(?:"(?:[^"]|"")*"|'
                   rb'[^\s."(]+))?)\s', re.S)
_PART = re.compile(rb'"((?:[^"]|"")*)"|([^\s."(]+)')
_ENDS_VALUES = re.compile(rb"\bVALUES\s*$")
_DEFAULT_VALUES = re.compile(rb"\bDEFAULT\s+VALUES\s*$")
#: A statement's head longer than this is not pg_dump's (1600 quoted 63-byte columns fit).
MAX_HEAD = 1 << 20


def _unquote(name: bytes) -> list[str]:
    parts = []
    for m in _PART.finditer(name):
        raw = m.group(1).replace(b'""', b'"') if m.group(1) is not None else m.group(2)
        parts.append(raw.decode("utf-8", "surrogateescape"))
    return parts


class InsertChecker:
    """Feed decompressed pieces of one INSERT-style TABLE DATA stream; then finish()."""

    def __init__(self, namespace: str | None, tag: str) -> None:
        self.want = [namespace, tag] if namespace else [tag]
        self.rows = 0
        self.findings: list[StreamFault] = []
        self._pos = 0  # stream offset of the next piece
        self._start = 0  # stream offset where the current statement starts
        self._head = bytearray()  # the statement so far, while before its first row
        self._in_head = True
        self._quote = b""  # the quote character of an open literal or identifier
        self._depth = 0
        self._stmt_rows = 0
        self._pending_quote = False  # a piece ended on a quote that may be doubled

    def _fail(self, offset: int, message: str) -> None:
        if not self.findings:
            self.findings.append(StreamFault(offset, message))

    def feed(self, piece: bytes) -> None:
        """Check the next piece of the stream (any size, cut anywhere, even inside a string)."""
        base = self._pos
        self._pos += len(piece)
        i, n = 0, len(piece)
        if self._pending_quote:  # the quote that ended the last piece: doubled or closing?
            self._pending_quote = False
            if n and piece[:1] == self._quote:
                self._keep(piece, 0, 1)
                i = 1  # doubled: still inside
            else:
                self._quote = b""
        while i < n and not self.findings:
            if self._quote:
                j = piece.find(self._quote, i)
                if j < 0:
                    self._keep(piece, i, n)
                    return
                self._keep(piece, i, j + 1)
                if j + 1 == n:
                    self._pending_quote = True
                    return
                if piece[j + 1:j + 2] == self._quote:
                    self._keep(piece, j + 1, j + 2)
                    i = j + 2
                else:
                    self._quote = b""
                    i = j + 1
                continue
            m = _SPECIAL.search(piece, i)
            if m is None:
                self._plain(piece, base, i, n)
                return
            j = m.start()
            self._plain(piece, base, i, j)
            if self.findings:
                return
            c = piece[j:j + 1]
            i = j + 1
            if c in (b"'", b'"'):
                self._quote = c
                self._keep(piece, j, j + 1)
            elif c == b"(":
                if self._depth == 0 and self._in_head and _ENDS_VALUES.search(self._head):
                    self._end_head(base + j)
                if self._depth == 0 and not self._in_head:
                    self._stmt_rows += 1
                self._depth += 1
                self._keep(piece, j, j + 1)
            elif c == b")":
                if self._depth == 0:
                    self._fail(base + j, "unbalanced ')' in an INSERT statement")
                self._depth -= 1
                self._keep(piece, j, j + 1)
            elif self._depth == 0:  # ';' ends the statement
                self._end_statement(base + j)
                self._start = base + j + 1
            else:
                self._keep(piece, j, j + 1)

    def _plain(self, piece: bytes, base: int, i: int, j: int) -> None:
        """Text outside quotes and parentheses: the statement's head, or, after VALUES,
        only the white space and commas between rows (anything else there is a statement
        whose ';' is missing, which pg_restore's server rejects with its rows)."""
        if not self._in_head and self._depth == 0 and j > i:
            extra = piece[i:j].strip(b" \t\r\n,")
            if extra:
                at = base + i + piece[i:j].find(extra[:1])
                self._fail(at, "text between the rows of an INSERT statement (is the ';' "
                           "before it missing?)")
                return
        self._keep(piece, i, j)

    def _keep(self, piece: bytes, i: int, j: int) -> None:
        """Bytes of the current statement: kept only while in its head."""
        if self._in_head and j > i:
            self._head += piece[i:j]
            if len(self._head) > MAX_HEAD:
                self._fail(self._start, "not an INSERT statement as pg_dump writes them")

    def _end_head(self, at: int) -> None:
        m = _HEAD.match(self._head)
        if m is None:
            self._fail(self._start + len(self._head) - len(self._head.lstrip()),
                       "not an INSERT statement as pg_dump writes them")
        elif _unquote(m.group(1)) != self.want:
            name = m.group(1).decode("utf-8", "replace")
            self._fail(self._start, f"INSERT into {name}, not into this entry's table")
        self._in_head = False
        self._head.clear()

    def _end_statement(self, at: int) -> None:
        if self._in_head:
            if _DEFAULT_VALUES.search(self._head):
                self._end_head(at)
                self._stmt_rows = 1
            else:
                self._fail(self._start, "not an INSERT statement as pg_dump writes them")
                return
        self.rows += self._stmt_rows
        self._stmt_rows = 0
        self._in_head = True
        self._head.clear()

    def finish(self) -> None:
        """The stream ended: it must not end inside a statement."""
        if self.findings:
            return
        if self._pending_quote:
            self._quote = b""
        if self._quote or self._depth or not self._in_head or self._head.strip():
            self._fail(self._start, "the last INSERT statement is cut short (no ';' ends it)")
