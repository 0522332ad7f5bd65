"""Whole rows of one table's COPY text, in bounded batches, checked as they go.

Export and ``verify --types`` read an entry's decompressed pieces through here: batches of
about ``target`` bytes that end on a row boundary (a row longer than that is one batch of
its own: its values must be in memory to be decoded anyway), the end-of-data marker
``\\.`` found and removed, and every row's column count checked (vectorised, as verify
does).  Data that ends before the marker, or a row with the wrong number of columns, raises
ArchiveError naming the row: a partial table is never passed on as a whole one.

Client encodings whose multibyte characters can contain ASCII bytes (SJIS, BIG5, GBK,
UHC, GB18030, JOHAB: pg_dump -E only, never a database's) are transcoded to UTF-8 first,
as COPY FROM converts its input before parsing; everything downstream then works on bytes
where a backslash, tab or newline is always that character.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .copytext import row_shape, vector_module
from .errors import FormatError

#: Python codecs of the encodings where a multibyte character may embed an ASCII byte.
EMBEDS_ASCII = frozenset({"shift_jis", "shift_jis_2004", "big5", "gbk", "gb18030", "cp949",
                          "johab"})
BATCH = 1 << 20
_MARKER_AT_START = b"\\.\n"
_MARKER = b"\n\\.\n"
#: below this many bytes, bytes.count beats setting up a numpy array
_VECTOR_MIN = 4096


@dataclass(frozen=True)
class RowBatch:
    """Whole rows (each ends with a newline) and the 1-based number of the first."""

    data: bytes
    first_row: int
    rows: int


def working_codec(codec: str) -> str:
    """The codec of the bytes batches carry: UTF-8 for the ASCII-embedding encodings."""
    return "utf-8" if codec in EMBEDS_ASCII else codec


def row_batches(pieces: Iterable[bytes], columns: int, codec: str = "utf-8",
                target: int = BATCH) -> Iterator[RowBatch]:
    """Batches of whole rows of a TABLE DATA stream (see the module docstring)."""
    cutter = RowCutter(columns, codec, target)
    for piece in pieces:
        yield from cutter.feed(piece)
    yield from cutter.finish()


class RowCutter:
    """The push form of :func:`row_batches`: feed pieces, get batches, then finish()."""

    def __init__(self, columns: int, codec: str = "utf-8", target: int = BATCH,
                 check_shape: bool = True) -> None:
        self.columns = columns
        #: False when the caller checks the column counts itself (verify's CopyChecker)
        self.check_shape = check_shape
        self.codec = codec
        self.target = target
        self._transcode = codec in EMBEDS_ASCII
        self._parts: list[bytes] = []
        self._size = 0
        self._newline = False
        self._row = 1
        self._done = False
        self._scratch: Any = None  # numpy booleans for _newlines

    def feed(self, piece: bytes) -> list[RowBatch]:
        """Take the next piece of the stream; returns the batches of whole rows it completes."""
        if self._done:
            if piece.strip(b"\n"):
                raise FormatError("data after the end-of-data marker \\.")
            return []
        self._parts.append(piece)
        self._size += len(piece)
        self._newline = self._newline or b"\n" in piece
        if self._size < self.target or not self._newline:
            return []
        body, carry = _split_last_row(self._parts)
        self._parts, self._size, self._newline = ([carry] if carry else []), len(carry), False
        return self._cut(body, carry)

    def finish(self) -> list[RowBatch]:
        """The stream has ended: the last rows, after checking that it ended as COPY ends."""
        if self._done:
            return []
        tail = b"".join(self._parts)
        last = tail.rfind(b"\n")
        body, rest = tail[:last + 1], tail[last + 1:]
        out = self._cut(body, rest)
        if self._done or rest == b"\\.":  # the marker without its newline: COPY takes it
            return out
        if rest:
            raise FormatError(f"table data ends inside row {self._row} (stream truncated?)")
        raise FormatError(f"table data ends after row {self._row - 1} without the "
                          "end-of-data marker \\. (stream truncated?)")

    def _cut(self, body: bytes, carry: bytes) -> list[RowBatch]:
        # The marker is the last row.  A caller that counts columns itself (verify, whose
        # CopyChecker also reports data after the marker) only needs it looked for at the
        # end; otherwise it is looked for everywhere, so that nothing after it passes.
        end = _marker(body) if self.check_shape or _ends_with_marker(body) else None
        if end is not None:
            if body[end + len(_MARKER_AT_START):].strip(b"\n") or carry.strip(b"\n"):
                raise FormatError("data after the end-of-data marker \\.")
            body = body[:end]
            self._done = True
        if not body:
            return []
        if not self.check_shape and not self._transcode:
            batch = RowBatch(body, self._row, self._newlines(body))
        else:
            batch = _checked(body, self.columns, self._row, self._transcode, self.codec)
        self._row += batch.rows
        return [batch]

    def _newlines(self, body: bytes) -> int:
        """The rows of a batch: numpy counts newlines at ~3x the speed of bytes.count,
        into a scratch array kept from batch to batch (a new one each time cost more in
        page faults than the count); a batch past twice the target is counted in place."""
        if not _VECTOR_MIN <= len(body) <= 2 * self.target:
            return body.count(b"\n")
        np = vector_module()
        if self._scratch is None or len(self._scratch) < len(body):
            self._scratch = np.empty(2 * self.target, np.bool_)
        out = self._scratch[:len(body)]
        np.equal(np.frombuffer(body, np.uint8), 0x0A, out=out)
        return int(np.count_nonzero(out))


def _split_last_row(parts: list[bytes]) -> tuple[bytes, bytes]:
    """The pieces joined up to their last newline (included), and the bytes after it: one
    copy of the rows, where joining everything and slicing it made two."""
    k = len(parts) - 1
    while (at := parts[k].rfind(b"\n")) < 0:
        k -= 1
    last = parts[k]
    body = b"".join([*parts[:k], memoryview(last)[:at + 1]])
    return body, last[at + 1:] + b"".join(parts[k + 1:])


def _ends_with_marker(body: bytes) -> bool:
    """Whether the last row of ``body`` that is not empty ends with ``\\.`` (looked for
    in its tail: stripping the whole batch would copy it)."""
    tail = body[-64:].rstrip(b"\n")
    if not tail and len(body) > 64:
        tail = body.rstrip(b"\n")
    return tail.endswith(b"\\.")


def _marker(body: bytes) -> int | None:
    """Where the end-of-data marker row starts in ``body`` (whole rows), or None."""
    if body.startswith(_MARKER_AT_START):
        return 0
    at = body.find(_MARKER)
    return at + 1 if at >= 0 else None


def _checked(body: bytes, columns: int, row: int, transcode: bool, codec: str) -> RowBatch:
    if transcode:
        try:
            body = body.decode(codec).encode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"invalid {codec} byte sequence near row {row}") from None
    if columns == 0:
        rows = body.count(b"\n")
        if len(body) != rows:
            _bad_row(body, columns, row)
        return RowBatch(body, row, rows)
    rows, ok = row_shape(body, 0, len(body), columns)
    if not ok:
        _bad_row(body, columns, row)
    return RowBatch(body, row, rows)


def _bad_row(body: bytes, columns: int, row: int) -> None:
    for i, line in enumerate(body.split(b"\n")[:-1]):
        n = line.count(b"\t") + 1 if columns or line else 0
        if n != columns:
            raise FormatError(f"row {row + i} has {n} columns, expected {columns}")
