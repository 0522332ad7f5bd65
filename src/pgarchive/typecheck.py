"""``verify --types``: every value of a table's COPY data parses as its column's type.

Fed the decompressed pieces of one TABLE DATA entry (as verify reads them), it cuts them
into batches of whole rows (:mod:`pgarchive.copyrows`) and checks each batch: with pyarrow
installed, first against the table's row pattern (:mod:`pgarchive.typeregex`: one RE2
pass over the batch that takes only values the exact path accepts, and for UTF-8 text
also its encoding and escapes), which leaves only the columns it does not cover (json,
arrays...) to the next path; a batch it does not take goes to the vectorised path of
:mod:`pgarchive.export.arrowbatch` (the decode to Arrow types checks integers with their
range, floats, booleans, dates, timestamps, times, numeric precision, intervals, bytea
and arrays) plus vectorised checks of the types kept as text (enum labels, uuid, numeric
syntax, time with time zone) and json syntax; only a batch that fails there too is
decoded again value by value (:mod:`pgarchive.values`) to name each bad value's row and
column.  The row pattern never changes what is reported, only how fast a clean batch
passes.  Without pyarrow every batch takes the exact path.

A changed byte such as ``15:00:00`` becoming ``15:00:j0`` keeps the COPY text valid and
passes every other check of verify; only this one sees it before a restore fails.
"""

from __future__ import annotations

import codecs
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from .archive import Archive
from .coltypes import TableLayout, TypeCatalog
from .copyrows import RowBatch, RowCutter, working_codec
from .encodings import is_sql_ascii
from .errors import ArchiveError
from .format.model import TocEntry
from .typeregex import ANY_TEXT, MAX_PATTERN, UTF8_TEXT, BatchMatcher, row_pattern
from .values import NULL, decoder, is_checked, unescape


def trim_memory() -> None:
    """Give freed memory back to the system between tables (keeps verify --types' peak low)."""
    from .export.arrowbatch import trim_memory as trim

    trim()

MAX_PROBLEMS = 10
#: Bytes of rows checked at a time: 1 MB keeps verify --types under 100 MB (2 MB: ~100).
BATCH = 1 << 20
_CATALOGS: weakref.WeakKeyDictionary[Archive, TypeCatalog] = weakref.WeakKeyDictionary()
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_NUMERIC = r"^(-?[0-9]+(\.[0-9]+)?|NaN|-?Infinity)$"
#: An escape COPY FROM turns into a byte >= 0x80 (checked for the encoding once de-escaped);
#: looked for after escaped backslashes are removed.
_HIGH_ESCAPE = re.compile(rb"\\(?:[2367][0-7]{2}|x[89a-fA-F][0-9a-fA-F])")
_HIGH_FIRST: Any = None  # numpy lookup table: the bytes that start such an escape
_TIMETZ = r"^[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?[+-][01][0-9](:[0-5][0-9]){0,2}$"


