"""The export test archives (testdata/export, made by make_export_corpus.py) restored into
real servers, and what the server itself says about their tables: the oracle of the export,
verify --types and query tests."""

from __future__ import annotations

import datetime
import json
import subprocess
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

import pgarchive
from helpers import TESTDATA

EXPORT = TESTDATA / "export"
EXPORT_INDEX: list[dict[str, Any]] = json.loads((EXPORT / "index.json").read_text())
_RESTORED: dict[tuple[int, str], str] = {}


def export_params(major: int | None = None) -> list[Any]:
    return [pytest.param(i, id=i["archive"]) for i in EXPORT_INDEX
            if major is None or i["major"] == major]


def archive_of(item: dict[str, Any]) -> str:
    return str(EXPORT / item["archive"])


def restored(server: Any, item: dict[str, Any]) -> str:
    """The conninfo of a database on ``server`` holding the archive, restored by the real
    pg_restore of the server's version (once per session)."""
    key = (server.port, item["archive"])
    if key not in _RESTORED:
        db = "r_" + item["archive"].replace("/", "_").replace(".", "_")
        enc = ["-E", "LATIN1", "--locale=C"] if item["db"] == "explatin" else ["-E", "UTF8"]
        server.run(["createdb", "-T", "template0", *enc, db])
        server.run(["pg_restore", "--no-owner", "-d", db, archive_of(item)],
                   capture_output=True)
        _RESTORED[key] = server.conninfo(db)
    return _RESTORED[key]


def tables(path: str) -> list[tuple[str, str]]:
    with pgarchive.open(path) as a:
        return [(e.namespace or "public", e.tag) for e in a.entries
                if e.desc == "TABLE DATA" and e.has_data]


def connect(conninfo: str, item: dict[str, Any] | None = None,
            encoding: str = "UTF8") -> psycopg.Connection[Any]:
    """A session with pg_dump's output settings (and the dump's time zone)."""
    conn = psycopg.connect(conninfo, autocommit=True)
    tz = item["timezone"] if item else "UTC"
    for stmt in (f"SET client_encoding TO '{encoding}'", f"SET TimeZone TO '{tz}'",
                 "SET DateStyle TO ISO", "SET IntervalStyle TO postgres",
                 "SET extra_float_digits TO 3"):
        conn.execute(stmt)
    return conn


def server_copy(conn: psycopg.Connection[Any], table: tuple[str, str], options: str) -> bytes:
    """What the server sends for COPY table TO STDOUT (options), byte for byte."""
    q = sql.SQL("COPY {} TO STDOUT {}").format(sql.Identifier(*table), sql.SQL(options))
    with conn.cursor() as cur, cur.copy(q) as cp:
        return b"".join(bytes(b) for b in cp)


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    import sys

    return subprocess.run([sys.executable, "-m", "pgarchive", *args], capture_output=True,
                          check=check, env={**__import__("os").environ, "TZ": "UTC"})


# --- the server's own view of column types -------------------------------------------

def column_types(conn: psycopg.Connection[Any], table: tuple[str, str]
                 ) -> list[dict[str, Any]]:
    """Per column of COPY's default list: name, base type (domains resolved), typmod,
    element base type for arrays, from the server's catalog."""
    rows = conn.execute(
        """WITH RECURSIVE base(oid, root, typmod) AS (
               SELECT t.oid, t.oid, -1 FROM pg_type t
             UNION ALL
               SELECT b.oid, t.typbasetype, t.typtypmod FROM base b JOIN pg_type t
                 ON t.oid = b.root WHERE t.typtype = 'd')
           SELECT a.attname,
                  (SELECT bt.typname FROM base b JOIN pg_type bt ON bt.oid = b.root
                   WHERE b.oid = a.atttypid AND bt.typtype <> 'd'),
                  greatest(a.atttypmod, (SELECT max(b.typmod) FROM base b
                                         WHERE b.oid = a.atttypid)),
                  (SELECT et.typname FROM base b JOIN pg_type bt ON bt.oid = b.root
                   JOIN base eb ON eb.oid = bt.typelem JOIN pg_type et ON et.oid = eb.root
                   WHERE b.oid = a.atttypid AND bt.typtype <> 'd' AND et.typtype <> 'd'
                     AND bt.typcategory = 'A'),
                  (SELECT bt.typtype FROM base b JOIN pg_type bt ON bt.oid = b.root
                   WHERE b.oid = a.atttypid AND bt.typtype <> 'd')
           FROM pg_attribute a
           WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
             AND a.attgenerated = ''
           ORDER BY a.attnum""",
        (sql.Identifier(*table).as_string(conn),)).fetchall()
    return [{"name": r[0], "type": r[1], "typmod": r[2], "elem": r[3], "typtype": r[4]}
            for r in rows]


