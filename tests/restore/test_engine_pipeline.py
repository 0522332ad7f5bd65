"""The native engine sends statements ahead without waiting for each result (libpq's
pipeline mode, in a serial restore without -e, -1, --transaction-size, --resume or
--no-data-for-failed-tables).  Its errors must still be pg_restore's: the same entries, in
the same order, with the same messages, and the same database afterwards, also when more
statements fail than are in flight at a time (pipeline.DEPTH)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import drop_db, new_db, restore, snapshot, sql

import pgenv
from pgarchive.restore.engine import pipeline
from pgarchive.restore.engine.pipeline import one_statement

TABLES = 300  # every third one fails: 100 tables, three failing statements each


@pytest.fixture(scope="module")
def many_tables(engine_pg18: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of TABLES tables, each with a comment, a row and a key."""
    db = new_db(engine_pg18, "src")
    sql(engine_pg18, db, f"""
        DO $$ BEGIN FOR i IN 1..{TABLES} LOOP
          EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, v text)', i);
          EXECUTE format('COMMENT ON TABLE t%s IS %L', i, 'table ' || i);
          EXECUTE format('INSERT INTO t%s VALUES (%s, %L)', i, i, 'row ' || i);
        END LOOP; END $$""")
    path = tmp_path_factory.mktemp("pipeline") / "many.dump"
    subprocess.run([str(pgenv.bindir(18) / "pg_dump"), "-Fc", "-f", str(path), "-d",
                    f"{engine_pg18.conninfo(db)}"], env=engine_pg18.client_env(), check=True)
    drop_db(engine_pg18, db)
    return path


def _errors(r: Any) -> list[tuple[int | None, str]]:
    """Each error's entry and its server message, in the order they were reported."""
    out = []
    for e in r.errors:
        msg = next((line for line in e.text.splitlines() if "ERROR:" in line), e.text)
        out.append((e.entry, msg[msg.index("ERROR:"):] if "ERROR:" in msg else msg))
    return out


def test_errors_of_statements_sent_ahead_are_their_entries(
        engine_pg18: Any, many_tables: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third of the tables exist already with another column: their CREATE TABLE, COPY
    and primary key fail (300 errors, more than DEPTH statements in flight), the rest
    goes in; every error is its own entry's, as pg_restore reports them."""
    sent: list[object] = []
    real_send = pipeline.Pipeline.send

    def spy(self: pipeline.Pipeline, data: bytes, context: object) -> None:
        sent.append(context)
        real_send(self, data, context)

    monkeypatch.setattr(pipeline.Pipeline, "send", spy)
    runs = {}
    for engine in ("native", "pg_restore"):
        db = new_db(engine_pg18)
        sql(engine_pg18, db, " ".join(f"CREATE TABLE t{i} (other text);"
                                      for i in range(3, TABLES + 1, 3)))
        runs[engine] = (restore(engine_pg18, many_tables, db, engine, force=True),
                        snapshot(engine_pg18, db))
        drop_db(engine_pg18, db)
    (n, ns), (p, ps) = runs["native"], runs["pg_restore"]
    assert len(sent) > 2 * TABLES  # the statements went ahead
    assert n.outcome.exit_code == p.outcome.exit_code == 1
    assert len(_errors(n)) == 3 * (TABLES // 3) > pipeline.DEPTH
    assert _errors(n) == _errors(p)
    assert not ns.differences(ps), "\n".join(ns.differences(ps))
    assert [(t.name, t.status) for t in n.outcome.tables] == \
        [(t.name, t.status) for t in p.outcome.tables]


def test_exit_on_error_sends_nothing_ahead(engine_pg18: Any, many_tables: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With -e nothing may run after the first error: no statement goes ahead, and the
    restore stops at the first failing table, as pg_restore does."""
    sent: list[object] = []
    monkeypatch.setattr(pipeline.Pipeline, "send",
                        lambda self, data, context: sent.append(context))
    db = new_db(engine_pg18)
    sql(engine_pg18, db, "CREATE TABLE t3 (other text)")
    r = restore(engine_pg18, many_tables, db, "native", force=True, exit_on_error=True)
    drop_db(engine_pg18, db)
    assert not sent
    assert len(r.errors) == 1 and 'relation "t3" already exists' in r.errors[0].text


@pytest.mark.parametrize(("text", "alone"), [
    ("CREATE TABLE p.t (id integer);\n\n", True),
    ("ALTER TABLE p.t OWNER TO alice;\n\n", True),
    ("COMMENT ON TABLE p.t IS 'a; b';\n\n", False),       # a semicolon inside a string
    ("CREATE TABLE a (x int);\nCREATE TABLE b (x int);\n", False),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN $1;", False),
    ("SELECT 1", False),                                  # no semicolon: not sure
    ("COPY p.t (id) FROM stdin;\n", False),
    ("-- a comment only\n", False),
])
def test_one_statement(text: str, alone: bool) -> None:
    assert one_statement(text) is alone
