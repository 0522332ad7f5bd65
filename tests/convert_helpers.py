"""Shared by the convert tests: the real pg_restore's outputs, verify's checksums, and a
file comparison that ignores the creation time pg_dump stamps in the header."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path
from typing import Any

import pgenv
from pgarchive.format.constants import K_VERS_1_15
from pgarchive.format.toc import parse_header
from pgarchive.verify import verify

KEY = "pgarchiveconverttest"


@functools.cache
def pg_restore(major: int = 18) -> str:
    return str(pgenv.bindir(major) / "pg_restore")


def run_pg_restore(args: list[str], major: int = 18) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, TZ="UTC", PGTZ="UTC")
    return subprocess.run([pg_restore(major), *args], capture_output=True, env=env)


def script(path: str | Path, *args: str, major: int = 18) -> bytes:
    """``pg_restore -f -`` of an archive, with a fixed restrict key (18)."""
    extra = ["--restrict-key", KEY] if major >= 18 else []
    res = run_pg_restore(["-f", "-", *extra, *args, str(path)], major)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def listing(path: str | Path, *args: str, major: int = 18) -> tuple[list[str], list[str]]:
    """``pg_restore -l``: (header lines, entry lines)."""
    res = run_pg_restore(["-l", *args, str(path)], major)
    assert res.returncode == 0, res.stderr.decode()
    lines = res.stdout.decode("utf-8", "surrogateescape").split("\n")
    cut = lines.index("; Selected TOC Entries:") + 2
    return lines[:cut], lines[cut:]


def checksums(path: str | Path) -> dict[int, tuple[Any, ...]]:
    """verify's per-entry facts: dump id -> (checksum, rows, raw bytes, large objects)."""
    report = verify(str(path))
    assert report.ok, [str(p) for p in report.all_problems()]
    return {e.dump_id: (e.checksum, e.rows, e.raw_bytes, e.large_objects)
            for e in report.entries}


def tm_span(path: str | Path) -> tuple[int, int]:
    """Where the seven creation-time Ints lie in a custom file or toc.dat."""
    with open(path, "rb") as f:
        h = parse_header(f.read(4096))
    start = 5 + 3 + 3 + (1 if h.version >= K_VERS_1_15 else 1 + h.int_size)
    return start, start + 7 * (1 + h.int_size)


def same_but_time(mine: bytes, theirs: bytes, span: tuple[int, int]) -> bool:
    """Equal bytes, except the header's creation time (pg_dump runs a second apart)."""
    a, b = span
    return len(mine) == len(theirs) and mine[:a] == theirs[:a] and mine[b:] == theirs[b:]


_USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') " \
                "AND n.nspname NOT LIKE 'pg_toast%'"
SNAPSHOT = {
    "relations": "SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), "
                 "c.relacl::text, c.relpersistence, c.relispartition, "
                 "pg_get_expr(c.relpartbound, c.oid), obj_description(c.oid, 'pg_class') "
                 f"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 f"WHERE {_USER_SCHEMAS} ORDER BY 1, 2",
    "columns": "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
               "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl::text, "
               "col_description(c.oid, a.attnum), a.attcollation::regcollation::text "
               "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
               "JOIN pg_namespace n ON n.oid = c.relnamespace "
               "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
               f"WHERE a.attnum > 0 AND NOT a.attisdropped AND {_USER_SCHEMAS} "
               "ORDER BY 1, 2, 3",
    "constraints": "SELECT conrelid::regclass::text, contypid::regtype::text, conname, "
                   "pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace IN "
                   f"(SELECT n.oid FROM pg_namespace n WHERE {_USER_SCHEMAS}) ORDER BY 1, 2, 3",
    "indexes": "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes n "
               "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3",
    "functions": "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), "
                 "p.prokind, md5(p.prosrc), pg_get_userbyid(p.proowner) FROM pg_proc p "
                 f"JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS} "
                 "ORDER BY 1, 2, 3",
    "views": "SELECT schemaname, viewname, definition FROM pg_views "
             "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
                "FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2",
    "policies": "SELECT schemaname, tablename, policyname, cmd, qual, with_check "
                "FROM pg_policies ORDER BY 1, 2, 3",
    "types": "SELECT n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner) "
             "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
             f"WHERE {_USER_SCHEMAS} AND t.typtype IN ('e', 'd', 'c') ORDER BY 1, 2",
    "schemas": "SELECT n.nspname, pg_get_userbyid(n.nspowner), n.nspacl::text, "
               f"obj_description(n.oid, 'pg_namespace') FROM pg_namespace n WHERE {_USER_SCHEMAS} "
               "ORDER BY 1",
    "sequences": "SELECT schemaname, sequencename, last_value, data_type::text "
                 "FROM pg_sequences ORDER BY 1, 2",
    "extensions": "SELECT extname FROM pg_extension ORDER BY 1",
    "large_objects": "SELECT m.oid::bigint, pg_get_userbyid(m.lomowner), m.lomacl::text, "
                     "obj_description(m.oid, 'pg_largeobject'), (SELECT md5(string_agg(l.data, "
                     "'' ORDER BY l.pageno)) FROM pg_largeobject l WHERE l.loid = m.oid) "
                     "FROM pg_largeobject_metadata m ORDER BY 1",
}


def snapshot(conninfo: str) -> dict[str, Any]:
    """The catalog facts and the data of a database, for comparing two restores: every
    user relation, column, constraint, index, function, view, trigger, policy, type,
    schema, sequence value, extension and large object (with its data), and a checksum
    and row count of every table's contents."""
    import psycopg

    facts: dict[str, Any] = {}
    with psycopg.connect(conninfo, autocommit=True) as c:
        for key, sql in SNAPSHOT.items():
            facts[key] = c.execute(sql).fetchall()
        tables = c.execute(
            "SELECT format('%I.%I', n.nspname, c.relname), c.relispopulated FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ('r', 'm') AND {_USER_SCHEMAS} ORDER BY 1").fetchall()
        facts["populated"] = tables  # a materialized view WITH NO DATA cannot be read
        for name, populated in tables:
            if not populated:
                continue
            facts[f"data {name}"] = c.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY "
                f"t::text), '')) FROM {name} t").fetchone()
    return facts


def restore_into(cluster: Any, archive: str | Path, dbname: str, *args: str,
                 major: int = 18) -> subprocess.CompletedProcess[bytes]:
    """``pg_restore -d`` of major ``major`` into a new database of ``cluster``."""
    cluster.run(["createdb", "-T", "template0", dbname])
    return subprocess.run([pg_restore(major), "-d", dbname, *args, str(archive)],
                          env=cluster.client_env(), capture_output=True)
