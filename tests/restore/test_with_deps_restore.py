"""--with-deps lists restored by the real pg_restore 18 into empty databases: the selected
tables come back whole (indexes, constraints, triggers, comments, grants, policies, sequence
values, rows) and nothing outside the selection is created."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from helpers import TESTDATA
from pgarchive.cli import cli

ARCHIVE = str(TESTDATA / "pg18" / "custom.dump")
_counter = itertools.count()

TABLE_FACTS = {
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s "
               "AND tablename = %(t)s ORDER BY 1",
    "constraints": "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %(q)s::regclass ORDER BY 1",
    "triggers": "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = %(q)s::regclass AND NOT tgisinternal ORDER BY 1",
    "comments": "SELECT a.attname, col_description(a.attrelid, a.attnum), "
                "obj_description(a.attrelid, 'pg_class') FROM pg_attribute a "
                "WHERE a.attrelid = %(q)s::regclass AND a.attnum > 0 ORDER BY a.attnum",
    "grants": "SELECT c.relacl::text, (SELECT array_agg(a.attacl::text ORDER BY a.attnum) "
              "FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0) "
              "FROM pg_class c WHERE c.oid = %(q)s::regclass",
    "policies": "SELECT policyname, cmd, roles::text, qual FROM pg_policies "
                "WHERE schemaname = %(s)s AND tablename = %(t)s ORDER BY 1",
    "rls": "SELECT relrowsecurity, relkind FROM pg_class WHERE oid = %(q)s::regclass",
    "columns": "SELECT attname, format_type(atttypid, atttypmod), attidentity, "
               "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d "
               "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
               "WHERE a.attrelid = %(q)s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
               "ORDER BY a.attnum",
    "rows": "SELECT count(*) FROM ONLY {q}",
    "sequences": "SELECT s.relname, pg_sequence_last_value(s.oid) FROM pg_depend d "
                 "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
                 "WHERE d.refobjid = %(q)s::regclass ORDER BY 1",
}

USER_OBJECTS = """
SELECT 'rel ' || c.relkind::text || ' ' || n.nspname || '.' || c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_t%'
UNION ALL
SELECT 'fn ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n
  ON n.oid = p.pronamespace WHERE n.nspname = 'app'
