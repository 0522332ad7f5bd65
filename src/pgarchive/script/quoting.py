"""pg_restore's quoting rules, byte for byte: fmtId, fmtQualifiedId, string and bytea
literals, the psql ``\\connect`` line and sanitize_line.

These follow PostgreSQL 18's ``src/fe_utils/string_utils.c`` and
``src/bin/pg_dump/dumputils.c``.  Text is handled as ``str`` decoded from the archive with
its codec and ``surrogateescape``: a byte the codec could not decode is a lone surrogate,
which is what PostgreSQL calls an invalid multibyte character in a multibyte encoding.
"""

from __future__ import annotations

import re
from typing import Final

from ..errors import UsageError
from .keywords import QUOTED_KEYWORDS

_KEYWORDS: Final = QUOTED_KEYWORDS  # (Final: compiled, a constant, not a global's lookup)

#: Server encodings whose characters can take more than one byte (pg_encoding_max_length
#: > 1): there an undecodable byte is replaced, as pg_encoding_set_invalid() does.
MULTIBYTE = frozenset({"UTF8", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004",
                       "MULE_INTERNAL"})

_SURROGATE = re.compile(r"[\udc80-\udcff]")  # re reads the escapes (mypyc refuses
#                                               surrogates in literals)
# pg_encoding_set_invalid(): 0xC0 0x20 in UTF-8, 0x8D 0x20 elsewhere (as surrogate-escaped
# text, so that encoding the script gives exactly those bytes).
_INVALID = {True: chr(0xDCC0) + " ", False: chr(0xDC8D) + " "}


def _fix_invalid(text: str, encoding: str) -> str:
    if encoding not in MULTIBYTE or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(_INVALID[encoding == "UTF8"], text)


def _plain_id(name: str) -> bool:
    """``[a-z_][a-z0-9_]*``, one character at a time (compiled, a loop over the name is a
    tenth of a regular expression's call into re, or of str methods called by name)."""
    if not name or 48 <= ord(name[0]) <= 57:  # (ord: compiled, no string comparison)
        return False
    for ch in name:
        c = ord(ch)
        if not (97 <= c <= 122 or 48 <= c <= 57 or c == 95):  # a-z 0-9 _
            return False
    return True


def fmt_id(name: str, encoding: str = "UTF8") -> str:
    """fmtId(): the name as is when it is a plain lower-case identifier and not a keyword
    that needs quoting, else double-quoted with ``"`` doubled."""
    if _plain_id(name) and name not in _KEYWORDS:
        return name
    return '"' + _fix_invalid(name, encoding).replace('"', '""') + '"'


def fmt_qualified_id(schema: str | None, name: str, encoding: str = "UTF8") -> str:
    """fmtQualifiedId(): ``schema.name``, the schema left out when NULL or empty."""
    if schema:
        return fmt_id(schema, encoding) + "." + fmt_id(name, encoding)
    return fmt_id(name, encoding)


def string_literal(text: str, encoding: str, std_strings: bool) -> str:
    """appendStringLiteral(): single quotes doubled, and backslashes too when
    standard_conforming_strings is off."""
    body = _fix_invalid(text, encoding).replace("'", "''")
    if not std_strings:
        body = body.replace("\\", "\\\\")
    return "'" + body + "'"


def bytea_literal(data: bytes, std_strings: bool) -> str:
    """appendByteaLiteral(): hex format, ``'\\x...'`` (``'\\\\x...'`` without standard
    conforming strings)."""
    return ("'\\x" if std_strings else "'\\\\x") + data.hex() + "'"


_CONNSTR_PLAIN = re.compile(r"[A-Za-z0-9_.]+\Z")


def conn_str_val(value: str) -> str:
    """appendConnStrVal(): a libpq connection-string value, quoted unless plain."""
    if _CONNSTR_PLAIN.match(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def psql_connect(dbname: str) -> str:
    """appendPsqlMetaConnect(): the ``\\connect`` line(s) psql needs to reach ``dbname``."""
    if "\n" in dbname or "\r" in dbname:
        raise UsageError(f'database name contains a newline or carriage return: "{dbname}"')
    if _CONNSTR_PLAIN.match(dbname):
        return "\\connect " + fmt_id(dbname, "SQL_ASCII") + "\n"
    return ("\\encoding SQL_ASCII\n\\connect -reuse-previous=on "
            + fmt_id("dbname=" + conn_str_val(dbname), "SQL_ASCII") + "\n")


_LINE_BREAKS: Final = str.maketrans({"\n": " ", "\r": " "})


def sanitize_line(text: str | None, want_hyphen: bool) -> str:
    """sanitize_line(): CR and LF become spaces; NULL becomes ``-`` or nothing."""
    if text is None:
        return "-" if want_hyphen else ""
    if "\n" not in text and "\r" not in text:  # nearly always: translate is ~10x slower
        return text
    return text.translate(_LINE_BREAKS)
