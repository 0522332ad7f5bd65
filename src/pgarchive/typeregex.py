"""One regular expression per table that accepts whole batches of COPY rows whose values
certainly parse as their columns' types: ``verify --types``' fastest path.

Each pattern is a subset of what :mod:`pgarchive.values` accepts, never more: the forms
pg_dump writes (``2024-01-31 12:00:00+00``, ``-12``, ``0.1429``, ``1.5e-07``, ``t``...)
with bounds tight enough that no range check can fail (integers below their limits'
first digit, years 0001-9999 with the days of each month and February 29 in leap years
only, hours below 24, offsets up to 15 hours, as many digits as numeric(p,s) holds).  A
value outside its pattern is not wrong: the batch then takes the slower paths, which
decide and name each bad value.  So a match skips work and changes no outcome, and a form
the patterns do not know only costs time.

The patterns work on the raw bytes of COPY text (escapes not undone: a value with a
backslash, other than NULL's ``\\N`` and a hex bytea's doubled one, is left to the slow
paths) in the syntax common to RE2 and Python's ``re``.  RE2 runs them (pyarrow's
``match_substring_regex``: one DFA pass over a whole batch, ~0.5 GB/s of CPU, where the
Arrow path's CSV reader and checks take ~0.15); the tests check them with ``re`` against
the exact parsers.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from .coltypes import INT_RANGES, PgType

NULL = r"\\N"
ANY_TEXT = r"[^\t\n]*"
#: Text that is valid UTF-8 (what ``bytes.decode`` accepts: no overlong form, surrogate
#: or code point past U+10FFFF) and holds no octal or hex escape (which pg_dump never
#: writes, and which could make a byte that is not): where a batch is UTF-8, this
#: pattern also does the whole-batch decode and the look for escapes of high bytes.
UTF8_TEXT = (r"(?:[\x00-\x08\x0b-\x5b\x5d-\x7f]|\\[^\x00-\x1f0-7x\x7f-\xff]"
             r"|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]"
             r"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
             r"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
             r"|\xf4[\x80-\x8f][\x80-\xbf]{2})*")
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
              r"|(?:0[13578]|1[02])-31)")
DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
ZONE = r"[+-](?:0[0-9]|1[0-5])(?::[0-5][0-9](?::[0-5][0-9])?)?"
_INFINITE = r"|-?infinity"
_FLOAT_WORDS = r"|NaN|-?Infinity"


def _float(positive_exponent: str) -> str:
    """float4out's and float8out's forms: plain up to 17 digits before the point, else
    d.ddde+NN, with ``positive_exponent`` the exponents above zero the type reaches."""
    return (r"-?(?:[0-9]{1,20}(?:\.[0-9]+)?|[0-9](?:\.[0-9]+)?e(?:-[0-9]{1,3}"
            rf"|\+{positive_exponent}))")


_FLOAT8 = _float(r"[0-9]{1,2}")
_FLOAT4 = _float(r"(?:[0-2]?[0-9]|3[0-7])")  # its largest is 3.4e38: up to +37 only
_Y = r"[+-]?[0-9]{1,7} years?"
_M = r"[+-]?[0-9]{1,7} mons?"
_D = r"[+-]?[0-9]{1,9} days?"
_T = r"[+-]?[0-9]{1,9}:[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
#: IntervalStyle postgres: ``1 year 2 mons -3 days +04:05:06.5``, fields in that order
INTERVAL = (rf"{_Y}(?: {_M})?(?: {_D})?(?: {_T})?|{_M}(?: {_D})?(?: {_T})?|{_D}(?: {_T})?"
            rf"|{_T}|-?infinity")


def _integer(limit: int) -> str:
    """An integer in [-limit, limit) as int2/4/8 out writes it: any number of one digit
    fewer than ``limit`` has, and ones as long whose first digit is below ``limit``'s (up
    to 29999, 1999999999, 8999999999999999999; the rest of the range takes the slow
    paths).  Digit by digit to the limit, an int8's pattern compiles ~9 times slower,
    and RE2 compiles the row pattern again for every batch."""
    s = str(limit)
    first = int(s[0]) - 1
    top = "1" if first == 1 else f"[1-{first}]"
    return f"-?(?:[0-9]{{1,{len(s) - 1}}}|{top}[0-9]{{{len(s) - 1}}})"


_SIMPLE = {
    **{k: _integer(limit) for k, limit in INT_RANGES.items()},
    "float4": _FLOAT4 + _FLOAT_WORDS, "float8": _FLOAT8 + _FLOAT_WORDS, "bool": r"[tf]",
    "date": DATE + _INFINITE, "time": TIME, "timetz": TIME + ZONE,
    "timestamp": f"{DATE} {TIME}{_INFINITE}", "timestamptz": f"{DATE} {TIME}{ZONE}{_INFINITE}",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "interval": INTERVAL,
    # bytea_output hex, its backslash doubled by COPY: \\x then whole bytes
    "bytea": r"\\\\x(?:[0-9a-f]{2})*",
}
#: RE2 compiles the row pattern for every batch (~0.2 us a character) and its DFA outgrows
#: its memory for wide rows: measured on 1 MB batches, the pattern of 200 columns (36,000
#: characters) still checks a batch in half the Arrow path's time, that of 400 in twice
#: its time.  Longer row patterns are not used.
MAX_PATTERN = 32_000
#: digits a numeric pattern spells out at most on either side of the point (RE2's
#: repeat counts stop at 1000; longer values take the slow paths)
_MAX_DIGITS = 100
#: characters COPY TO writes as escapes: labels holding one are left to the slow paths
_ESCAPED = frozenset("\\\b\f\n\r\t\v")


def value_pattern(t: PgType, codec: str) -> str | None:
    """The pattern of a non-NULL value of type ``t`` as COPY text in ``codec``, or None
    where there is none (json, arrays, composites, unchecked types...)."""
    k = t.kind
    if k in _SIMPLE:
        return _SIMPLE[k]
    if k == "numeric":
        return _numeric(t)
    if k == "enum":
        labels = [_literal(s, codec) for s in t.labels]
        usable = [s for s in labels if s is not None]
        return "|".join(usable) if usable else None
    return None


def _numeric(t: PgType) -> str | None:
    if t.precision is None:  # unconstrained: any size, infinities allowed
        return r"-?[0-9]+(?:\.[0-9]+)?" + _FLOAT_WORDS
    p, s = t.precision, t.scale or 0
    if not 0 <= s <= p:  # a negative scale, or one past the precision (PostgreSQL 15+)
        return None
    whole = f"[0-9]{{1,{min(p - s, _MAX_DIGITS)}}}" if p > s else "0"
    part = rf"(?:\.[0-9]{{1,{min(s, _MAX_DIGITS)}}})?" if s else ""
    return rf"-?{whole}{part}|NaN"


def _literal(label: str, codec: str) -> str | None:
    """An enum label as the bytes COPY writes for it, escaped for the pattern; None when
    COPY escapes one of its characters or the codec cannot write it."""
    if _ESCAPED.intersection(label):
        return None
    try:
        raw = label.encode(codec)
        if raw.decode(codec) != label:
            return None
    except (UnicodeError, LookupError):
        return None
    return "".join(chr(b) if chr(b).isalnum() and b < 0x80 else f"\\x{b:02x}" for b in raw)


def row_pattern(types: Sequence[PgType | None], codec: str, text: str = ANY_TEXT
                ) -> tuple[str, frozenset[int]]:
    """The pattern of one row (its newline included) of columns of these types (None: not
    checked), and the positions of the columns it checks; the others match ``text``."""
    parts = []
    covered = set()
    for i, t in enumerate(types):
        p = None if t is None else value_pattern(t, codec)
        if p is None:
            parts.append(text)
        else:
            parts.append(f"(?:{p}|{NULL})")
            covered.add(i)
    return r"\t".join(parts) + r"\n", frozenset(covered)


class BatchMatcher:
    """Whether a whole batch of rows matches a row pattern repeated (RE2, via pyarrow)."""

    def __init__(self, row: str) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self._pa, self._pc = pa, pc
        self._options = pc.MatchSubstringOptions(rf"\A(?:{row})*\z")

    def matches(self, data: bytes) -> bool:
        """True when every row of ``data`` (whole rows) matches; the batch is not copied.
        Raises pyarrow.ArrowInvalid when RE2 cannot compile the pattern."""
        pa = self._pa
        offsets = pa.py_buffer(struct.pack("<qq", 0, len(data)))
        arr: Any = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets,
                                                                 pa.py_buffer(data)])
        out = self._pc.call_function("match_substring_regex", [arr], self._options)
        return bool(out[0].as_py())
