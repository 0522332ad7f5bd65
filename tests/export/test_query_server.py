"""query: SQL over the archive through DuckDB gives the same results as the same SQL on the
restored archive in a real PostgreSQL 18 (joins, aggregates, a filter on each type)."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from exportdata import EXPORT_INDEX, archive_of, restored, run_cli

import pgarchive
from pgarchive.export.query import run_query

QUERIES = [
    "SELECT count(*), count(t), count(DISTINCT t) FROM texts",
    "SELECT id FROM texts WHERE t = '' ORDER BY id",                       # empty, not NULL
    "SELECT id, length(t) FROM texts WHERE strpos(t, ',') > 0 OR strpos(t, '\"') > 0 "
    "ORDER BY id",
    "SELECT sum(i8), min(i2), max(i4), count(*) FROM numbers WHERE i4 > 0",  # integers
    "SELECT id FROM numbers WHERE n2 > 1.5 ORDER BY id",                     # numeric(p,s)
    "SELECT sum(n2), sum(p), avg(i4) FROM numbers",                          # aggregates
    "SELECT id FROM numbers WHERE f8 > 0 AND f4 < 1 ORDER BY id",            # floats, NaN
    "SELECT id FROM times WHERE d > DATE '2000-01-01' ORDER BY id",          # date, infinity
    "SELECT id, extract(epoch FROM tz) FROM times WHERE tz BETWEEN "
    "TIMESTAMPTZ '1999-01-01 00:00:00+00' AND TIMESTAMPTZ '2025-01-01 00:00:00+00' "
    "ORDER BY id",                                                           # timestamptz
    "SELECT id FROM times WHERE ts < TIMESTAMP '1000-01-01 00:00:00' ORDER BY id",  # BC
    "SELECT id FROM times WHERE iv > INTERVAL '1 day' ORDER BY id",          # interval
    "SELECT id FROM times WHERE t >= TIME '12:00:00' ORDER BY id",           # time
    "SELECT m::text, count(*) FROM misc GROUP BY 1 ORDER BY 1",              # enum
    "SELECT id FROM misc WHERE ok ORDER BY id",                              # boolean
    "SELECT id FROM misc WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",  # uuid
    "SELECT id, octet_length(b) FROM misc WHERE b IS NOT NULL ORDER BY id",        # bytea
    "SELECT n.id, n.i4, t.t FROM numbers n JOIN times t ON t.id = n.id "
    "WHERE n.i2 > 0 ORDER BY n.id",                                          # join
    "SELECT count(*) FROM texts a JOIN texts b ON a.t = b.t",                # self-join
    "SELECT id, ia[1], ta[2] FROM arrays WHERE ia IS NOT NULL ORDER BY id",  # arrays
    "SELECT c.id, c.label, c.extra FROM child c ORDER BY c.id",              # inheritance
    "SELECT \"Col, with \"\"quotes\"\"\" FROM \"Odd Schema\".\"we/ird \"\"name\"\"\" "
    "ORDER BY id",                                                           # odd names
    "SELECT count(*), sum(length(body)) FROM toasted",                       # TOASTed
]


def _same(pg: Any, dk: Any) -> bool:
    if pg is None or dk is None:
        return pg is None and dk is None
    if isinstance(pg, bool) or isinstance(dk, bool):
        return bool(pg == dk)
    if isinstance(pg, int | float | Decimal) and isinstance(dk, int | float | str):
        a, b = float(pg), float(dk)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if isinstance(pg, float) or isinstance(dk, float) or (isinstance(pg, Decimal) and \
                isinstance(dk, float)):
            return math.isclose(a, b, rel_tol=1e-12)
        return Decimal(str(pg)) == Decimal(str(dk))
    if isinstance(pg, datetime.time | datetime.date):
        return pg.isoformat().replace("T", " ") == str(dk)
    if isinstance(pg, bytes):
        return bool(pg == dk)
    return str(pg) == str(dk)


@pytest.fixture(scope="module")
def conninfo(pg18_server: Any) -> str:
    return restored(pg18_server, EXPORT_INDEX[0])


@pytest.mark.parametrize("sql", QUERIES)
def test_query_equals_server(conninfo: str, sql: str) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET TimeZone TO 'UTC'")
        expected = conn.execute(sql).fetchall()
    with pgarchive.open(archive_of(EXPORT_INDEX[0])) as a:
        _names, batches = run_query(a, sql)
        got = [r for chunk in batches for r in chunk]
    assert len(got) == len(expected), (got, expected)
    for g, x in zip(got, expected, strict=True):
        assert len(g) == len(x)
        assert all(_same(p, d) for p, d in zip(x, g, strict=True)), (x, g)


def test_latin1_archive(pg18_server: Any) -> None:
    item = next(i for i in EXPORT_INDEX if i["archive"] == "pg18/latin1.dump")
    sql = "SELECT id, t, v FROM latin ORDER BY id"
    with psycopg.connect(restored(pg18_server, item)) as conn:
        expected = conn.execute(sql).fetchall()
    with pgarchive.open(archive_of(item)) as a:
        _names, batches = run_query(a, sql)
        assert [r for chunk in batches for r in chunk] == expected


def test_cli_formats_and_errors() -> None:
    path = archive_of(EXPORT_INDEX[0])
    out = run_cli("query", path, "SELECT id, d FROM times WHERE id < 4 ORDER BY id",
                  "--format", "csv").stdout
    assert out == b"id,d\n1,infinity\n2,-infinity\n3,0044-03-15 (BC)\n"
    out = run_cli("query", path, "SELECT a.id, b.id FROM numbers a JOIN numbers b "
                  "ON b.id = a.id + 1 ORDER BY 1 LIMIT 1", "--json").stdout
    assert out == b'[\n {"id": 1, "id_2": 2}\n]\n'
    res = run_cli("query", path, "SELECT * FROM no_such_table", check=False)
    assert res.returncode == 2
    assert res.stderr.decode().startswith("pgarchive: error: query: Catalog Error")
    res = run_cli("query", path, "COPY (SELECT 1) TO '/tmp/pgarchive-query-test.csv'",
                  check=False)
    assert res.returncode == 2
    assert res.stderr == b"pgarchive: error: query: give exactly one read-only query " \
        b"(SELECT, WITH, VALUES)\n"
    res = run_cli("query", path, "SELECT * FROM read_csv('/etc/hostname')", check=False)
    assert res.returncode == 2 and b"Permission Error" in res.stderr  # no file access
