"""Typed decoding of COPY text values, exactly as PostgreSQL reads them (pure: bytes in,
Python values out).  The exact path: export falls back to it where the vectorised one
(:mod:`pgarchive.export.arrowbatch`) cannot decide, and ``verify --types`` uses it to say
which row and column is wrong.

De-escaping follows COPY FROM (``CopyReadAttributesText``): ``\\N`` alone is NULL;
``\\b \\f \\n \\r \\t \\v``, 1-3 octal digits and ``\\x`` with 1-2 hex digits give bytes; a
backslash before anything else gives that character.  The value parsers accept the forms
PostgreSQL writes with pg_dump's settings (DateStyle ISO, IntervalStyle postgres) and the
common input variants; each raises ValueError saying what is wrong.

Values are returned in one canonical form per kind: int, float, Decimal (numeric; NaN and
infinities as Decimal too), bool, str, bytes (bytea), epoch days (date), epoch microseconds
(timestamp, timestamptz in UTC), microseconds since midnight (time), ``(months, days,
microseconds)`` (interval), nested lists (arrays).  Infinite dates and timestamps are
``POS_INF``/``NEG_INF`` of their integer type, as DuckDB and Arrow consumers expect.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from .coltypes import INT_RANGES, PgType

NULL = b"\\N"
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.)|\Z)", re.DOTALL)
_SIMPLE = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}

#: Infinite dates and timestamps: the extremes DuckDB uses for them.
TS_POS_INF, TS_NEG_INF = (1 << 63) - 1, -((1 << 63) - 1)
DATE_POS_INF, DATE_NEG_INF = (1 << 31) - 1, -((1 << 31) - 1)
#: An infinite interval (PostgreSQL 17): the fields PostgreSQL itself stores for it.
INTERVAL_POS_INF = ((1 << 31) - 1, (1 << 31) - 1, (1 << 63) - 1)
INTERVAL_NEG_INF = (-(1 << 31), -(1 << 31), -(1 << 63))
_US = 1_000_000
_DAY_US = 86_400 * _US
#: PostgreSQL's limits (days since 1970): from 4713-11-24 BC, timestamps before 294277-01-01,
#: dates before 5874898-01-01.
_MIN_DAY, _END_TS_DAY, _END_DATE_DAY = -2_440_588, 106_762_940, 2_145_042_906


def _escape_sub(m: re.Match[bytes]) -> bytes:
    octal, hexa, other = m.group(1), m.group(2), m.group(3)
    if octal is not None:
        return bytes([int(octal, 8) & 0xFF])
    if hexa is not None:
        return bytes([int(hexa, 16)])
    if other is None:
        raise ValueError("value ends with a lone backslash")
    return _SIMPLE.get(other, other)


def unescape(field: bytes) -> bytes:
    """A COPY text field (not ``\\N``) as the bytes the server stores."""
    if b"\\" not in field:
        return field
    return _ESCAPE.sub(_escape_sub, field)


def split_row(line: bytes) -> list[bytes | None]:
    """One COPY text row (no newline) into de-escaped fields, None for NULL."""
    return [None if f == NULL else unescape(f) for f in line.split(b"\t")]


# --- calendar ------------------------------------------------------------------------


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering)."""
    y -= m <= 2
    era = y // 400  # floor division: no adjustment for negative years as in C
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DATE = r"(\d{4,})-(\d\d)-(\d\d)"
_TIME = r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
_ZONE = r"([+-])(\d\d)(?::?(\d\d)(?::(\d\d))?)?"
_DATE_RE = re.compile(_DATE + r"( BC)?")
_TS_RE = re.compile(_DATE + r"[ T]" + _TIME + r"( BC)?")
_TSTZ_RE = re.compile(_DATE + r"[ T]" + _TIME + r"(?:" + _ZONE + r"|(Z))( BC)?")
_TIME_RE = re.compile(_TIME)
_TIMETZ_RE = re.compile(_TIME + _ZONE)


def _day(y: str, mo: str, d: str, bc: str | None) -> int:
    year, month, day = int(y), int(mo), int(d)
    if year == 0:
        raise ValueError("year 0 does not exist")
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range")
    limit = 29 if month == 2 and _leap(1 - year if bc else year) else _MONTH_DAYS[month - 1]
    if not 1 <= day <= limit:
        raise ValueError(f"day {day} out of range for month {month}")
    return days_from_civil(1 - year if bc else year, month, day)


def _clock(h: str, mi: str, s: str, frac: str | None) -> int:
    hour, minute, sec = int(h), int(mi), int(s)
    if minute > 59 or sec > 60 or hour > 24 or (hour == 24 and (minute or sec or (frac and
                                                                 int(frac)))):
        raise ValueError("time of day out of range")
    return ((hour * 60 + minute) * 60 + sec) * _US + (int(frac.ljust(6, "0")) if frac else 0)


