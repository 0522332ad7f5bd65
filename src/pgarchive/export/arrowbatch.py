"""Rows of COPY text to Arrow record batches with the columns' types (needs pyarrow).

The fast path hands a whole batch to pyarrow's CSV reader (C++, multi-threaded) with tab as
delimiter and no quoting, ``\\N`` as NULL and the Arrow type of each column where pyarrow
parses PostgreSQL's text form itself (integers, floats, booleans, dates, timestamps with
and without time zone, times); the rest are read as strings and converted afterwards
(decimals by a cast, intervals, bytea and arrays value by value), and string values that
hold a COPY escape are de-escaped one by one.  When pyarrow refuses a value (a BC date, an
infinite timestamp, an escape in a number...), the batch is decoded again on the exact path
(:mod:`pgarchive.values`), which either converts it or names the row and column that is
not of its type.

Mapping (issue 17): int2/4/8 -> int16/32/64, float4/8 -> float32/64, bool -> bool,
numeric(p,s) -> decimal128(p,s) (decimal256 past 38 digits; a string past 76 or without a
precision), text kinds -> string, bytea -> binary, date -> date32, timestamp ->
timestamp[us], timestamptz -> timestamp[us, UTC], time -> time64[us], interval ->
month_day_nano, uuid/json/jsonb -> string, arrays -> lists; enums, composites and every
other type -> their text form.  Infinite dates and timestamps become the extremes of their
integer type (DuckDB's convention), an infinite interval PostgreSQL's own field values.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..coltypes import PgType, TableLayout
from ..copyrows import RowBatch
from ..errors import FormatError
from ..values import (
    INTERVAL_NEG_INF,
    INTERVAL_POS_INF,
    NULL,
    decoder,
    is_checked,
    unescape,
)


def trim_memory() -> None:
    """Give freed memory back to the system: batches and row groups are built and freed
    again and again, and glibc would keep the peak otherwise."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


def _system_allocator() -> None:
    """Before pyarrow is imported: its system pool, whose freed memory trim_memory() gives
    back (mimalloc keeps it: 338 against 266 MiB peak for 128 MiB Parquet row groups).
    A user's ARROW_DEFAULT_MEMORY_POOL still wins."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def require_pyarrow(extra: str = "parquet") -> Any:
    """pyarrow, or a one-line error saying which extra installs it."""
    _system_allocator()
    try:
        import pyarrow
    except ImportError:
        from ..errors import UsageError

        raise UsageError(f"this needs pyarrow: pip install 'pgarchive[{extra}]'") from None
    return pyarrow


#: Parquet has no type for month_day_nano (its INTERVAL is unsigned months, days and
#: milliseconds): in Parquet files an interval is this struct of the same three fields.
def interval_struct() -> Any:
    """The Parquet form of an interval (see the comment above): months, days, nanoseconds."""
    import pyarrow as pa

    return pa.struct([("months", pa.int32()), ("days", pa.int32()),
                      ("nanoseconds", pa.int64())])


def arrow_type(t: PgType, parquet: bool = False) -> Any:
    """The Arrow type of a column type (see the module docstring)."""
    import pyarrow as pa

    if t.kind == "interval" and parquet:
        return interval_struct()
    k = t.kind
    simple = {"int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(),
              "float4": pa.float32(), "float8": pa.float64(), "bool": pa.bool_(),
              "bytea": pa.binary(), "date": pa.date32(), "timestamp": pa.timestamp("us"),
              "timestamptz": pa.timestamp("us", tz="UTC"), "time": pa.time64("us"),
              "interval": pa.month_day_nano_interval()}
    if k in simple:
        return simple[k]
    if k == "numeric" and t.precision is not None and 0 < t.precision <= 76:
        scale = t.scale or 0
        if scale < 0 or scale > t.precision:
            return pa.string()
        if t.precision <= 38:
            return pa.decimal128(t.precision, scale)
        return pa.decimal256(t.precision, scale)
    if k == "array":
        assert t.element is not None
        return pa.list_(arrow_type(t.element, parquet))
    return pa.string()


def arrow_schema(layout: TableLayout, parquet: bool = False) -> Any:
    """The Arrow schema of a table's columns, for Parquet files or DuckDB scans."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, arrow_type(c.type, parquet)) for c in layout.columns])


#: Kinds pyarrow's CSV reader parses from PostgreSQL's text form itself.
_NATIVE = frozenset({"int2", "int4", "int8", "float4", "float8", "bool", "date", "timestamp",
                     "timestamptz", "time"})


