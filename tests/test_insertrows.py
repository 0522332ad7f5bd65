"""INSERT-style table data (pg_dump --inserts, --column-inserts, --rows-per-insert): rows
counted, each statement an INSERT into the entry's table ending with its ';' -- also in the
middle of the data, where a missing ';' makes the server reject two statements' rows."""

from __future__ import annotations

import pytest

from pgarchive.insertrows import InsertChecker

ROWS_PER_INSERT = (b"INSERT INTO public.t VALUES\n\t(1, 'a;b'),\n\t(2, 'c''d');\n"
                   b"INSERT INTO public.t VALUES\n\t(3, NULL);\n")


def check(data: bytes, cut: int) -> InsertChecker:
    c = InsertChecker("public", "t")
    for i in range(0, len(data), cut):
        c.feed(data[i:i + cut])
    c.finish()
    return c


@pytest.mark.parametrize("cut", [1, 2, 3, 7, 1000])
def test_rows_per_insert_counts_rows(cut: int) -> None:
    c = check(ROWS_PER_INSERT, cut)
    assert not c.findings and c.rows == 3


@pytest.mark.parametrize("cut", [1, 5, 1000])
def test_a_missing_semicolon_between_statements_is_damage(cut: int) -> None:
    data = (b"INSERT INTO public.t VALUES (1, 'x');\n"
            b"INSERT INTO public.t VALUES (2, 'y') \n"  # its ';' became a space
            b"INSERT INTO public.t VALUES (3, 'z');\n")
    c = check(data, cut)
    assert [f.message for f in c.findings] == [
        "text between the rows of an INSERT statement (is the ';' before it missing?)"]
    assert c.findings[0].offset == data.index(b"INSERT", 40)