UNION ALL
SELECT 'lo ' || oid FROM pg_largeobject_metadata
"""


def table_facts(conninfo: str, schema: str, table: str) -> dict[str, Any]:
    q = psycopg.sql.Identifier(schema, table).as_string(None)  # type: ignore[arg-type]
    params = {"s": schema, "t": table, "q": q}
    out: dict[str, Any] = {}
    with psycopg.connect(conninfo) as conn:
        for name, sql in TABLE_FACTS.items():
            query = sql.replace("{q}", q) if "{q}" in sql else sql
            out[name] = conn.execute(query, params).fetchall()  # type: ignore[call-overload]
    return out


def user_objects(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo) as conn:
        return {r[0] for r in conn.execute(USER_OBJECTS).fetchall()}


def restore_selection(server: Any, tmp_path: Path, args: list[str],
                      archive: str = ARCHIVE) -> str:
    """Write the list with pgarchive, restore it with the real pg_restore, return conninfo."""
    db = f"t{next(_counter)}"
    listing = tmp_path / f"{db}.list"
    res = CliRunner().invoke(cli, ["ls", archive, "-F", "list", "-o", str(listing), *args])
    assert res.exit_code == 0, res.output
    server.run(["createdb", "-T", "template0", db])
    done = subprocess.run([server.tool("pg_restore"), "--exit-on-error", "-L", str(listing),
                           "-d", db, archive], env=server.client_env(), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return str(server.conninfo(db))


CASES = [
    # (selection, tables that must come back whole, tables that must not exist)
    (["-t", "orders"], [("app", "orders")], [("app", "customers")]),
    (["-t", "orders", "-t", "customers"], [("app", "orders"), ("app", "customers")], []),
    (["-t", "customers"], [("app", "customers")], [("app", "orders")]),
    (["-t", "events"], [("app", "events"), ("app", "events_2024"), ("app", "events_2025"),
                        ("app", "events_other")], [("app", "orders")]),
    (["-n", "Mixed Case Schema", "-t", "Order Lines"], [("Mixed Case Schema", "Order Lines")],
     [("app", "orders")]),
    (["-t", "app.cars"], [("app", "cars")], [("app", "orders")]),
]


@pytest.mark.parametrize("args, whole, absent", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_table_with_deps_restores_whole(pg18_server: Any, tmp_path: Path, args: list[str],
                                        whole: list[tuple[str, str]],
                                        absent: list[tuple[str, str]]) -> None:
    ref = str(pg18_server.conninfo("ref"))
    target = restore_selection(pg18_server, tmp_path, [*args, "--with-deps"])
    def ident(x: str) -> str:
        return x if x.isidentifier() and x.islower() else '"' + x.replace('"', '""') + '"'

    selected = {f"{ident(s)}.{ident(t)}" for s, t in whole}
    for schema, table in whole:
        want = table_facts(ref, schema, table)
        # A foreign key comes only when the table it references is selected too.
        want["constraints"] = [c for c in want["constraints"] if "FOREIGN KEY" not in c[1]
                               or c[1].split(" REFERENCES ")[1].split("(")[0] in selected]
        assert table_facts(target, schema, table) == want, table
    objects = user_objects(target)
    for schema, table in absent:
        assert not any(o.endswith(f" {schema}.{table}") for o in objects)
    # Nothing outside the selection: every relation and function restored is one we listed.
    res = CliRunner().invoke(cli, ["ls", ARCHIVE, "--json", *args, "--with-deps"])
    import json
    listed = json.loads(res.stdout)
    by_kind = {"r": {"TABLE"}, "p": {"TABLE"}, "v": {"VIEW"}, "m": {"MATERIALIZED VIEW"},
               "S": {"SEQUENCE"}, "i": {"INDEX"}, "I": {"INDEX"}, "c": {"TYPE"}}
    for o in objects:
        kind, rest = o.split(" ", 1)
        if kind == "rel":
            relkind, qualified = rest.split(" ", 1)
            if relkind == "t":
                continue  # TOAST tables live with their table
            ok = any(r["desc"] in by_kind[relkind] and qualified == f"{r['namespace']}.{r['tag']}"
                     for r in listed)
            # indexes made by PRIMARY KEY / UNIQUE / EXCLUDE constraints
            ok = ok or (relkind in "iI" and any(
                r["desc"] == "CONSTRAINT" and qualified.startswith(f"{r['namespace']}.")
                and r["tag"].endswith(" " + qualified[len(r["namespace"]) + 1:])
                for r in listed))
            assert ok, o
        elif kind == "fn":
            assert any(r["desc"] in ("FUNCTION", "PROCEDURE", "AGGREGATE") and
                       rest == f"{r['namespace']}.{r['tag']}" for r in listed), o
        else:
            pytest.fail(f"large object restored outside the selection: {o}")


def test_foreign_key_only_with_both_tables(pg18_server: Any, tmp_path: Path) -> None:
    alone = restore_selection(pg18_server, tmp_path, ["-t", "orders", "--with-deps"])
    both = restore_selection(pg18_server, tmp_path, ["-t", "orders", "-t", "customers",
                                                     "--with-deps"])
    fk = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conname = " \
         "'orders_customer_id_fkey'"
    with psycopg.connect(alone) as c1, psycopg.connect(both) as c2:
        assert c1.execute(fk).fetchone() == (0,)
        assert c2.execute(fk).fetchone() == (1,)


def test_schema_with_deps(pg18_server: Any, tmp_path: Path) -> None:
    ref = str(pg18_server.conninfo("ref"))
    target = restore_selection(pg18_server, tmp_path, ["-n", "app", "--with-deps"])
    with psycopg.connect(ref) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'app'::regnamespace "
            "AND relkind IN ('r', 'p') ORDER BY 1").fetchall()]
    assert {"customers", "orders", "events", "vehicles", "cars"} <= set(tables)
    for t in tables:
        assert table_facts(target, "app", t) == table_facts(ref, "app", t), t
    objects = user_objects(target)
    assert not any(" public." in o or "Mixed Case" in o for o in objects)
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM app.order_totals").fetchone() == (150,)
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'citext'"
                            ).fetchone() == ("citext",)


def test_exclude_table_data(pg18_server: Any, tmp_path: Path) -> None:
    target = restore_selection(pg18_server, tmp_path, ["-t", "orders", "--with-deps",
                                                       "--exclude-table-data", "app.ord*"])
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM app.orders").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'"
                            ).fetchone() == (3,)


LEGACY_CASES = [
    (["-t", "orders"], [("shop", "orders")]),
    (["-t", "orders", "-t", "customers"], [("shop", "orders"), ("shop", "customers")]),
    (["-t", "payments"], [("shop", "payments"), ("shop", "payments_2023"),
                          ("shop", "payments_2024")]),
    (["-n", "back office", "-t", "stock moves"], [("back office", "stock moves")]),
]


@pytest.mark.parametrize("archive", ["pg10/custom.dump", "pg11/dir", "pg12/tar.tar"])
@pytest.mark.parametrize("args, whole", LEGACY_CASES,
                         ids=[" ".join(c[0]) for c in LEGACY_CASES])
def test_with_deps_on_older_archives(pg18_server: Any, tmp_path: Path, archive: str,
                                     args: list[str], whole: list[tuple[str, str]]) -> None:
    """pg_dump 10-12 record dependencies too; --with-deps restores whole tables from them."""
    ref = str(pg18_server.conninfo("shopref"))
    target = restore_selection(pg18_server, tmp_path, [*args, "--with-deps"],
                               str(TESTDATA / archive))
    names = {f"{s}.{t}" for s, t in whole}
    for schema, table in whole:
        want = table_facts(ref, schema, table)
        want["constraints"] = [c for c in want["constraints"] if "FOREIGN KEY" not in c[1]
                               or c[1].split(" REFERENCES ")[1].split("(")[0] in names]
        got = table_facts(target, schema, table)
        # PostgreSQL 18 names NOT NULL constraints; a partition made from an old dump gets
        # its own names where one made with PARTITION OF inherits the parent's: compare
        # NOT NULL constraints by column.
        for facts in (want, got):
            facts["constraints"] = sorted(
                ("NOT NULL", c[1]) if c[1].startswith("NOT NULL") else c
                for c in facts["constraints"])
        assert got == want, (archive, table)
