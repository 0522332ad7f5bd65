"""Structural checks of COPY text as COPY FROM reads it (pure: bytes in, findings out).

pg_dump's table data is what ``COPY ... TO STDOUT`` sent, then ``\\.\\n\\n\\n``.  In that
output every row ends with a newline, fields are separated by tabs, and a backslash is only
ever followed by one of ``\\ b f n r t v N``.  COPY FROM (PostgreSQL's CopyReadLineText and
CopyReadAttributesText) reads more: octal (``\\1``..``\\377``) and hex (``\\x4``,
``\\x41``) escapes, and a backslash before any other byte (a tab or newline included) is
that byte as data.  It rejects: a raw carriage return (pg_dump's rows end in newlines, and
its marker ``\\.`` with one), a zero byte raw or by escape, and ``\\.`` anywhere but
alone on its line (PostgreSQL 17 and older reject it; 18 ends the data there, dropping
the rest).  The checker follows those rules exactly.

It is a streaming state machine that never copies or keeps a piece: the complete rows in
the middle of a piece are checked row by row but vectorised (numpy, ~3 GB/s, where
splitting into rows in Python runs at ~0.1 GB/s and even a mere ``bytes.count`` of tabs and
newlines at ~1.9 GB/s), and only the row that straddles two pieces is followed range by
range, so a row of any length costs constant memory.  Only a range that fails is split
into rows, to say exactly where.  Text with anything pg_dump does not write (the escapes
above, raw carriage returns or zero bytes) takes the exact path, token by token, from the
row where it starts to the end of its piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import mmap

#: What the checks read: a piece, or a memory map holding one (verify's ring of slots,
#: childdecode.py), read in place.
Text: TypeAlias = "bytes | mmap.mmap"

TRAILER = b"\\.\n\n\n"
MARKER_ROW = b"\\."
#: after the marker row, pg_dump writes exactly these bytes, then the stream ends
AFTER_MARKER = b"\n\n"
#: the escapes COPY TO writes (a backslash and one of these bytes)
ESCAPES = frozenset(b"\\bfnrtvN")
#: after escaped backslashes are removed: an escape COPY TO never writes
_UNUSUAL = re.compile(rb"\\[^bfnrtvN]")
#: what the exact path reads: escapes (octal, hex, any other byte) and the bytes COPY FROM
#: treats specially outside them
_TOKEN = re.compile(rb"\\(?:[0-7]{1,3}|x[0-9A-Fa-f]{1,2}|[\s\S])?|[\t\n\r\0]")
_OCTAL = frozenset(b"01234567")
_OCTAL_X = _OCTAL | {0x78}
_EXACT = -2
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


def plain_shape(data: Text, start: int, end: int,
                columns: int | None) -> tuple[int, bool] | None:
    """:func:`row_shape` of whole rows, or None when they hold a raw carriage return or
    zero byte (which COPY FROM rejects: the exact path says where).

    Verify's hot path: one numpy pass finds the separators and those two bytes together,
    where two more scans of every piece cost a sixth of the checks (measured)."""
    if columns is None or end - start < _VECTOR_MIN:
        if not isinstance(data, bytes):  # a memory map has no count
            data, start, end = data[start:end], 0, end - start
        if data.find(b"\r", start, end) >= 0 or data.find(b"\0", start, end) >= 0:
            return None
        return row_shape(data, start, end, columns)
    return _vector_shape(data, start, end, columns)


def _vector_shape(data: Text, start: int, end: int,
                  columns: int) -> tuple[int, bool] | None:
    """:func:`plain_shape` of a range of at least ``_VECTOR_MIN`` bytes, vectorised; of
    a memory map too (verify's child process reads its shared slots in place)."""
    np = vector_module()
    view = np.frombuffer(data, np.uint8, end - start, start)
    seps = view[np.flatnonzero(view <= 13)]  # 0-8 and 11-12 pass raw; 0 and 13 do not
    if len(seps):
        other = (seps - np.uint8(9)) > 1  # anything but a tab (9) or a newline (10)
        if bool(other.any()):
            if bool(((seps == 0) | (seps == 13)).any()):
                return None
            seps = seps[~other]
    newline = seps == 10
    rows = int(np.count_nonzero(newline))
    return rows, len(seps) == rows * columns and bool(newline[columns - 1::columns].all())


@dataclass(frozen=True)
class RowsHint:
    """:func:`plain_shape` of a piece's whole rows (from after its first newline to its
    last), worked out ahead by another thread (verify's read-ahead thread, when it is
    ahead of the checks): the checker uses it only for exactly that range, so what it
    finds is the same with or without one."""

    start: int
    end: int
    shape: tuple[int, bool] | None


def prescan(piece: Text, columns: int | None, start: int = 0,
            end: int | None = None) -> RowsHint | None:
    """The hint for ``piece`` (or for the piece ``piece[start:end]``, a memory map's
    slot, its offsets then counted from ``start``) that :meth:`CopyChecker.feed` asks for
    in the usual case (no escape or marker about); None where there is nothing to
    vectorise."""
    if columns is None:
        return None
    stop = len(piece) if end is None else end
    first = piece.find(b"\n", start, stop)
    last = piece.rfind(b"\n", start, stop)
    if last - first < _VECTOR_MIN:
        return None
    return RowsHint(first + 1 - start, last + 1 - start,
                    _vector_shape(piece, first + 1, last + 1, columns))


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
class StreamFault:
    """Where a data stream breaks COPY (or INSERT) structure, and how: what verify reports
    as damage of the entry."""

    offset: int  # in the decompressed stream
    message: str


def _zero_escape(token: bytes) -> bool:
    """Whether an octal or hex escape gives the byte 0 (``\\0``, ``\\000``, ``\\400``,
    ``\\x0``...): COPY FROM de-escapes it, then rejects the value's encoding."""
    if token[1] in _OCTAL:
        return int(token[1:], 8) & 0xFF == 0
    return token[1] == 0x78 and len(token) > 2 and int(token[2:], 16) == 0


@dataclass
class CopyChecker:
    """Feed decompressed pieces of one TABLE DATA stream; then call finish()."""

    columns: int | None
    rows: int = 0
    findings: list[StreamFault] = field(default_factory=list)
    _pos: int = 0  # stream offset of the next piece
    # the row not yet ended by a newline: where it starts, its bytes so far, its tabs
    _row_start: int = 0
    _row_len: int = 0
    _row_tabs: int = 0
    _row_error: str | None = None  # the first thing COPY FROM rejects in it
    _escape_open: bool = False  # it ends with a backslash whose escaped byte is still to come
    #: exact path: an escape at the end of the last piece that the next bytes may extend
    #: (``\\``, ``\\1``, ``\\x4``, ``\\.`` at a row's start), not counted in ``_row_len``
    _carry: bytes = b""
    # after the end-of-data marker row:
    _marker_at: int | None = None
    _after: bytes = b""
    _after_reported: bool = False

    def feed(self, piece: Text, hint: RowsHint | None = None, lo: int = 0,
             hi: int | None = None) -> None:
        """Check the next piece of the decompressed stream (any size, cut anywhere):
        ``piece``, or ``piece[lo:hi]`` (read in place: a slot of verify's shared ring);
        ``hint``: :func:`prescan` of this piece, if another thread had time for it (its
        offsets counted from ``lo``)."""
        end = len(piece) if hi is None else hi
        if end <= lo:
            return
        base = self._pos - lo  # the stream offset of piece[0]
        self._pos += end - lo
        if self._marker_at is not None:
            self._after_marker(piece, lo, end)
            return
        if self._carry:
            self._exact(piece, lo, base, end)
            return
        first = piece.find(b"\n", lo, end)
        if first < 0:
            if not self._extend_row(piece, lo, end, False):
                self._exact(piece, lo, base, end)
            return
        if not self._extend_row(piece, lo, first, True):
            self._exact(piece, lo, base, end)
            return
        self._end_row()
        last = piece.rfind(b"\n", lo, end)
        if last > first:
            if hint is not None and lo:
                hint = RowsHint(hint.start + lo, hint.end + lo, hint.shape)
            marker = self._rows(piece, first + 1, last + 1, base, hint)
            if marker == _EXACT:
                self._exact(piece, first + 1, base, end)
                return
            if marker >= 0:
                self._marker_at = base + marker
                self._after_marker(piece, marker + len(MARKER_ROW) + 1, end)
                return
        self._row_start = base + last + 1
        if not self._extend_row(piece, last + 1, end, False):
            self._exact(piece, last + 1, base, end)

    def finish(self) -> None:
        """The stream has ended: record what its end lacks (the end marker, a last newline)."""
        if self._marker_at is None:
            self._add(self._pos, "table data does not end with the end-of-data marker \\. "
                                 "(stream truncated?)")
        elif self._after != AFTER_MARKER and not self._after_reported:
            self._add(self._marker_at, "table data does not end with the end-of-data marker "
                                       "\\. followed by two empty lines (stream truncated?)")

    def _add(self, offset: int, message: str) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(StreamFault(offset, message))

    def _after_marker(self, piece: Text, start: int, end: int) -> None:
        """Bytes after the marker row (``_marker_at`` is set), ``piece[start:end]``:
        exactly two newlines are allowed, then nothing."""
        if self._after_reported or start >= end:
            return
        self._after += piece[start:min(end, start + len(AFTER_MARKER) + 1 - len(self._after))]
        if not AFTER_MARKER.startswith(self._after):
            self._after_reported = True
            assert self._marker_at is not None
            self._add(self._marker_at + len(MARKER_ROW) + 1,
                      "data after the end-of-data marker \\.")

    def _grow(self, n: int) -> None:
        self._row_len += n
        if self._row_len > MAX_ROW and not self.findings:
            self._add(self._row_start, f"row {self.rows + 1} is longer than {MAX_ROW} bytes, "
                                       "more than COPY can write")

    def _extend_row(self, piece: Text, start: int, end: int, ends_row: bool) -> bool:
        """Add ``piece[start:end]``, which holds no newline, to the unfinished row; the
        newline at ``end`` ends it when ``ends_row``.  False, and nothing changed, when
        the bytes need the exact path (anything COPY TO does not write)."""
        if start >= end:
            return not (ends_row and self._escape_open)  # else: an escaped newline
        at = start
        if self._escape_open:
            if piece[at] not in ESCAPES:
                return False
            at += 1
        open_after = False
        if at < end:
            if piece.find(b"\r", at, end) >= 0 or piece.find(b"\0", at, end) >= 0:
                return False
            if piece.find(b"\\", at, end) >= 0:
                text = piece[at:end].replace(b"\\\\", b"")
                if text.endswith(b"\\"):
                    if ends_row:
                        return False  # an escaped newline
                    open_after, text = True, text[:-1]
                if _UNUSUAL.search(text):
                    return False
        self._escape_open = open_after
        self._row_tabs += (piece.count(b"\t", start, end) if isinstance(piece, bytes)
                           else piece[start:end].count(b"\t"))  # (a map has no count)
        self._grow(end - start)
        return True

    def _end_row(self) -> None:
        """The unfinished row ends at a (structural) newline."""
        start, row = self._row_start, self.rows + 1
        if self._row_error is not None:
            self._add(start, f"row {row} {self._row_error}")
        if self.columns is not None and self._row_tabs != self.columns - 1:
            self._add(start, f"row {row} has {self._row_tabs + 1} columns, "
                             f"expected {self.columns}")
        self.rows = row
        self._row_start = start + self._row_len + 1
        self._row_len = self._row_tabs = 0
        self._row_error = None
        self._escape_open = False

    def _rows(self, piece: Text, start: int, end: int, base: int,
              hint: RowsHint | None = None) -> int:
        """Check the whole rows ``piece[start:end]`` (start follows a newline, end-1 is one).

        Returns where the end-of-data marker row starts in ``piece``, -1 if it is not
        there, or ``_EXACT`` (nothing done) when the rows need the exact path.
        """
        marker = -1
        # Searched in place first: with no escaped backslash about, a backslash before
        # anything but b f n r t v N is unusual (the marker's \. included); only then is
        # the copy without escaped backslashes made (measured: 140 against 550 us/256 kB).
        if piece.find(b"\\", start, end) >= 0 and _UNUSUAL.search(piece, start, end):
            found = piece.find(b"\n" + MARKER_ROW + b"\n", start - 1, end)
            if found >= 0:
                marker, end = found + 1, found + 1
            if _UNUSUAL.search(piece, start, end) and _UNUSUAL.search(
                    piece[start:end].replace(b"\\\\", b"")):
                return _EXACT
        if hint is not None and hint.start == start and hint.end == end:
            shape = hint.shape
        else:
            shape = plain_shape(piece, start, end, self.columns)
        if shape is None:
            return _EXACT
        newlines, ok = shape
        if not ok:
            self._locate(piece, start, end, base)
        self.rows += newlines
        if marker >= 0:
            self._marker_at = base + marker
        return marker

    def _locate(self, piece: Text, start: int, end: int, base: int) -> None:
        """Slow path: find the rows with the wrong number of columns (in rows that hold
        only COPY TO's own escapes, every tab and newline is a separator)."""
        pos = start
        row = self.rows
        for line in piece[start:end].split(b"\n")[:-1]:
            row += 1
            if self.columns is not None:
                n = line.count(b"\t") + 1
                if n != self.columns:
                    self._add(base + pos, f"row {row} has {n} columns, expected {self.columns}")
            pos += len(line) + 1

    def _exact(self, piece: Text, pos: int, base: int, end: int) -> None:
        """The exact path, token by token as COPY FROM reads text (CopyReadLineText and
        CopyReadAttributesText): ``piece[pos:end]`` continues the unfinished row."""
        carry = self._carry
        if self._escape_open:  # the backslash ending the row so far: read it again here
            carry, self._escape_open = b"\\", False
            self._row_len -= 1
        self._carry = b""
        if carry:
            buf = carry + piece[pos:end]
        elif isinstance(piece, bytes) and not pos and end == len(piece):
            buf = piece
        else:
            buf = piece[pos:end]
        off = base + pos - len(carry)  # stream offset of buf[0]
        done = len(buf)
        for m in _TOKEN.finditer(buf):
            at, token = m.start(), m.group()
            byte = token[0]
            if byte == 0x5C:
                row_start = off + at == self._row_start
                if m.end() == len(buf) and (
                        len(token) == 1 or (token[1] in _OCTAL_X and len(token) < 4)
                        or (token[1] == 0x2E and row_start)):
                    self._carry, done = token, at  # the next bytes may extend it
                    break
                if token[1] == 0x2E:  # \.
                    if row_start and buf[at + 2] == 0x0A:
                        self._row_len = off + at - self._row_start
                        self._marker_at = off + at
                        self._after_marker(buf, at + len(MARKER_ROW) + 1, len(buf))
                        return
                    self._error("has the end-of-data marker \\. after other data" if not
                                row_start else "starts with a corrupt end-of-data marker \\.")
                elif token[1] in _OCTAL_X and _zero_escape(token):
                    self._error("has an escape for the byte 0, which COPY FROM rejects")
            elif byte == 0x09:
                self._row_tabs += 1
            elif byte == 0x0A:
                self._row_len = off + at - self._row_start
                self._end_row()
            elif byte == 0x0D:
                self._error("has a carriage return byte, which COPY FROM rejects in text "
                            "ending in newlines (it must be written \\r)")
            else:
                self._error("has a zero byte, which COPY FROM rejects")
        self._row_len = 0
        self._grow(off + done - self._row_start)

    def _error(self, message: str) -> None:
        if self._row_error is None:
            self._row_error = message