class BadValue(FormatError):
    """A value that is not of its column's type; ``row`` and ``column`` say where."""

    def __init__(self, message: str, row: int, column: str) -> None:
        super().__init__(f"row {row}, column {column!r}: {message}")
        self.row = row
        self.column = column
        self.reason = message


@dataclass
class ArrowDecoder:
    """Decodes batches of rows of one table into Arrow record batches."""

    layout: TableLayout
    codec: str = "utf-8"
    #: False: undecodable text becomes U+FFFD (SQL_ASCII data); True: it is an error
    strict_text: bool = True
    #: intervals as the struct Parquet can store (see interval_struct)
    parquet: bool = False
    #: decode only these columns (by position) on the vectorised path (verify --types)
    only: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        _system_allocator()
        import pyarrow as pa
        import pyarrow.csv as pcsv

        self.schema = arrow_schema(self.layout, self.parquet)
        self._names = [f"c{i}" for i in range(len(self.layout.columns))]
        self._cols = list(range(len(self._names))) if self.only is None else list(self.only)
        self._fast_schema = pa.schema([self.schema.field(i) for i in self._cols])
        read_types = {}
        for name, col, field in zip(self._names, self.layout.columns, self.schema,
                                    strict=True):
            read_types[name] = field.type if col.type.kind in _NATIVE else pa.string()
        self._read = pcsv.ReadOptions(column_names=self._names, block_size=1 << 18)
        self._parse = pcsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False,
                                        newlines_in_values=False, ignore_empty_lines=False)
        self._convert = pcsv.ConvertOptions(
            column_types=read_types, null_values=["\\N"], true_values=["t"],
            false_values=["f"], strings_can_be_null=True, quoted_strings_can_be_null=False,
            check_utf8=True, include_columns=[self._names[i] for i in self._cols])
        self._exact = [decoder(c.type, self.codec, self.strict_text)
                       for c in self.layout.columns]

    def batch(self, rows: RowBatch) -> Any:
        """One RowBatch as an Arrow RecordBatch of :attr:`schema`."""
        import pyarrow as pa

        if not self.layout.columns:
            return pa.RecordBatch.from_pylist([{}] * rows.rows, schema=self.schema)
        try:
            return self._fast(rows)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError,
                UnicodeError, OverflowError):
            return self._slow(rows)

    def _fast(self, rows: RowBatch, checking: bool = False) -> Any:
        """The vectorised path; ``checking``: only what verify --types needs (text that
        is kept as it is needs no de-escaping to be checked)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv

        body = rows.data
        if self.codec not in ("utf-8", "utf_8"):
            body = body.decode(self.codec).encode("utf-8")
        elif not self.strict_text:
            body = body.decode("utf-8", "replace").encode("utf-8")
        table = pcsv.read_csv(io.BytesIO(body), read_options=self._read,
                              parse_options=self._parse, convert_options=self._convert)
        if table.num_rows != rows.rows:
            raise ValueError("row count differs")
        arrays = []
        for col, field, chunked in zip([self.layout.columns[i] for i in self._cols],
                                       self._fast_schema, table.columns, strict=True):
            arr = chunked.combine_chunks()
            kind = col.type.kind
            if kind in _NATIVE or (checking and not is_checked(col.type)):
                arrays.append(arr)
                continue
            if bool(pc.any(pc.match_substring(arr, "\\")).as_py()):
                arr = self._unescaped(arr)
            if pa.types.is_string(field.type):
                arrays.append(arr)
            elif pa.types.is_decimal(field.type):
                arrays.append(pc.cast(arr, field.type))
            else:
                arrays.append(self._converted(arr.to_pylist(), col.type, field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self._fast_schema)

    def _unescaped(self, arr: Any) -> Any:
        import pyarrow as pa

        codec = self.codec
        out = []
        for s in arr.to_pylist():
            if s is not None and "\\" in s:
                s = unescape(s.encode(codec, "surrogateescape")).decode(codec)
            out.append(s)
        return pa.array(out, pa.string())

    def _converted(self, texts: list[str | None], t: PgType, atype: Any) -> Any:
        dec = decoder(t, "utf-8")
        return to_arrow([None if s is None else dec(s.encode("utf-8")) for s in texts], t,
                        atype)

    def _slow(self, rows: RowBatch) -> Any:
        """The exact path: every value through :mod:`pgarchive.values`."""
        import pyarrow as pa

        columns: list[list[Any]] = [[] for _ in self.layout.columns]
        lines = rows.data.split(b"\n")[:-1]
        decs = self._exact
        names = [c.name for c in self.layout.columns]
        for i, line in enumerate(lines):
            for j, field in enumerate(line.split(b"\t")):
                if field == NULL:
                    columns[j].append(None)
                    continue
                try:
                    columns[j].append(decs[j](unescape(field)))
                except ValueError as e:
                    raise BadValue(str(e), rows.first_row + i, names[j]) from None
        arrays = []
        bad: list[tuple[int, int, str]] = []
        for j, (col, field) in enumerate(zip(self.layout.columns, self.schema, strict=True)):
            try:
                arrays.append(to_arrow(columns[j], col.type, field.type))
            except ValueError:
                row, why = _first_bad_row(columns[j], col.type, field.type)
                bad.append((row, j, why))
        if bad:  # the first in row order, as a reader of the table meets it
            row, j, why = min(bad)
            raise BadValue(why, rows.first_row + row, self.layout.columns[j].name)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _first_bad_row(values: list[Any], t: PgType, atype: Any) -> tuple[int, str]:
    for i, v in enumerate(values):
        try:
            to_arrow([v], t, atype)
        except ValueError as e:
            return i, str(e)
    return 0, "cannot be converted"


def to_arrow(values: list[Any], t: PgType, atype: Any) -> Any:
    """Canonical values (see :mod:`pgarchive.values`) of type ``t`` to an Arrow array."""
    import pyarrow as pa

    k = t.kind
    if pa.types.is_list(atype):
        assert t.element is not None
        offsets = [0]
        flat: list[Any] = []
        mask = []
        for v in values:
            mask.append(v is None)
            if v is not None:
                if any(isinstance(x, list) for x in v):
                    raise ValueError("a multi-dimensional array does not fit a list column "
                                     "(export it as jsonl or csv)")
                flat.extend(v)
            offsets.append(len(flat))
        child = to_arrow(flat, t.element, atype.value_type)
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), child,
                                        mask=pa.array(mask, pa.bool_()))
    if pa.types.is_string(atype):
        return pa.array([None if v is None else _text_of(v, t) for v in values], atype)
    if pa.types.is_decimal(atype):
        for v in values:
            if v is not None and not v.is_finite():
                raise ValueError(f"{v} does not fit {atype} (export it as jsonl or csv)")
        return pa.array(values, atype)
    if k in ("date", "timestamp", "timestamptz", "time"):
        storage = pa.int32() if k == "date" else pa.int64()
        if k != "date" and any(v is not None and not _I64_MIN <= v <= _I64_MAX for v in values):
            raise ValueError(f"a {t.name} after 294247 AD does not fit {atype} (export it as "
                             "jsonl or csv)")
        return pa.array(values, storage).cast(atype)
    if k == "interval" and pa.types.is_struct(atype):
        return pa.array([None if v is None else dict(zip(
            ("months", "days", "nanoseconds"), _nanos(v), strict=True)) for v in values], atype)
    if k == "interval":
        return pa.array([None if v is None else _mdn(v) for v in values], atype)
    return pa.array(values, atype)


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _nanos(v: tuple[int, int, int]) -> tuple[int, int, int]:
    """(months, days, microseconds) to (months, days, nanoseconds); an infinite interval
    keeps PostgreSQL's extreme field values."""
    if v in (INTERVAL_POS_INF, INTERVAL_NEG_INF):
        return v
    return v[0], v[1], v[2] * 1000


def _mdn(v: tuple[int, int, int]) -> Any:
    import pyarrow as pa

    return pa.MonthDayNano(list(_nanos(v)))


def _text_of(v: Any, t: PgType) -> str:
    """A canonical value back to text, for the kinds kept as text in Arrow."""
    if isinstance(v, str):
        return v
    if isinstance(v, Decimal):  # numeric_out's form: never an exponent, zeros kept
        return format(v, "f")
    return str(v)


def record_batches(decoder_: ArrowDecoder, batches: Iterator[RowBatch],
                   on_rows: Callable[[int], None] | None = None) -> Iterator[Any]:
    """Each batch of rows decoded to an Arrow record batch, ``on_rows`` told how many rows
    each had (for progress)."""
    for b in batches:
        rb = decoder_.batch(b)
        if on_rows is not None:
            on_rows(b.rows)
        yield rb
