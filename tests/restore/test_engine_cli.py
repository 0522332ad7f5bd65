"""The native engine from the command line: --engine auto's choice and its reason, a
restore on a machine with no PostgreSQL client at all, and the error paths (a failing
entry with and without -e, a missing role without -O, --no-data-for-failed-tables),
each compared with what pg_restore does with the same archive and options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import conninfo, drop_db, new_db, restore, snapshot, sql

from helpers import TESTDATA
from pgarchive.selection import RestoreOptions, Selection

CORPUS = str(TESTDATA / "pg18" / "custom.dump")
PIPED = str(TESTDATA / "pg18" / "custom_pipe.dump")
#: the CLI with no pg_restore anywhere: PATH holds no PostgreSQL client, and the usual
#: install folders (/usr/lib/postgresql/*/bin...) are not looked in
NO_CLIENT = ("import sys, pgarchive.restore.binaries as b; b.USUAL_DIRS = (); "
             "from pgarchive.cli import main; sys.argv[0] = 'pgarchive'; main()")


def cli(*args: str, no_client: bool = False, tmp: Path | None = None,
        stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    env.pop("PG_RESTORE", None)
    if no_client:
        assert tmp is not None
        env["PATH"] = str(tmp)  # an empty folder
        code = ["-c", NO_CLIENT]
    else:
        import pgenv

        env["PATH"] = os.pathsep.join([str(pgenv.bindir(18)), env.get("PATH", "")])
        code = ["-m", "pgarchive"]
    res = subprocess.run([sys.executable, *code, "restore", *args], capture_output=True,
                         input=stdin, env=env, timeout=600)
    return subprocess.CompletedProcess(res.args, res.returncode, res.stdout.decode(),
                                       res.stderr.decode())


def _same_as_pg_restore_of_corpus(server: Any, db: str, ref: str) -> None:
    """``db`` holds what pg_restore makes of the corpus archive in ``ref`` (then both go)."""
    assert restore(server, CORPUS, ref, "pg_restore").outcome.exit_code == 0
    a, b = snapshot(server, db), snapshot(server, ref)
    assert not a.differences(b), "\n".join(a.differences(b))
    drop_db(server, db)
    drop_db(server, ref)


def test_no_client_at_all(engine_pg18: Any, tmp_path: Path) -> None:
    """auto with no pg_restore anywhere: the native engine restores, and says why; the
    database is the one pg_restore makes."""
    db, ref = new_db(engine_pg18), new_db(engine_pg18)
    res = cli(CORPUS, "-d", conninfo(engine_pg18, db), no_client=True, tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "using pgarchive's native engine: no suitable pg_restore" in res.stderr
    assert "with the native engine into" in res.stderr and " 0 errors" in res.stderr
    assert "tables with matching row counts" in res.stderr
    _same_as_pg_restore_of_corpus(engine_pg18, db, ref)


def test_no_client_and_pg_restore_asked_for(tmp_path: Path) -> None:
    res = cli(CORPUS, "-d", "dbname=x", "--engine", "pg_restore", no_client=True, tmp=tmp_path)
    assert res.returncode == 2 and "pg_restore" in res.stderr, res.stderr


def test_auto_takes_pg_restore_when_one_suits(engine_pg18: Any) -> None:
    db = new_db(engine_pg18)
    res = cli(CORPUS, "-d", conninfo(engine_pg18, db), "-t", "orders", "--with-deps")
    assert res.returncode == 0, res.stderr
    assert "using pg_restore 18" in res.stderr and "native" not in res.stderr
    drop_db(engine_pg18, db)


def test_auto_parallel_piped_archive_is_native(engine_pg18: Any) -> None:
    """-j 2 with a piped archive: pg_restore would use one connection; auto restores it
    natively, in parallel, and says why."""
    db = new_db(engine_pg18)
    res = cli(PIPED, "-d", conninfo(engine_pg18, db), "-j", "2")
    assert res.returncode == 0, res.stderr
    assert ("using pgarchive's native engine: -j 2 with a custom archive written to a pipe"
            in res.stderr)
    drop_db(engine_pg18, db)
    res = cli(PIPED, "-d", "dbname=x", "-j", "2", "--engine", "pg_restore")
    assert res.returncode == 2 and "--jobs 2 is not possible" in res.stderr


def _errors(r: Any) -> list[tuple[int | None, str]]:
    """Each error's entry and its server message (pg_restore's and ours word the head
    differently)."""
    out = []
    for e in r.errors:
        msg = next((line for line in e.text.splitlines() if "ERROR:" in line), e.text)
        out.append((e.entry, msg[msg.index("ERROR:"):] if "ERROR:" in msg else msg))
    return out


@pytest.mark.parametrize("stop", [False, True], ids=["go-on", "exit-on-error"])
def test_failing_entry_with_and_without_e(engine_pg18: Any, stop: bool) -> None:
    """orders' rows left out, so the foreign key of "Order Lines" fails: counted and
    passed over, or (-e) the end of the restore, as with pg_restore."""
    sel = Selection(RestoreOptions(), exclude_table_data=("app.orders",))
    runs = {}
    for engine in ("native", "pg_restore"):
        db = new_db(engine_pg18)
        runs[engine] = (restore(engine_pg18, CORPUS, db, engine, sel, exit_on_error=stop),
                        snapshot(engine_pg18, db))
        drop_db(engine_pg18, db)
    (n, ns), (p, ps) = runs["native"], runs["pg_restore"]
    assert n.outcome.exit_code == p.outcome.exit_code == 1
    assert _errors(n) == _errors(p) and len(_errors(n)) == 1
    assert "Order Lines_order_id_fkey" in n.errors[0].text
    assert "Command was: ALTER TABLE ONLY" in n.errors[0].text
    assert n.outcome.run is not None and p.outcome.run is not None
    # run to the end ("errors ignored on restore: 1"), or stopped there
    assert n.outcome.run.ignored_errors == p.outcome.run.ignored_errors == (None if stop else 1)
    assert not ns.differences(ps), "\n".join(ns.differences(ps))


def test_missing_role_without_no_owner(engine_pg18: Any) -> None:
    """An owner missing on the server (--force past the check): each ALTER ... OWNER TO it
    fails, counted; the same ones as pg_restore's."""
    sql(engine_pg18, "postgres", "ALTER ROLE reader RENAME TO reader_away")
    try:
        runs = {}
        for engine in ("native", "pg_restore"):
            db = new_db(engine_pg18)
            runs[engine] = restore(engine_pg18, CORPUS, db, engine, force=True)
            runs[engine + "-s"] = snapshot(engine_pg18, db)  # type: ignore[assignment]
            drop_db(engine_pg18, db)
    finally:
        sql(engine_pg18, "postgres", "ALTER ROLE reader_away RENAME TO reader")
    n, p = runs["native"], runs["pg_restore"]
    assert n.outcome.exit_code == p.outcome.exit_code == 1
    assert _errors(n) == _errors(p) and _errors(n)
    assert all('role "reader" does not exist' in m for _, m in _errors(n))
    a, b = runs["native-s"], runs["pg_restore-s"]
    assert not a.differences(b), "\n".join(a.differences(b))  # type: ignore[attr-defined]