INTS = {"int2", "int4", "int8"}
FLOATS = {"float4", "float8"}
INF = {"NaN", "Infinity", "-Infinity"}


def _json_scalar(kind: str, text: str) -> Any:
    if kind in INTS:
        return int(text)
    if kind in FLOATS:
        return text if text in INF else float(text)
    if kind == "bool":
        return text in ("t", "true")
    if kind in ("json", "jsonb"):
        return json.loads(text)
    return text


def jsonl_expected(conn: psycopg.Connection[Any], table: tuple[str, str]
                   ) -> list[dict[str, Any]]:
    """Each row as the issue maps it to JSON, built from the server's text forms."""
    cols = column_types(conn, table)
    exprs = []
    for c in cols:
        ident = sql.Identifier(c["name"])
        # format('%s') calls the type's output function (inet's ::text adds a netmask)
        form = "{0}::text[]" if c["elem"] else (
            "CASE WHEN num_nulls({0}) = 0 THEN format('%s', {0}) END")
        exprs.append(sql.SQL(form).format(ident))
    q = sql.SQL("SELECT {} FROM ONLY {}").format(sql.SQL(", ").join(exprs),
                                                 sql.Identifier(*table))
    out = []
    for row in conn.execute(q).fetchall():
        rec = {}
        for c, v in zip(cols, row, strict=True):
            if v is None:
                rec[c["name"]] = None
            elif c["elem"]:
                rec[c["name"]] = _nested(v, lambda s, k=c["elem"]: _json_scalar(k, s))
            else:
                rec[c["name"]] = _json_scalar(c["type"], v)
        out.append(rec)
    return out


def _nested(v: Any, fn: Any) -> Any:
    return [None if x is None else _nested(x, fn) if isinstance(x, list) else fn(x) for x in v]


def parquet_expected(conn: psycopg.Connection[Any], table: tuple[str, str]
                     ) -> list[dict[str, Any]]:
    """Each row as the issue maps it to Arrow, as Python values of the Arrow storage:
    temporal values as the server's own epoch arithmetic (days, microseconds)."""
    cols = column_types(conn, table)
    exprs = []
    for c in cols:
        i = sql.Identifier(c["name"])
        k = c["type"]
        if c["elem"]:
            e = sql.SQL("{}::text[]").format(i)
        elif k == "date":
            e = sql.SQL("CASE WHEN {0} = 'infinity' THEN 2147483647 WHEN {0} = '-infinity' "
                        "THEN -2147483647 ELSE {0} - DATE '1970-01-01' END").format(i)
        elif k in ("timestamp", "timestamptz"):
            e = sql.SQL("CASE WHEN {0} = 'infinity' THEN 9223372036854775807 "
                        "WHEN {0} = '-infinity' THEN -9223372036854775807 ELSE "
                        "(extract(epoch FROM {0}) * 1000000)::bigint END").format(i)
        elif k == "time":
            e = sql.SQL("(extract(epoch FROM {0}) * 1000000)::bigint").format(i)
        elif k == "interval":
            e = sql.SQL("ARRAY[(extract(year FROM {0}) * 12 + extract(month FROM {0})),"
                        "extract(day FROM {0}), (extract(hour FROM {0}) * 3600000000 + "
                        "extract(minute FROM {0}) * 60000000 + "
                        "extract(microseconds FROM {0})) * 1000]::numeric[]").format(i)
        elif k in INTS | FLOATS | {"bool", "bytea"} or (k == "numeric" and c["typmod"] > 0):
            e = i
        else:
            e = sql.SQL("CASE WHEN num_nulls({0}) = 0 THEN format('%s', {0}) END").format(i)
        exprs.append(e)
    q = sql.SQL("SELECT {} FROM ONLY {}").format(sql.SQL(", ").join(exprs),
                                                 sql.Identifier(*table))
    out = []
    for row in conn.execute(q).fetchall():
        rec: dict[str, Any] = {}
        for c, v in zip(cols, row, strict=True):
            if v is not None and c["elem"]:
                v = _nested(v, lambda s, c=c: _arrow_elem(c, s))
            elif v is not None and c["type"] == "interval":
                v = None if v[0] is None else tuple(int(x) for x in v)
            rec[c["name"]] = v
        out.append(rec)
    return out


def _arrow_elem(c: dict[str, Any], s: str) -> Any:
    k = c["elem"]
    if k in INTS:
        return int(s)
    if k in FLOATS:
        return float(s)
    if k == "bool":
        return s in ("t", "true")
    if k == "numeric" and c["typmod"] > 0:
        return Decimal(s)
    if k == "date":
        return datetime.date.fromisoformat(s)
    if k == "timestamptz":
        return datetime.datetime.fromisoformat(s)
    return s
