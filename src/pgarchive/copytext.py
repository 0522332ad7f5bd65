"""Structural checks of COPY text as pg_dump writes it (pure: bytes in, findings out).

pg_dump's table data is what ``COPY ... TO STDOUT`` sent, then ``\\.\\n\\n\\n``.  In that
output every row ends with a newline, fields are separated by tabs, and a backslash is only
ever followed by one of ``\\ b f n r t v N``.  Checks run over whole pieces with bytes
methods (C speed); only a piece that fails is split into rows to say exactly where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TRAILER = b"\\.\n\n\n"
_BAD_ESCAPE = re.compile(rb"\\(?:[^bfnrtvN]|\Z)")
MAX_FINDINGS = 5


def copy_columns(copy_stmt: str | None) -> int | None:
    """The number of columns a ``COPY t (a, "b c") FROM stdin;`` statement lists.

    None when there is no COPY statement (--inserts dumps) or no column list.
    """
    if not copy_stmt:
        return None
    start = copy_stmt.find("(")
    if start < 0:
        return None
    count, depth, quoted, i = 1, 0, False, start + 1
    while i < len(copy_stmt):
        ch = copy_stmt[i]
        if quoted:
            if ch == '"':
                if copy_stmt[i + 1:i + 2] == '"':
                    i += 1
                else:
                    quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return count
            depth -= 1
        elif ch == "," and depth == 0:
            count += 1
        i += 1
    return None


@dataclass
class Finding:
    offset: int  # in the decompressed stream
    message: str


@dataclass
class CopyChecker:
    """Feed decompressed pieces of one TABLE DATA stream; then call finish()."""

    columns: int | None
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    _carry: bytes = b""
    _done: int = 0  # stream offset of the first byte of _carry
    _ended: bool = False

    def feed(self, piece: bytes) -> None:
        data = self._carry + piece if self._carry else piece
        # Keep back the last (possibly partial) row and anything that could be the trailer.
        cut = data.rfind(b"\n", 0, max(0, len(data) - len(TRAILER))) + 1
        if cut <= 0:
            self._carry = data
            return
        self._check(data[:cut], self._done)
        self._done += cut
        self._carry = data[cut:]

    def finish(self) -> None:
        tail = self._carry
        if tail.endswith(TRAILER):
            self._check(tail[:-len(TRAILER)], self._done)
        else:
            self._check(tail[:tail.rfind(b"\n") + 1], self._done)
            where = self._done + len(tail)
            self._add(where, "table data does not end with the end-of-data marker \\. "
                             "(stream truncated?)")

    def _add(self, offset: int, message: str) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(offset, message))

    def _check(self, block: bytes, base: int) -> None:
        """Check complete rows (block ends with a newline, or is empty)."""
        if not block:
            return
        if self._ended:
            self._add(base, "data after the end-of-data marker \\.")
            return
        rows = block.count(b"\n")
        # A block starts at a row start, so a marker row is at 0 or right after a newline.
        found = 0 if block.startswith(b"\\.\n") else block.find(b"\n\\.\n") + 1
        if found > 0 or block.startswith(b"\\.\n"):
            self._add(base + found, "end-of-data marker \\. before the end of the stream")
            self._ended = True
        ok = True
        if self.columns is not None and block.count(b"\t") != rows * (self.columns - 1):
            ok = False
        if ok and b"\\" in block:
            stripped = block.replace(b"\\\\", b"")
            ok = _BAD_ESCAPE.search(stripped) is None
        if not ok:
            self._locate(block, base)
        self.rows += rows

    def _locate(self, block: bytes, base: int) -> None:
        """Slow path: find the rows that are wrong."""
        pos = 0
        row = self.rows
        for line in block.split(b"\n")[:-1]:
            row += 1
            if self.columns is not None:
                n = line.count(b"\t") + 1
                if n != self.columns:
                    self._add(base + pos, f"row {row} has {n} columns, expected {self.columns}")
            if b"\\" in line:
                m = _BAD_ESCAPE.search(line.replace(b"\\\\", b""))
                if m is not None:
                    self._add(base + pos, f"row {row} has an invalid escape sequence")
            pos += len(line) + 1
