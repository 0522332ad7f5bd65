"""verify's COPY text checks against the real PostgreSQL 18: what pg_restore loads, verify
passes with the rows the server holds; what the server rejects, verify reports.

The archives are built by the project's writer with COPY text pg_dump never writes (octal,
hex and redundant escapes, escaped tabs and newlines, raw carriage returns...) and
restored with pg_restore into a fresh database each.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from helpers import one_table_archive
from pgarchive.values import unescape
from pgarchive.verify import verify

_names = (f"copytext{i}" for i in itertools.count())


def archive(tmp: Path, rows: bytes) -> Path:
    """A custom archive of ``t (a text, b text)`` whose data is ``rows`` and the marker."""
    return one_table_archive(tmp / "a.dump", [("a", "text"), ("b", "text")], rows)


def restore(server: Any, path: Path) -> tuple[int, bytes, str]:
    """pg_restore into a new database: exit status, stderr, and the table as COPY text
    (the server's own escapes)."""
    db = next(_names)
    server.run(["createdb", "-T", "template0", "-E", "UTF8", db])
    res = subprocess.run([server.tool("pg_restore"), "-e", "-d", db, str(path)],
                         env=server.client_env(), capture_output=True)
    table = server.psql(db, "COPY (SELECT * FROM t ORDER BY a COLLATE \"C\") TO STDOUT") \
        if res.returncode == 0 else ""
    return res.returncode, res.stderr, table


ACCEPTED = [
    (b"\\101\\x42\tc\\d\n", 1),          # octal, hex and redundant escapes
    (b"\\1\\12\\123\t\\x4\\x41\n", 1),   # short octal and hex forms
    (b"\\e\\q\\:\\\\.\tz\n", 1),         # redundant escapes, an escaped backslash and dot
    (b"a\\\tb\tc\n", 1),                 # an escaped tab is data, not a separator
    (b"a\\\nb\tc\n", 1),                 # an escaped newline is data, not a row end
    (b"a\\\rb\tc\n", 1),                 # an escaped carriage return
    (b"\\303\\251t\\xc3\\xa9\tok\n", 1),  # UTF-8 é written as octal and hex bytes
    (b"\\x\\8\\9\tx\n", 1),              # \x without hex digits, \8 \9: the letters
]

REJECTED = [
    (b"a\tb\tc\n", "columns"),                  # too many columns
    (b"a\n", "columns"),                        # too few
    (b"a\\0\tb\n", "byte 0"),                   # escape for a zero byte
    (b"a\\x00\tb\n", "byte 0"),
    (b"a\\400\tb\n", "byte 0"),                 # 0o400 & 0xff
    (b"a\rb\tc\n", "carriage return"),          # a raw carriage return
    (b"a\x00b\tc\n", "zero byte"),              # a raw zero byte
    (b"a\\.\tb\n", "end-of-data marker"),       # the marker inside a row
    (b"x\ty\n\\.x\tb\n", "end-of-data marker"),  # the marker at a row's start, corrupt
]


@pytest.mark.parametrize("rows, count", ACCEPTED)
def test_what_postgresql_loads_verify_passes(pg18_server: Any, tmp_path: Path, rows: bytes,
                                             count: int) -> None:
    p = archive(tmp_path, rows)
    status, err, table = restore(pg18_server, p)
    assert status == 0, err
    report = verify(str(p))
    assert report.ok, [str(x) for x in report.all_problems()]
    assert report.total_rows == count == table.count("\n")
    # the values pgarchive reads are the server's
    assert sorted(values(rows)) == sorted(values(table.encode()))


_FIELD = re.compile(rb"(?:\\[\s\S]|[^\\\t\n])*")


def values(text: bytes) -> list[list[bytes]]:
    """Rows of COPY text (each ends with a newline) de-escaped, split as COPY FROM splits
    them (an escaped tab or newline is data)."""
    rows, row, pos = [], [], 0
    while pos < len(text):
        m = _FIELD.match(text, pos)
        assert m is not None
        row.append(unescape(m.group()))
        pos = m.end() + 1
        if text[m.end()] == 0x0A:
            rows.append(row)
            row = []
    return rows


@pytest.mark.parametrize("rows, words", REJECTED)
def test_what_postgresql_rejects_verify_reports(pg18_server: Any, tmp_path: Path, rows: bytes,
                                               words: str) -> None:
    p = archive(tmp_path, rows)
    status, err, _ = restore(pg18_server, p)
    assert status != 0 and b"COPY" in err, err
    report = verify(str(p))
    assert not report.ok
    messages = " ".join(str(x) for x in report.all_problems())
    assert words in messages, messages


@pytest.mark.parametrize("rows", [b"\\377\tx\n", b"\\xc3\tx\n", b"\xff\tx\n"])
def test_bad_encoding_is_a_type_problem(pg18_server: Any, tmp_path: Path, rows: bytes) -> None:
    """Invalid UTF-8, raw or by escape: the server rejects it, verify --types says so."""
    p = archive(tmp_path, rows)
    status, err, _ = restore(pg18_server, p)
    assert status != 0 and b"invalid byte sequence" in err, err
    report = verify(str(p), types=True)
    messages = " ".join(str(x) for x in report.all_problems())
    assert "invalid byte sequence" in messages, messages
