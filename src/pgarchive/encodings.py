"""PostgreSQL encoding names, as the ENCODING entry states them, mapped to Python codecs."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import Any

# Server and client encodings of PostgreSQL whose Python codec is an exact match.
_PG_TO_PYTHON = {
    "UTF8": "utf-8",
    "SQL_ASCII": "utf-8",  # any bytes: kept as they are through surrogateescape
    "LATIN1": "latin-1", "LATIN2": "iso8859-2", "LATIN3": "iso8859-3",
    "LATIN4": "iso8859-4", "LATIN5": "iso8859-9", "LATIN6": "iso8859-10",
    "LATIN7": "iso8859-13", "LATIN8": "iso8859-14", "LATIN9": "iso8859-15",
    "LATIN10": "iso8859-16", "ISO_8859_5": "iso8859-5", "ISO_8859_6": "iso8859-6",
    "ISO_8859_7": "iso8859-7", "ISO_8859_8": "iso8859-8",
    "WIN866": "cp866", "WIN874": "cp874", "WIN1250": "cp1250", "WIN1251": "cp1251",
    "WIN1252": "cp1252", "WIN1253": "cp1253", "WIN1254": "cp1254", "WIN1255": "cp1255",
    "WIN1256": "cp1256", "WIN1257": "cp1257", "WIN1258": "cp1258",
    "KOI8R": "koi8-r", "KOI8U": "koi8-u",
    "EUC_JP": "euc_jp", "EUC_CN": "gb2312", "EUC_KR": "euc_kr", "EUC_JIS_2004": "euc_jis_2004",
    "SJIS": "shift_jis", "SHIFT_JIS_2004": "shift_jis_2004", "BIG5": "big5", "GBK": "gbk",
    "GB18030": "gb18030", "UHC": "cp949", "JOHAB": "johab",
}


def encoding_name(defn: str) -> str:
    """The encoding named by an ENCODING entry's defn (the text between the first quotes)."""
    first = defn.find("'")
    second = defn.find("'", first + 1) if first >= 0 else -1
    return defn[first + 1:second] if second > first else ""


def python_codec(defn: str) -> str:
    """The Python codec for an ENCODING entry; UTF-8 (with surrogateescape) when unknown."""
    codec = _PG_TO_PYTHON.get(encoding_name(defn).upper(), "utf-8")
    try:
        codecs.lookup(codec)
    except LookupError:  # pragma: no cover - all names above exist in CPython
        return "utf-8"
    return codec


def is_sql_ascii(entries: Iterable[Any]) -> bool:
    """True when the archive's ENCODING entry says SQL_ASCII: its text may hold any bytes."""
    for e in entries:
        if e.desc == "ENCODING":
            return encoding_name(e.defn or "").upper() == "SQL_ASCII"
    return False