def _offset(sign: str, h: str, m: str | None, s: str | None) -> int:
    secs = int(h) * 3600 + int(m or 0) * 60 + int(s or 0)
    if int(h) > 15 or int(m or 0) > 59 or int(s or 0) > 59:
        raise ValueError("time zone offset out of range")
    return (secs if sign == "+" else -secs) * _US


def _infinity(text: str, pos: int, neg: int) -> int | None:
    if text in ("infinity", "+infinity"):
        return pos
    if text == "-infinity":
        return neg
    return None


def parse_date(text: str) -> int:
    """A date as epoch days (infinities as POS_INF/NEG_INF); ValueError when not a date."""
    inf = _infinity(text, DATE_POS_INF, DATE_NEG_INF)
    if inf is not None:
        return inf
    m = _DATE_RE.fullmatch(text)
    if m is None:
        raise ValueError("not a date")
    day = _day(*m.groups())
    if not _MIN_DAY <= day < _END_DATE_DAY:
        raise ValueError("date out of range")
    return day


def _timestamp(day: int, us: int) -> int:
    value = day * _DAY_US + us
    if not _MIN_DAY * _DAY_US <= value < _END_TS_DAY * _DAY_US:
        raise ValueError("timestamp out of range")
    return value


def parse_timestamp(text: str) -> int:
    """A timestamp as epoch microseconds; ValueError when not one or out of range."""
    inf = _infinity(text, TS_POS_INF, TS_NEG_INF)
    if inf is not None:
        return inf
    m = _TS_RE.fullmatch(text)
    if m is None:
        raise ValueError("not a timestamp")
    g = m.groups()
    return _timestamp(_day(g[0], g[1], g[2], g[7]), _clock(g[3], g[4], g[5], g[6]))


def parse_timestamptz(text: str) -> int:
    """Microseconds since the epoch in UTC (the offset PostgreSQL wrote is applied)."""
    inf = _infinity(text, TS_POS_INF, TS_NEG_INF)
    if inf is not None:
        return inf
    m = _TSTZ_RE.fullmatch(text)
    if m is None:
        raise ValueError("not a timestamp with time zone")
    g = m.groups()
    off = 0 if g[11] else _offset(g[7], g[8], g[9], g[10])
    return _timestamp(_day(g[0], g[1], g[2], g[12]), _clock(g[3], g[4], g[5], g[6]) - off)


def parse_time(text: str) -> int:
    """A time of day as microseconds since midnight."""
    m = _TIME_RE.fullmatch(text)
    if m is None:
        raise ValueError("not a time")
    return _clock(*m.groups())


def parse_timetz(text: str) -> str:
    """A time with time zone, checked and kept as text (Arrow has no such type)."""
    m = _TIMETZ_RE.fullmatch(text)
    if m is None:
        raise ValueError("not a time with time zone")
    g = m.groups()
    _clock(g[0], g[1], g[2], g[3])
    _offset(g[4], g[5], g[6], g[7])
    return text


_INTERVAL_RE = re.compile(
    r"(?:([+-]?\d+) years? ?)?(?:([+-]?\d+) mons? ?)?(?:([+-]?\d+) days? ?)?"
    r"(?:([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?")


def parse_interval(text: str) -> tuple[int, int, int]:
    """``(months, days, microseconds)`` of an interval in IntervalStyle postgres."""
    if text == "infinity":
        return INTERVAL_POS_INF
    if text == "-infinity":
        return INTERVAL_NEG_INF
    m = _INTERVAL_RE.fullmatch(text)
    if m is None or not text or text.endswith(" "):
        raise ValueError("not an interval")
    y, mo, d, sign, h, mi, s, frac = m.groups()
    months = int(y or 0) * 12 + int(mo or 0)
    days = int(d or 0)
    us = 0
    if h is not None:
        if int(mi) > 59 or int(s) > 59:
            raise ValueError("interval time field out of range")
        us = (int(h) * 3600 + int(mi) * 60 + int(s)) * _US + (
            int(frac.ljust(6, "0")) if frac else 0)
        us = -us if sign == "-" else us
    if not (-(1 << 31) <= months < (1 << 31) and -(1 << 31) <= days < (1 << 31)
            and -(1 << 63) <= us < (1 << 63)):
        raise ValueError("interval out of range")
    return months, days, us


# --- numbers, booleans and the rest --------------------------------------------------

_INT_RE = re.compile(r"\s*[+-]?\d+\s*")
_NUMERIC_RE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_FLOAT_WORDS = {"nan", "infinity", "+infinity", "-infinity", "inf", "+inf", "-inf"}
_NUMERIC_WORDS = {"nan": "NaN", "infinity": "Infinity", "+infinity": "Infinity",
                  "-infinity": "-Infinity", "inf": "Infinity", "+inf": "Infinity",
                  "-inf": "-Infinity"}