@pytest.mark.parametrize("inhibit", [True, False], ids=["no-data-for-failed", "default"])
def test_no_data_for_failed_tables(engine_pg18: Any, inhibit: bool) -> None:
    """app.orders exists already with other columns: its CREATE TABLE fails; with
    --no-data-for-failed-tables its rows are not loaded (pg_restore's message), else
    COPY fails on the other columns, as with pg_restore."""
    runs = {}
    for engine in ("native", "pg_restore"):
        db = new_db(engine_pg18)
        sql(engine_pg18, db, "CREATE SCHEMA app; CREATE TABLE app.orders (other text)")
        runs[engine] = (restore(engine_pg18, CORPUS, db, engine, force=True,
                                no_data_for_failed_tables=inhibit),
                        snapshot(engine_pg18, db))
        drop_db(engine_pg18, db)
    (n, ns), (p, ps) = runs["native"], runs["pg_restore"]
    assert n.outcome.exit_code == p.outcome.exit_code == 1
    assert {e for e, _ in _errors(n)} == {e for e, _ in _errors(p)}
    assert len(n.errors) == len(p.errors)
    assert any('relation "orders" already exists' in m for _, m in _errors(n))
    assert ns.tables["app.orders"] == ps.tables["app.orders"]
    assert ns.tables["app.orders"][0] == 0
    orders = next(t for t in n.outcome.tables if t.name == "app.orders")
    copy = [e for e in n.errors if "Command was: COPY app.orders " in e.text]
    if inhibit:  # the engine knows why (pg_restore only says so with -v): not "differ"
        assert any("will not restore its data" in m.text for m in n.messages)
        assert orders.status == "not restored" and "--no-data-for-failed" in orders.why
        assert not copy
    else:  # the COPY names columns the table does not have
        assert orders.status == next(t.status for t in p.outcome.tables
                                     if t.name == "app.orders")
        assert len(copy) == 1 and 'column "id" of relation "orders"' in copy[0].text
    assert not ns.differences(ps), "\n".join(ns.differences(ps))


@pytest.mark.parametrize("engine", [["--engine", "pg_restore"], ["--engine", "native", "-j", "2"]])
def test_restore_from_standard_input(engine_pg18: Any, engine: list[str]) -> None:
    """Issue 10: `pg_dump -Fc | pgarchive restore - -d ...`: the archive on standard input
    is read once (into a private temporary file), so pg_restore, and the native engine's
    parallel workers, read it like a file; the result is the restore of the file."""
    db, ref = new_db(engine_pg18), new_db(engine_pg18)
    res = cli("-", "-d", conninfo(engine_pg18, db), *engine,
              stdin=Path(CORPUS).read_bytes())
    assert res.returncode == 0, res.stderr
    assert "tables with matching row counts" in res.stderr
    _same_as_pg_restore_of_corpus(engine_pg18, db, ref)