@dataclass
class TypeProblem:
    """One value that is not of its column's type."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.message}"


@dataclass
class TypeChecker:
    """Feed decompressed pieces of one TABLE DATA stream; then call finish()."""

    layout: TableLayout
    codec: str = "utf-8"
    strict_text: bool = True
    problems: list[TypeProblem] = field(default_factory=list)
    rows: int = 0
    #: False once the stream's structure is broken (verify's own checks say how)
    checking: bool = True

    def __post_init__(self) -> None:
        # verify's CopyChecker counts the columns of every row: not again here
        self._cutter = RowCutter(len(self.layout.columns), self.codec, BATCH,
                                 check_shape=False)
        work = self._work = working_codec(self.codec)
        self._since_trim = 0
        self._exact = [decoder(c.type, work, self.strict_text) for c in self.layout.columns]
        self._checked = [is_checked(c.type) for c in self.layout.columns]
        self._fast: Any = None  # the Arrow path over every checked column
        self._rest: Any = None  # ... over the checked columns the row pattern leaves out
        self._rows_re: BatchMatcher | None = None
        #: the row pattern also checks the text's encoding and escapes (UTF-8 only)
        self._text_in_pattern = self.strict_text and codecs.lookup(work).name == "utf-8"
        #: the last batch was accepted by the row pattern alone (nothing to give back)
        self._light = False
        self._tried = self._missed = 0  # batches the row pattern saw, and did not take
        try:
            from .export.arrowbatch import ArrowDecoder

            checked = tuple(i for i, c in enumerate(self._checked) if c)
            self._fast = ArrowDecoder(self.layout, work, self.strict_text, only=checked)
            row, covered = row_pattern([c.type if ok else None for c, ok in zip(
                self.layout.columns, self._checked, strict=True)], work,
                UTF8_TEXT if self._text_in_pattern else ANY_TEXT)
            if covered and len(row) <= MAX_PATTERN:
                self._rows_re = BatchMatcher(row)
                rest = tuple(i for i in checked if i not in covered)
                if rest:
                    self._rest = ArrowDecoder(self.layout, work, self.strict_text, only=rest)
        except ImportError:
            self._fast = None

    def feed(self, piece: bytes) -> None:
        """Check the next piece of the table's data (any size); a structural error stops the
        type checks (verify reports it as damage)."""
        if not self.checking:
            return
        try:
            batches = self._cutter.feed(piece)
        except ArchiveError:
            self.checking = False
            return
        for b in batches:
            self._check(b)

    def finish(self) -> list[TypeProblem]:
        """The data has ended: check the last rows, and return every problem found."""
        if self.checking:
            try:
                for b in self._cutter.finish():
                    self._check(b)
            except ArchiveError:
                self.checking = False
        return self.problems

    def _check(self, b: RowBatch) -> None:
        self.rows += b.rows
        if len(self.problems) >= MAX_PROBLEMS:
            return
        if self._fast is not None:
            self._light = False
            ok = self._fast_ok(b)
            if not self._light:  # the pattern's batches hold little: trimming after
                self._since_trim += len(b.data)  # them only adds page faults
                if self._since_trim >= 8 * BATCH:
                    trim_memory()
                    self._since_trim = 0
            if ok:
                return
        self._exact_check(b)

    def _fast_ok(self, b: RowBatch) -> bool:
        """True when the vectorised paths accept every value of the batch: the row
        pattern (:mod:`pgarchive.typeregex`) first, for the columns it covers, then the
        Arrow path for the others; where the pattern fails, the Arrow path for all."""
        whole = self._text_in_pattern  # the pattern also checks the text (UTF-8)
        if whole and self._rows_re is not None and self._rows_match(b.data):
            return self._rest_ok(b)
        if self.strict_text:  # text columns: only their encoding to check, all at once
            try:
                b.data.decode(self._work)
            except UnicodeDecodeError:
                return False
            if _high_escapes(b.data):  # bytes written as escapes: checked once de-escaped
                return False
        if not whole and self._rows_re is not None and self._rows_match(b.data):
            return self._rest_ok(b)
        return self._arrow_ok(b, self._fast)

    def _rest_ok(self, b: RowBatch) -> bool:
        """The row pattern took the batch: the checked columns it leaves out remain."""
        self._light = self._rest is None
        return self._arrow_ok(b, self._rest)

    def _rows_match(self, data: bytes) -> bool:
        """Whether the row pattern takes the batch; a pattern that fails on most batches
        (values in forms it does not know, such as BC dates) is dropped: it only costs."""
        import pyarrow as pa

        assert self._rows_re is not None
        try:
            ok = self._rows_re.matches(data)
        except pa.ArrowInvalid:  # a pattern RE2 cannot compile
            ok = False
            self._rows_re = None
        self._tried += 1
        self._missed += not ok
        if self._tried >= 8 and 2 * self._missed > self._tried:
            self._rows_re = None
        return ok

    def _arrow_ok(self, b: RowBatch, fast: Any) -> bool:
        """True when the Arrow path ``fast`` accepts every value of its columns."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if fast is None or not fast.only:
            return True
        try:
            rb = fast._fast(b, checking=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, UnicodeError,
                OverflowError, ArchiveError):
            return False
        for col, arr in zip([self.layout.columns[i] for i in fast.only], rb.columns,
                            strict=True):
            t = col.type
            if not pa.types.is_string(arr.type) or not self._checked_string(t.kind):
                continue
            if t.kind == "enum":
                ok = pc.all(pc.or_kleene(pc.is_in(arr, value_set=pa.array(list(t.labels))),
                                         pc.is_null(arr)))
            elif t.kind in ("json", "jsonb"):
                ok = pa.scalar(self._json_ok(arr))
            else:
                pattern = {"uuid": _UUID, "numeric": _NUMERIC, "timetz": _TIMETZ}[t.kind]
                ok = pc.all(pc.or_kleene(pc.match_substring_regex(arr, pattern),
                                         pc.is_null(arr)))
            if not ok.as_py() and ok.is_valid:
                return False
        return True

    @staticmethod
    def _checked_string(kind: str) -> bool:
        return kind in ("enum", "json", "jsonb", "uuid", "numeric", "timetz")

    @staticmethod
    def _json_ok(arr: Any) -> bool:
        from .values import parse_json

        try:
            for s in arr.to_pylist():
                if s is not None:
                    parse_json(s)
        except ValueError:
            return False
        return True

    def _exact_check(self, b: RowBatch) -> None:
        names = [c.name for c in self.layout.columns]
        decs = self._exact
        ncols = len(decs)
        for i, line in enumerate(b.data.split(b"\n")[:-1]):
            fields = line.split(b"\t")
            if len(fields) != ncols:
                continue  # verify's COPY check reports the row
            for j, f in enumerate(fields):
                if f == NULL:
                    continue
                try:
                    decs[j](unescape(f))
                except ValueError as e:
                    shown = f[:40].decode(self.codec, "replace")
                    more = "..." if len(f) > 40 else ""
                    self.problems.append(TypeProblem(
                        b.first_row + i, names[j],
                        f"{e} ({self.layout.columns[j].type.name}): {shown!r}{more}"))
                    if len(self.problems) >= MAX_PROBLEMS:
                        return


def _high_escapes(data: bytes) -> bool:
    """Whether COPY text has octal or hex escapes of bytes >= 0x80 (pg_dump writes none).

    A vectorised look at the byte after each backslash comes first: ``bytes.find`` of a
    two-byte needle such as ``\\2`` crawls through text full of digits."""
    from .copytext import vector_module

    global _HIGH_FIRST
    if b"\\" not in data:  # memchr: most batches have no escape at all
        return False
    np = vector_module()
    if _HIGH_FIRST is None:
        _HIGH_FIRST = np.zeros(256, np.bool_)
        _HIGH_FIRST[list(b"2367x")] = True
    view = np.frombuffer(data, np.uint8)
    after = view[np.flatnonzero(view[:-1] == 0x5C) + 1]
    if not _HIGH_FIRST[after].any():
        return False
    return _HIGH_ESCAPE.search(data.replace(b"\\\\", b"")) is not None


def for_entry(a: Archive, e: TocEntry) -> TypeChecker | None:
    """The type checker of a TABLE DATA entry, or None when there is nothing to check."""
    if e.desc != "TABLE DATA" or not e.copy_stmt:
        return None
    catalog = _CATALOGS.get(a)
    if catalog is None:
        catalog = _CATALOGS[a] = TypeCatalog(a.entries)
    return TypeChecker(catalog.layout(e), a.encoding,
                       strict_text=not is_sql_ascii(a.entries))