_BOOL = {"t": True, "true": True, "yes": True, "on": True, "1": True,
         "f": False, "false": False, "no": False, "off": False, "0": False}
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX_RE = re.compile(r"\\x([0-9a-fA-F\s]*)")
_BYTEA_ESCAPE = re.compile(r"\\(\\|[0-3][0-7]{2})")


def parse_int(text: str, kind: str) -> int:
    """An integer of the given kind (int2, int4, int8), refused outside its range."""
    if _INT_RE.fullmatch(text) is None:
        raise ValueError(f"not an integer ({kind})")
    value = int(text)
    limit = INT_RANGES[kind]
    if not -limit <= value < limit:
        raise ValueError(f"out of range for {kind}")
    return value


def parse_float(text: str, kind: str) -> float:
    """A float4 or float8, with PostgreSQL's words for NaN and infinities."""
    word = text.strip().lower()
    if word in _FLOAT_WORDS:
        return float(word.replace("infinity", "inf"))
    if _NUMERIC_RE.fullmatch(text) is None:
        raise ValueError(f"not a number ({kind})")
    value = float(text)
    if math.isinf(value) or (kind == "float4" and abs(value) > 3.4028235677973366e38):
        raise ValueError(f"out of range for {kind}")
    return value


def parse_numeric(text: str, t: PgType) -> Decimal:
    """A numeric as a Decimal, rounded to the column's declared scale and refused past its
    precision, as PostgreSQL stores it."""
    word = text.strip().lower()
    if word in _NUMERIC_WORDS:
        if word != "nan" and t.precision is not None:
            raise ValueError("infinity in a numeric with a precision")
        return Decimal(_NUMERIC_WORDS[word])
    if _NUMERIC_RE.fullmatch(text) is None:
        raise ValueError("not a numeric")
    value = Decimal(text.strip())
    if t.precision is not None:
        scale = t.scale or 0
        try:
            value = value.quantize(Decimal(1).scaleb(-scale))
        except InvalidOperation:
            raise ValueError(f"out of range for numeric({t.precision},{scale})") from None
        digits = len(value.as_tuple().digits) if value else 0
        if digits > t.precision or value.adjusted() >= t.precision - scale:
            raise ValueError(f"out of range for numeric({t.precision},{scale})")
    return value


def parse_bool(text: str) -> bool:
    """A boolean in the forms PostgreSQL accepts (t, true, yes, on, 1 and their opposites)."""
    value = _BOOL.get(text.strip().lower())
    if value is None:
        raise ValueError("not a boolean")
    return value


def parse_uuid(text: str) -> str:
    """A uuid in its canonical form (PostgreSQL also reads braces and missing hyphens)."""
    if _UUID_RE.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValueError("not a uuid") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> str:
    """The JSON text itself, once it is known to be JSON."""
    try:
        json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ValueError("not valid JSON") from None
    return text


def parse_bytea(text: str) -> bytes:
    """A bytea's bytes, from the hex form or the escape form."""
    m = _HEX_RE.fullmatch(text)
    if m is not None:
        try:
            return bytes.fromhex(m.group(1))
        except ValueError:
            raise ValueError("invalid hexadecimal bytea") from None
    # bytea_output = escape: \\ and \ooo, everything else as it is.
    if "\\" in _BYTEA_ESCAPE.sub("", text):
        raise ValueError("invalid escape in bytea")
    raw = text.encode("latin-1", "replace")
    return re.sub(rb"\\(\\|[0-3][0-7]{2})",
                  lambda mm: b"\\" if mm.group(1) == b"\\" else bytes([int(mm.group(1), 8)]),
                  raw)


# --- arrays ----------------------------------------------------------------------------


def parse_array(text: str, delim: str = ",") -> list[Any]:
    """An array literal as array_out writes it into nested lists of str (None for NULL)."""
    pos = 0
    if text.startswith("["):  # explicit bounds: [1:2]={...}
        eq = text.find("=")
        if eq < 0 or re.fullmatch(r"(\[-?\d+:-?\d+\])+", text[:eq]) is None:
            raise ValueError("malformed array bounds")
        pos = eq + 1
    value, pos = _array_at(text, pos, delim, 0)
    if text[pos:].strip():
        raise ValueError("junk after the closing brace of an array")
    return value


