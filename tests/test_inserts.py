"""INSERT-style table data (pg_dump --inserts / --column-inserts) as COPY text.  The real
archives' CSV is compared with the server's in tests/export/test_export_corpus.py; these
check the statement boundaries and each constant kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgarchive.errors import FormatError
from pgarchive.inserts import copy_text


def run(sql: bytes, pieces: int = 1, std: bool = True) -> bytes:
    size = max(1, len(sql) // pieces)
    chunks = [sql[i:i + size] for i in range(0, len(sql), size)]
    return b"".join(copy_text(chunks, "utf-8", std))


def literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def test_every_constant_kind() -> None:
    sql = (b"INSERT INTO public.t VALUES (0, -5, 12345678901, 1.50, -1.5e+30, true, false, "
           b"NULL, B'0101', 'NaN', '', DEFAULT);\n")
    assert run(sql) == b"0\t-5\t12345678901\t1.50\t-1.5e+30\tt\tf\t\\N\t0101\tNaN\t\n\\.\n"


def test_rows_per_insert_and_column_inserts() -> None:
    sql = (b'INSERT INTO "s".t (a, b) VALUES\n\t(1, \'x\'),\n\t(2, NULL);\n'
           b"INSERT INTO s.t (a, b) OVERRIDING SYSTEM VALUE VALUES (3, 'y');\n\n\n")
    assert run(sql) == b"1\tx\n2\t\\N\n3\ty\n\\.\n"


@pytest.mark.parametrize("pieces", [1, 3, 7, 50])
def test_literals_holding_statement_ends_across_pieces(pieces: int) -> None:
    value = "a');\nINSERT INTO t VALUES (9);\n\tb\\c\r"
    sql = f"INSERT INTO t VALUES (1, {literal(value)});\nINSERT INTO t VALUES (2, 'z');\n"
    assert run(sql.encode(), pieces) == b"1\ta');\\nINSERT INTO t VALUES (9);\\n\\tb\\\\c\\r\n" \
        b"2\tz\n\\.\n"


def test_standard_conforming_strings_off() -> None:
    """pg_dump doubled the backslashes (SET standard_conforming_strings = off)."""
    assert run(b"INSERT INTO t VALUES ('back\\\\slash');\n", std=False) == \
        b"back\\\\slash\n\\.\n"  # one backslash, escaped as COPY text escapes it
    assert run(b"INSERT INTO t VALUES ('back\\\\slash');\n", std=True) == \
        b"back\\\\\\\\slash\n\\.\n"


@pytest.mark.parametrize("sql, says", [
    (b"INSERT INTO t VALUES (1, 'unterminated);\n", "do not parse"),
    (b"DELETE FROM t;\n", "DeleteStmt"),
    (b"INSERT INTO t SELECT 1;\n", "without a VALUES list"),
    (b"INSERT INTO t VALUES (1 + 1);\n", "not a constant"),
])
def test_damage_is_a_format_error(sql: bytes, says: str) -> None:
    with pytest.raises(FormatError, match=says):
        run(sql)


@given(st.lists(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=4),
                min_size=1, max_size=6), st.integers(1, 40))
def test_any_text_round_trips(rows: list[list[str | None]], pieces: int) -> None:
    rows = [[None if v is None else v.replace("\x00", "") for v in r] for r in rows]
    sql = "".join("INSERT INTO t VALUES (" + ", ".join(
        "NULL" if v is None else literal(v) for v in r) + ");\n" for r in rows)
    esc = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                         "\f": "\\f", "\v": "\\v"})
    want = "".join("\t".join("\\N" if v is None else v.translate(esc) for v in r) + "\n"
                   for r in rows) + "\\.\n"
    assert run(sql.encode("utf-8", "surrogatepass"), pieces) == \
        want.encode("utf-8", "surrogatepass")
