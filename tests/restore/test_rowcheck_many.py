"""The post-restore row count over more tables than one query's select list may hold
(1664): counted in batches, each table once, a real mismatch and a missing table (with
a name to quote) still told apart."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from engine_helpers import conninfo, drop_db, new_db, sql

from helpers import toc_entry
from pgarchive.restore import rowcheck


@pytest.mark.server
def test_row_counts_of_thousands_of_tables(engine_pg18: Any, monkeypatch: Any) -> None:
    n = 2000  # more than MaxTupleAttributeNumber, and several batches
    db = new_db(engine_pg18)
    sql(engine_pg18, db, f"CREATE SCHEMA s; DO $$ BEGIN FOR i IN 1..{n} LOOP EXECUTE "
        "format('CREATE TABLE s.t%s (a int)', i); END LOOP; END $$; "
        "INSERT INTO s.t7 VALUES (1), (2); INSERT INTO s.t1999 VALUES (1)")
    entries = [toc_entry(i, "TABLE DATA", f"t{i}") for i in range(1, n + 1)]
    entries.insert(5, toc_entry(n + 1, "TABLE DATA", 'gone "away"'))
    expected = {i: 0 for i in range(1, n + 2)} | {7: 2, 1999: 2}

    def no_fallback(*_: Any) -> Any:
        raise AssertionError("counted one by one: a batch failed")

    monkeypatch.setattr(rowcheck, "_one_by_one", no_fallback)
    with psycopg.connect(conninfo(engine_pg18, db), autocommit=True) as conn:
        checks = rowcheck.compare_rows(conn, entries, expected, {})
    assert len(checks) == n + 1
    bad = {c.entry.dump_id: (c.status, c.target_rows) for c in checks
           if c.status != rowcheck.MATCH}
    assert bad == {1999: (rowcheck.DIFFER, 1), n + 1: (rowcheck.MISSING, None)}
    drop_db(engine_pg18, db)