def _array_at(text: str, pos: int, delim: str, depth: int) -> tuple[list[Any], int]:
    if depth > 6 or pos >= len(text) or text[pos] != "{":
        raise ValueError("malformed array literal")
    out: list[Any] = []
    pos += 1
    n = len(text)
    if text.startswith("}", pos):
        return out, pos + 1
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise ValueError("unterminated array literal")
        ch = text[pos]
        if ch == "{":
            sub, pos = _array_at(text, pos, delim, depth + 1)
            out.append(sub)
        elif ch == '"':
            buf = []
            pos += 1
            while True:
                if pos >= n:
                    raise ValueError("unterminated quoted array element")
                c = text[pos]
                if c == "\\":
                    if pos + 1 >= n:
                        raise ValueError("unterminated quoted array element")
                    buf.append(text[pos + 1])
                    pos += 2
                elif c == '"':
                    pos += 1
                    break
                else:
                    buf.append(c)
                    pos += 1
            out.append("".join(buf))
        else:
            start = pos
            buf = []
            while pos < n and text[pos] not in (delim, "}"):
                c = text[pos]
                if c in '{"':
                    raise ValueError("unexpected character in array element")
                if c == "\\":
                    if pos + 1 >= n:
                        raise ValueError("unterminated array element")
                    buf.append(text[pos + 1])
                    pos += 2
                else:
                    buf.append(c)
                    pos += 1
            raw = text[start:pos].strip()
            item = "".join(buf).strip()
            out.append(None if raw.upper() == "NULL" else item)
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise ValueError("unterminated array literal")
        if text[pos] == "}":
            return out, pos + 1
        if text[pos] != delim:
            raise ValueError("malformed array literal")
        pos += 1


# --- one decoder per column type -------------------------------------------------------

Decoder = Callable[[bytes], Any]


def lenient_text(codec: str) -> Callable[[bytes], str]:
    """A decoder that never fails: bad bytes become U+FFFD (for SQL_ASCII archives)."""
    def dec(raw: bytes) -> str:
        return raw.decode(codec, "replace")
    return dec


def strict_text(codec: str) -> Callable[[bytes], str]:
    """Text that must be valid in the archive's encoding (what COPY FROM checks)."""
    codec = codec or "utf-8"

    def dec(raw: bytes) -> str:
        try:
            return raw.decode(codec)
        except UnicodeDecodeError as e:
            raise ValueError(f"invalid byte sequence for encoding {codec} at byte "
                             f"{e.start}") from None
    return dec


def _str_parser(t: PgType) -> Callable[[str], Any]:
    """The parser of one value's text for a type kind (arrays by element)."""
    k = t.kind
    if k in INT_RANGES:
        return lambda s: parse_int(s, k)
    if k in ("float4", "float8"):
        return lambda s: parse_float(s, k)
    if k == "numeric":
        return lambda s: parse_numeric(s, t)
    if k == "enum":
        labels = frozenset(t.labels)

        def enum(s: str) -> str:
            if s not in labels:
                raise ValueError(f"not a label of enum {t.name}")
            return s
        return enum
    simple: dict[str, Callable[[str], Any]] = {
        "bool": parse_bool, "date": parse_date, "timestamp": parse_timestamp,
        "timestamptz": parse_timestamptz, "time": parse_time, "timetz": parse_timetz,
        "interval": parse_interval, "uuid": parse_uuid, "json": parse_json,
        "jsonb": parse_json, "bytea": parse_bytea,
    }
    if k in simple:
        return simple[k]
    if k == "array":
        assert t.element is not None
        inner = _str_parser(t.element)
        delim = ";" if t.element.name in ("box", "pg_catalog.box") else ","

        def arr(s: str) -> list[Any]:
            return _map_nested(parse_array(s, delim), inner)
        return arr
    return lambda s: s


def _map_nested(items: list[Any], fn: Callable[[str], Any]) -> list[Any]:
    return [None if x is None else _map_nested(x, fn) if isinstance(x, list) else fn(x)
            for x in items]


def decoder(t: PgType, codec: str, strict: bool = True) -> Decoder:
    """The function that turns one de-escaped value of type ``t`` into its canonical value;
    it raises ValueError for a value PostgreSQL would not read as that type.  ``strict``
    False: bytes not valid in ``codec`` become U+FFFD (SQL_ASCII databases hold any)."""
    text = strict_text(codec) if strict else lenient_text(codec)
    parse = _str_parser(t)

    def dec(raw: bytes) -> Any:
        return parse(text(raw))
    return dec


#: Kinds whose values verify --types checks (everything else is only checked for encoding).
CHECKED_KINDS = frozenset({"int2", "int4", "int8", "float4", "float8", "numeric", "bool",
                           "date", "timestamp", "timestamptz", "time", "timetz", "interval",
                           "uuid", "json", "jsonb", "bytea", "enum"})


def is_checked(t: PgType) -> bool:
    """Whether verify --types checks the values of this type (after domains are resolved)."""
    return t.base.kind in CHECKED_KINDS
