"""Structural checks of COPY text as pg_dump writes it (pure: bytes in, findings out).

pg_dump's table data is what ``COPY ... TO STDOUT`` sent, then ``\\.\\n\\n\\n``.  In that
output every row ends with a newline, fields are separated by tabs, and a backslash is only
ever followed by one of ``\\ b f n r t v N``.

The checker is a streaming state machine that never copies or keeps a piece: the complete
rows in the middle of a piece are checked row by row but vectorised (numpy, ~3 GB/s, where
splitting into rows in Python runs at ~0.1 GB/s and even a mere ``bytes.count`` of tabs and
newlines at ~1.9 GB/s), and only the row that straddles two pieces is followed range by
range, so a row of any length costs constant memory.  Only a range that fails is split
into rows, to say exactly where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import ModuleType

TRAILER = b"\\.\n\n\n"
MARKER_ROW = b"\\."
#: after the marker row, pg_dump writes exactly these bytes, then the stream ends
AFTER_MARKER = b"\n\n"
ESCAPES = frozenset(b"\\bfnrtvN")
# A backslash (after escaped backslashes are removed) followed by anything else, or by nothing.
_BAD_ESCAPE = re.compile(rb"\\(?:[^bfnrtvN]|\Z)")
MAX_FINDINGS = 5
#: COPY builds each row in one buffer of at most 1 GB (MaxAllocSize): no longer row exists
#: in pg_dump's data, and an endless one (a decompression bomb) stops here.
MAX_ROW = (1 << 30) - 1
#: below this many bytes, bytes.count beats setting up numpy arrays
_VECTOR_MIN = 4096

_np: ModuleType | None = None


def vector_module() -> ModuleType:
    """numpy, imported on first use: only verify needs it, and it costs ~60 ms to import."""
    global _np
    if _np is None:
        import numpy

        _np = numpy
    return _np


def row_shape(data: bytes, start: int, end: int, columns: int | None) -> tuple[int, bool]:
    """The rows in ``data[start:end]`` (whole rows) and whether each has ``columns`` fields.

    Exact, not a total: the tabs and newlines, in order, must repeat ``columns - 1`` tabs
    then a newline.  Vectorised, one pass over the bytes (~3 GB/s) and then work per field.
    """
    if columns is None:  # rows only (restore's counts): bytes.count needs no numpy
        return data.count(b"\n", start, end), True
    if end - start < _VECTOR_MIN:
        rows = data.count(b"\n", start, end)
        return rows, all(line.count(b"\t") == columns - 1
                         for line in data[start:end].split(b"\n")[:-1])
    np = vector_module()
    view = np.frombuffer(data, np.uint8, end - start, start)
    seps = view[np.flatnonzero(view <= 10)]
    if len(seps) and bool((seps < 9).any()):  # raw control bytes, which COPY lets through
        seps = seps[seps >= 9]
    newline = seps == 10
    rows = int(np.count_nonzero(newline))
    return rows, len(seps) == rows * columns and bool(newline[columns - 1::columns].all())


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


def _bad_escape(data: bytes) -> re.Match[bytes] | None:
    """The first invalid escape in ``data``, which holds whole escapes (checks copy it)."""
    return _BAD_ESCAPE.search(data.replace(b"\\\\", b""))


@dataclass
class CopyChecker:
    """Feed decompressed pieces of one TABLE DATA stream; then call finish()."""

    columns: int | None
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    _pos: int = 0  # stream offset of the next piece
    # the row not yet ended by a newline:
    _row_start: int = 0
    _row_len: int = 0
    _row_tabs: int = 0
    _row_head: bytes = b""  # its first two bytes, to recognise the end-of-data marker row
    _escape_open: bool = False  # it ends with a backslash whose escaped byte is still to come
    _row_bad_escape: bool = False
    # after the end-of-data marker row:
    _marker_at: int | None = None
    _after: bytes = b""
    _after_reported: bool = False

    def feed(self, piece: bytes) -> None:
        n = len(piece)
        if not n:
            return
        base = self._pos
        self._pos += n
        if self._marker_at is not None:
            self._after_marker(piece, 0)
            return
        first = piece.find(b"\n")
        if first < 0:
            self._extend_row(piece, 0, n)
            return
        self._extend_row(piece, 0, first)
        if self._end_row():
            self._after_marker(piece, first + 1)
            return
        last = piece.rfind(b"\n")
        if last > first:
            marker = self._rows(piece, first + 1, last + 1, base)
            if marker >= 0:
                self._after_marker(piece, marker + len(MARKER_ROW) + 1)
                return
        self._row_start = base + last + 1
        self._extend_row(piece, last + 1, n)

    def finish(self) -> None:
        if self._marker_at is None:
            self._add(self._pos, "table data does not end with the end-of-data marker \\. "
                                 "(stream truncated?)")
        elif self._after != AFTER_MARKER and not self._after_reported:
            self._add(self._marker_at, "table data does not end with the end-of-data marker "
                                       "\\. followed by two empty lines (stream truncated?)")

    def _add(self, offset: int, message: str) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(offset, message))

    def _after_marker(self, piece: bytes, start: int) -> None:
        """Bytes after the marker row (``_marker_at`` is set): exactly two newlines are
        allowed, then nothing."""
        if self._after_reported or start >= len(piece):
            return
        self._after += piece[start:start + len(AFTER_MARKER) + 1 - len(self._after)]
        if not AFTER_MARKER.startswith(self._after):
            self._after_reported = True
            assert self._marker_at is not None
            self._add(self._marker_at + len(MARKER_ROW) + 1,
                      "data after the end-of-data marker \\.")

    def _extend_row(self, piece: bytes, start: int, end: int) -> None:
        """Add ``piece[start:end]``, which holds no newline, to the unfinished row."""
        if start >= end:
            return
        if self._row_len < len(MARKER_ROW):
            self._row_head += piece[start:start + len(MARKER_ROW) - self._row_len]
        self._row_len += end - start
        if self._row_len > MAX_ROW and not self.findings:
            self._add(self._row_start, f"row {self.rows + 1} is longer than {MAX_ROW} bytes, "
                                       "more than COPY can write")
        self._row_tabs += piece.count(b"\t", start, end)
        at = start
        if self._escape_open:
            self._escape_open = False
            if piece[at] not in ESCAPES and self._row_head != MARKER_ROW:
                self._row_bad_escape = True
            at += 1
        elif self._row_head.startswith(MARKER_ROW) and self._row_len - (end - start) == 0:
            at += len(MARKER_ROW)  # judged when the row ends
        if at < end and piece.find(b"\\", at, end) >= 0:
            m = _bad_escape(piece[at:end])
            if m is not None:
                if m.group() == b"\\" and m.end() == len(m.string):
                    self._escape_open = True  # the escaped byte is in the next piece
                    m = _bad_escape(m.string[:-1])
                if m is not None:
                    self._row_bad_escape = True

    def _end_row(self) -> bool:
        """The unfinished row ends at a newline; True when it is the end-of-data marker."""
        start, row = self._row_start, self.rows + 1
        if self._row_head == MARKER_ROW and self._row_len == len(MARKER_ROW):
            self._marker_at = start
            return True
        if self._row_head.startswith(MARKER_ROW) or self._escape_open or self._row_bad_escape:
            self._add(start, f"row {row} has an invalid escape sequence")
        if self.columns is not None and self._row_tabs != self.columns - 1:
            self._add(start, f"row {row} has {self._row_tabs + 1} columns, "
                             f"expected {self.columns}")
        self.rows = row
        self._row_start = start + self._row_len + 1
        self._row_len = self._row_tabs = 0
        self._row_head = b""
        self._escape_open = self._row_bad_escape = False
        return False

    def _rows(self, piece: bytes, start: int, end: int, base: int) -> int:
        """Check the whole rows ``piece[start:end]`` (start follows a newline, end-1 is one).

        Returns where the end-of-data marker row starts in ``piece``, or -1.
        """
        marker = -1
        has_backslash = piece.find(b"\\", start, end) >= 0
        if has_backslash:
            found = piece.find(b"\n" + MARKER_ROW + b"\n", start - 1, end)
            if found >= 0:
                marker, end = found + 1, found + 1
        newlines, ok = row_shape(piece, start, end, self.columns)
        if ok and has_backslash:
            ok = _bad_escape(piece[start:end]) is None
        if not ok:
            self._locate(piece, start, end, base)
        self.rows += newlines
        if marker >= 0:
            self._marker_at = base + marker
        return marker

    def _locate(self, piece: bytes, start: int, end: int, base: int) -> None:
        """Slow path: find the rows that are wrong."""
        pos = start
        row = self.rows
        for line in piece[start:end].split(b"\n")[:-1]:
            row += 1
            if b"\\" in line and _bad_escape(line) is not None:
                self._add(base + pos, f"row {row} has an invalid escape sequence")
            if self.columns is not None:
                n = line.count(b"\t") + 1
                if n != self.columns:
                    self._add(base + pos, f"row {row} has {n} columns, expected {self.columns}")
            pos += len(line) + 1
