"""The restore workflows people run, end to end against real PostgreSQL 15 and 18 servers
with the real pg_restore 15 and 18, archives of pg_dump 15 and 18 (issue 11)."""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from forecast_oracle import run_pgarchive

from helpers import TESTDATA

sys.path.insert(0, str(TESTDATA))
import pgenv

_db = itertools.count()
PG15, PG18 = TESTDATA / "pg15", TESTDATA / "pg18"
#: the corpus' tables (the same in the pg_dump 15 and 18 archives), not a number typed by hand
ALL = len(json.loads((PG18 / "tables.json").read_text())["tables"])
assert len(json.loads((PG15 / "tables.json").read_text())["tables"]) == ALL


def cli(*args: str, path: list[Path] | None = None, pg_restore: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``pgarchive``; ``path``: the folders PATH starts with; ``pg_restore``: $PG_RESTORE
    (by default none, so the choice is pgarchive's own)."""
    full = dict(os.environ, **(env or {}))
    full.pop("PGPASSWORD", None)
    full.pop("PG_RESTORE", None)
    if pg_restore is not None:
        full["PG_RESTORE"] = str(pg_restore)
    if path is not None:
        full["PATH"] = os.pathsep.join([*map(str, path), full.get("PATH", "")])
    return run_pgarchive(args, full)


def bin18() -> Path:
    return pgenv.bindir(18)


def bin15() -> Path:
    return pgenv.bindir(15)


def new_db(server: Any, owner: str | None = None) -> str:
    name = f"w{next(_db)}"
    server.run(["createdb", "-T", "template0", *(["-O", owner] if owner else []), name])
    return str(server.conninfo(name))


def one(conninfo: str, sql: str) -> Any:
    with psycopg.connect(conninfo, autocommit=True) as c:
        row = c.execute(sql).fetchone()
        assert row is not None
        return row[0]


def user_relations(conninfo: str) -> int:
    return int(one(conninfo, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                             "n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', "
                             "'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"))


def errors_of(res: subprocess.CompletedProcess[str]) -> list[str]:
    return [x for x in res.stderr.splitlines() if x.startswith("pg_restore: error:")]


# --- 1. which pg_restore ---------------------------------------------------------------

def test_pg15_archive_into_pg15_picks_pg_restore_15(pg15_server: Any) -> None:
    """pg_restore 18 first on PATH, 15 after it: 15 is chosen, and the run is clean."""
    target = new_db(pg15_server)
    res = cli("restore", str(PG15 / "custom.dump"), "-d", target, path=[bin18(), bin15()])
    assert res.returncode == 0, res.stderr
    assert "using pg_restore 15." in res.stderr
    assert "not newer than the PostgreSQL 15 server" in res.stderr
    assert "transaction_timeout" not in res.stderr
    assert f"{ALL}/{ALL} tables with matching row counts; 0 pg_restore errors" in res.stderr


def test_pg18_archive_into_pg15_needs_pg_restore_18_and_says_why(pg15_server: Any) -> None:
    """The corpus' subscription has an option PostgreSQL 15 does not know (streaming =
    parallel): predicted, with its comment, and left out by --skip-unrestorable."""
    target = new_db(pg15_server)
    dry = cli("restore", str(PG18 / "custom.dump"), "-d", target, "--dry-run",
              "--engine", "pg_restore",
              path=[bin18(), bin15()])
    assert dry.returncode == 0, dry.stderr
    assert "pre-flight: 2 of " in dry.stdout
    assert ("SUBSCRIPTION corpus_sub: PostgreSQL 15 does not know some of its subscription "
            "options") in dry.stdout
    assert "fail because of it: " in dry.stdout and "COMMENT SUBSCRIPTION corpus_sub" \
        in dry.stdout
    # (--engine auto restores natively here: test_engine_compare)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "--skip-unrestorable",
              "--engine", "pg_restore",
              path=[bin18(), bin15()])
    assert res.returncode == 0, res.stderr
    assert "--skip-unrestorable leaves out 2 entries predicted to fail" in res.stderr
    assert "using pg_restore 18.6" in res.stderr
    assert ("newer than the PostgreSQL 15 server: archive version 1.16 needs the pg_restore "
            "of PostgreSQL 17 or later") in res.stderr
    # pg_restore 18 against PostgreSQL 15: the older-server warning, and its known error
    # explained, shown once and not counted.
    assert ("restoring into PostgreSQL 15, older than the PostgreSQL 18 the archive was "
            "dumped from") in res.stderr
    assert "1 known harmless error of pg_restore 18.6" in res.stderr
    assert 'unrecognized configuration parameter "transaction_timeout"' in res.stderr
    assert not errors_of(res)
    assert f"{ALL}/{ALL} tables with matching row counts; 0 pg_restore errors (1 harmless not " \
           "counted)" in res.stderr
    assert one(target, "SELECT count(*) FROM app.orders") == 400


def test_newer_pg_restore_with_jobs_counts_every_harmless_error_out(pg15_server: Any) -> None:
    """Each of -j's connections gets the harmless error; pg_restore counts fewer than it
    prints.  The real incompatibility (a PostgreSQL 16+ subscription option) still counts:
    3 errors (CREATE SUBSCRIPTION, then its ALTER OWNER and COMMENT), exit 1."""
    target = new_db(pg15_server)
    res = cli("restore", str(PG18 / "dir"), "-d", target, "-j", "2", "--engine", "pg_restore",
              path=[bin18(), bin15()])
    assert res.returncode == 1, res.stderr
    assert "known harmless errors of pg_restore 18.6" in res.stderr
    assert "streaming requires a Boolean value" in res.stderr
    assert re.search(rf"{ALL}/{ALL} tables with matching row counts; 3 pg_restore errors "
                     r"\(\d+ harmless not counted\)", res.stderr), res.stderr


def test_stop_at_first_error_with_a_newer_pg_restore_is_refused(pg15_server: Any) -> None:
    target = new_db(pg15_server)
    for flag in ("-1", "-e"):
        res = cli("restore", str(PG18 / "custom.dump"), "-d", target, flag, "--engine",
                  "pg_restore", path=[bin18(), bin15()])
        assert res.returncode == 2, res.stderr
        assert f"{flag} cannot work here: pg_restore 18 sends SET transaction_timeout" \
               in res.stderr
        assert "restore into PostgreSQL 17 or later" in res.stderr
    assert user_relations(target) == 0


def test_pg_restore_override(pg15_server: Any) -> None:
    """--pg-restore wins over the choice; its harmless errors are still explained."""
    target = new_db(pg15_server)
    res = cli("restore", str(PG15 / "custom.dump"), "-d", target, "--pg-restore",
              str(bin18() / "pg_restore"), path=[bin15()])
    assert res.returncode == 0, res.stderr
    assert f"using pg_restore 18.6 ({bin18() / 'pg_restore'}), as --pg-restore asks" \
           in res.stderr
    assert "(1 harmless not counted)" in res.stderr


def test_pg15_archive_into_pg18_uses_pg_restore_18(pg18_server: Any) -> None:
    target = new_db(pg18_server)
    res = cli("restore", str(PG15 / "custom.dump"), "-d", target, path=[bin15(), bin18()])
    assert res.returncode == 0, res.stderr
    assert "using pg_restore 18.6" in res.stderr and "PostgreSQL 18 server" in res.stderr
    assert "older than" not in res.stderr


# --- 2. schema first, data second -------------------------------------------------------

@pytest.mark.parametrize("major, archive", [(15, PG15 / "custom.dump"),
                                            (18, PG18 / "custom.dump")])
def test_schema_then_data(request: Any, major: int, archive: Path) -> None:
    server = request.getfixturevalue(f"pg{major}_server")
    target = new_db(server)
    binaries = [pgenv.bindir(major), bin18()]
    schema = cli("restore", str(archive), "-d", target, "-s", path=binaries)
    assert schema.returncode == 0, schema.stderr
    assert "0/0 tables with matching row counts" in schema.stderr
    assert one(target, "SELECT count(*) FROM app.orders") == 0
    # -a into the non-empty database -s filled is what a data-only restore is for.  The
    # tables load in TOC order, "Order Lines" before the orders its foreign key needs:
    # without --disable-triggers that table's data cannot load, and the summary says so.
    data = cli("restore", str(archive), "-d", target, "-a", path=binaries)
    assert data.returncode == 1
    assert 'violates foreign key constraint "Order Lines_order_id_fkey"' in data.stderr
    assert "not restored: Mixed Case Schema.Order Lines: pg_restore could not load its " \
           "data" in data.stderr
    assert f"{ALL - 1}/{ALL - 1} tables with matching row counts, 1 not restored; " \
           "1 pg_restore error" in data.stderr
    # Loading again is refused (the tables have rows now) rather than doubling them.
    again = cli("restore", str(archive), "-d", target, "-a", "--disable-triggers",
                path=binaries)
    assert again.returncode == 2 and "already have rows" in again.stderr
    assert "2 of the archive's large objects exist on the target already" in again.stderr
    with psycopg.connect(target, autocommit=True) as c:
        row = c.execute("SELECT string_agg(oid::regclass::text, ', ') FROM pg_class WHERE "
                        "relkind IN ('r', 'p') AND relnamespace::regnamespace::text IN "
                        "('app', 'public', '\"Mixed Case Schema\"')").fetchone()
        assert row is not None
        c.execute(f"TRUNCATE {row[0]} CASCADE")
        c.execute("SELECT lo_unlink(oid) FROM pg_largeobject_metadata")
    done = cli("restore", str(archive), "-d", target, "-a", "--disable-triggers",
               path=binaries)
    assert done.returncode == 0, done.stderr
    assert f"{ALL}/{ALL} tables with matching row counts; 0 pg_restore errors" in done.stderr
    assert one(target, 'SELECT count(*) FROM "Mixed Case Schema"."Order Lines"') == 900


def test_data_only_needs_the_tables(pg18_server: Any) -> None:
    target = new_db(pg18_server)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-a", path=[bin18()])
    assert res.returncode == 2
    assert "a data-only restore (-a) loads into existing tables" in res.stderr
    assert "restore -s" in res.stderr


def test_non_empty_target_advice_is_clean_if_exists(pg18_server: Any) -> None:
    target = new_db(pg18_server)
    assert cli("restore", str(PG18 / "custom.dump"), "-d", target,
               path=[bin18()]).returncode == 0
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, path=[bin18()])
    assert res.returncode == 2
    assert "is not empty (" in res.stderr and " relations);" in res.stderr
    assert "--clean --if-exists" in res.stderr and "-a" in res.stderr


PG_RESTORE_REFUSES = [
    ["-s", "-a"], ["-a", "-c"], ["-1", "-j", "2"], ["-C", "-1"], ["--if-exists"],
    ["-1", "--transaction-size", "5"],
]


@pytest.mark.parametrize("flags", PG_RESTORE_REFUSES, ids=" ".join)
def test_option_combinations_pg_restore_refuses(flags: list[str]) -> None:
    """Refused before connecting (the port is closed), with the real pg_restore's words."""
    res = cli("restore", str(PG18 / "custom.dump"), "-d", "host=127.0.0.1 port=1", *flags,
              path=[bin18()])
    assert res.returncode == 2
    assert "cannot connect" not in res.stderr
    for major in (15, 18):
        real = subprocess.run([str(pgenv.bindir(major) / "pg_restore"), *flags, "-d", "x",
                               str(PG15 / "custom.dump")], capture_output=True, text=True)
        if "unrecognized option" in real.stderr:
            assert major < 17 and "--transaction-size" in flags
            continue
        assert real.returncode == 1
        reason = real.stderr.splitlines()[0].removeprefix("pg_restore: error: ")
        assert f"pgarchive: error: {reason} (" in res.stderr, (major, res.stderr)


def test_transaction_size_needs_pg_restore_17(pg15_server: Any) -> None:
    target = new_db(pg15_server)
    refused = cli("restore", str(PG15 / "custom.dump"), "-d", target, "--transaction-size",
                  "10", "--pg-restore", str(bin15() / "pg_restore"))
    assert refused.returncode == 2
    assert "--transaction-size needs pg_restore 17 or later" in refused.stderr
    # Offered where the chosen pg_restore has it: into PostgreSQL 18 with pg_restore 18.
    assert user_relations(target) == 0


# --- 3. the summary claims nothing about tables that did not arrive -----------------------

@pytest.fixture
def restored_schema(pg18_server: Any) -> str:
    target = new_db(pg18_server)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-s", path=[bin18()])
    assert res.returncode == 0, res.stderr
    return target


def test_data_that_cannot_load_is_not_restored(restored_schema: str) -> None:
    target = restored_schema
    with psycopg.connect(target, autocommit=True) as c:
        c.execute("ALTER TABLE app.orders ADD CONSTRAINT small CHECK (total < 100)")
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-a", "--disable-triggers",
              path=[bin18()])
    assert res.returncode == 1
    assert 'violates check constraint "small"' in res.stderr
    assert "not restored: app.orders: pg_restore could not load its data" in res.stderr
    assert "rows differ" not in res.stderr
    assert f"{ALL - 1}/{ALL - 1} tables with matching row counts, 1 not restored; " \
           "1 pg_restore error" in res.stderr
    assert "did not fully succeed" in res.stderr


def test_exit_on_error_leaves_the_rest_not_restored(restored_schema: str) -> None:
    target = restored_schema
    with psycopg.connect(target, autocommit=True) as c:
        c.execute("ALTER TABLE app.customers ADD CONSTRAINT small CHECK (id < 10)")
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-a", "--disable-triggers",
              "-e", path=[bin18()])
    assert res.returncode == 1
    assert "not restored: app.customers: pg_restore could not load its data" in res.stderr
    assert "not restored: public.empty_table: pg_restore stopped before it" in res.stderr
    assert "rows differ" not in res.stderr


def test_single_transaction_failure_restores_nothing(restored_schema: str) -> None:
    target = restored_schema
    with psycopg.connect(target, autocommit=True) as c:
        c.execute("ALTER TABLE app.vehicles ADD CONSTRAINT small CHECK (id < 2)")
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-a", "--disable-triggers",
              "-1", path=[bin18()])
    assert res.returncode == 1
    assert f"0/0 tables with matching row counts, {ALL} not restored" in res.stderr
    assert "-1 rolled the whole restore back after an error" in res.stderr
    assert one(target, "SELECT count(*) FROM app.orders") == 0


def test_single_transaction_restore(pg18_server: Any) -> None:
    target = new_db(pg18_server)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-1", path=[bin18()])
    assert res.returncode == 0, res.stderr
    assert "--single-transaction" not in res.stderr  # nothing went wrong to mention it
    assert f"{ALL}/{ALL} tables with matching row counts" in res.stderr


# --- the post-restore check must be able to fail ------------------------------------------

def test_force_into_a_table_with_rows_is_a_mismatch(pg18_server: Any) -> None:
    """app.cars (2 rows, no unique key) already has a row: --force loads the archive's two
    on top, and the count check says so."""
    target = new_db(pg18_server)
    assert cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", "cars",
               "--with-deps", path=[bin18()]).returncode == 0
    with psycopg.connect(target, autocommit=True) as c:
        c.execute("INSERT INTO app.cars VALUES (9, 'already here', 4)")
    refused = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", "cars",
                  "--with-deps", path=[bin18()])
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    forced = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", "cars",
                 "--with-deps", "--force", path=[bin18()])
    assert forced.returncode == 1
    assert "[--force: going on]" in forced.stderr
    assert one(target, "SELECT count(*) FROM ONLY app.cars") == 5
    assert ("rows differ: app.cars: archive 2 rows, target 5 rows (the target has more rows "
            "than the archive)") in forced.stderr
    assert "0/1 tables with matching row counts" in forced.stderr


def test_rows_changed_between_archive_and_target_is_a_mismatch(restored_schema: str) -> None:
    """A trigger on the target drops some rows as they load: COPY succeeds, counts differ."""
    target = restored_schema
    with psycopg.connect(target, autocommit=True) as c:
        c.execute("CREATE FUNCTION public.skip_odd() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$BEGIN IF NEW.id % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END$$")
        c.execute("CREATE TRIGGER skip BEFORE INSERT ON app.vehicles FOR EACH ROW EXECUTE "
                  "FUNCTION public.skip_odd()")
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-a", "-t", "vehicles",
              path=[bin18()])
    assert res.returncode == 1
    assert ("rows differ: app.vehicles: archive 2 rows, target 1 rows (the target has fewer "
            "rows than the archive)") in res.stderr
    assert "0/1 tables with matching row counts; 0 pg_restore errors" in res.stderr


# --- 4. --with-fks ------------------------------------------------------------------------

@pytest.mark.parametrize("major, archive", [(15, PG15 / "custom.dump"),
                                            (18, PG18 / "custom.dump")])
def test_with_fks_restores_the_referenced_tables_with_their_data(request: Any, major: int,
                                                                  archive: Path) -> None:
    server = request.getfixturevalue(f"pg{major}_server")
    target = new_db(server)
    res = cli("restore", str(archive), "-d", target, "-t", "Order Lines", "--with-deps",
              "--with-fks", path=[pgenv.bindir(major), bin18()])
    assert res.returncode == 0, res.stderr
    assert "3/3 tables with matching row counts; 0 pg_restore errors" in res.stderr
    assert one(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                       "AND convalidated") == 2
    assert one(target, "SELECT count(*) FROM app.customers") == 150
    assert one(target, "SELECT count(*) FROM app.orders") == 400
    assert one(target, "SELECT to_regclass('app.events')") is None


# --- 5. --clean --if-exists --with-deps never drops what was only needed ------------------

@pytest.mark.parametrize("table, needed", [("Order Lines", "SCHEMA - Mixed Case Schema"),
                                           ("order_log", "SCHEMA - app")])
def test_clean_with_deps_leaves_needed_objects_alone(pg18_server: Any, table: str,
                                                     needed: str) -> None:
    target = new_db(pg18_server)
    assert cli("restore", str(PG18 / "custom.dump"), "-d", target,
               path=[bin18()]).returncode == 0
    before = user_relations(target)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", table, "--with-deps",
              "--clean", "--if-exists", path=[bin18()])
    assert res.returncode == 0, res.stderr
    assert "that --with-deps needs and the target already has" in res.stderr
    assert needed.replace(" - ", " ") in res.stderr
    assert "1/1 tables with matching row counts; 0 pg_restore errors" in res.stderr
    assert user_relations(target) == before
    dry = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", table, "--with-deps",
              "--clean", "--if-exists", "--dry-run", path=[bin18()])
    assert dry.returncode == 0, dry.stderr
    assert needed not in dry.stdout and "TABLE DATA" in dry.stdout


# --- 6. empty selections --------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["-t", "nosuchtable"], "nothing to restore: -t nosuchtable matched nothing"),
    (["-t", "Orders"], "-t Orders matched nothing (did you mean orders?"),
    (["-s", "-a"], "options -s/--schema-only and -a/--data-only cannot be used together"),
    (["-t", "orders", "--with-fks"], "--with-fks needs --with-deps"),
])
def test_selections_that_cannot_work_are_refused(args: list[str], says: str) -> None:
    res = cli("restore", str(PG18 / "custom.dump"), "-d", "host=127.0.0.1 port=1", *args,
              path=[bin18()])
    assert res.returncode == 2
    assert says in res.stderr
    assert "cannot connect" not in res.stderr


def test_strict_names(pg18_server: Any) -> None:
    target = new_db(pg18_server)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", "orders", "-t",
              "nosuch", "--strict-names", path=[bin18()])
    # pg_restore's StrictNamesCheck, in its words
    assert res.returncode == 2 and 'error: table "nosuch" not found' in res.stderr
    lax = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-t", "orders", "-t",
              "nosuch", "--dry-run", path=[bin18()])
    assert lax.returncode == 0 and "warning: -t nosuch matched nothing" in lax.stderr


# --- 7. a role that cannot act as the owners ------------------------------------------

@pytest.fixture(scope="module")
def restorer(pg18_server: Any) -> str:
    pg18_server.psql("postgres", "CREATE ROLE restorer LOGIN")
    return "restorer"


def test_non_superuser_is_told_before_anything_is_written(pg18_server: Any,
                                                          restorer: str) -> None:
    name = new_db(pg18_server, owner=restorer).split("dbname=")[1].split()[0]
    target = str(pg18_server.conninfo(name, user=restorer))
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, path=[bin18()])
    assert res.returncode == 2
    assert ("restorer cannot act as the owners Bob Smith, alice, postgres of selected "
            "entries") in res.stderr
    assert "-O/--no-owner" in res.stderr
    assert user_relations(target) == 0
    owned = cli("restore", str(PG18 / "custom.dump"), "-d", target, "-O", "-t", "orders",
                "--with-deps", path=[bin18()])
    assert owned.returncode == 0, owned.stderr
    assert one(target, "SELECT relowner::regrole::text FROM pg_class WHERE oid = "
                       "'app.orders'::regclass") == "restorer"


def test_role(pg18_server: Any, restorer: str) -> None:
    """--role: pg_restore acts as that role; the pre-flight checks what it may do."""
    target = new_db(pg18_server)
    dbname = target.split("dbname=")[1].split()[0]
    args = ["restore", str(PG18 / "custom.dump"), "-d", target, "--role", restorer, "-O",
            "-t", "vehicles", "--with-deps"]
    refused = cli(*args, path=[bin18()])
    assert refused.returncode == 2
    assert (f"restorer may not create schemas in database '{dbname}' (the restore creates "
            "app)") in refused.stderr
    assert user_relations(target) == 0
    pg18_server.psql(dbname, f"GRANT CREATE ON DATABASE {dbname} TO {restorer}")
    res = cli(*args, path=[bin18()])
    assert res.returncode == 0, res.stderr
    assert one(target, "SELECT relowner::regrole::text FROM pg_class WHERE oid = "
                       "'app.vehicles'::regclass") == restorer
    disabled = cli("restore", str(PG18 / "custom.dump"), "-d", target, "--role", restorer,
                   "-a", "--disable-triggers", "-t", "vehicles", "--force", "--dry-run",
                   path=[bin18()])
    assert disabled.returncode == 2
    assert "--disable-triggers needs a superuser" in disabled.stderr


# --- 8. --dry-run checks everything -------------------------------------------------------

def test_dry_run_exits_as_the_restore_would(pg18_server: Any) -> None:
    full = str(pg18_server.conninfo("ref"))
    res = cli("restore", str(PG18 / "custom.dump"), "-d", full, "--dry-run", path=[bin18()])
    assert res.returncode == 2 and "is not empty" in res.stderr
    assert "# LIST_FILE holds the dump id" in res.stdout
    closed = pgenv.free_port()
    res = cli("restore", str(PG18 / "custom.dump"), "-d", f"host=127.0.0.1 port={closed}",
              "--dry-run", path=[bin18()])
    assert res.returncode == 2
    assert "Connection refused. Is the server running" in res.stderr
    target = new_db(pg18_server)
    res = cli("restore", str(PG18 / "custom.dump"), "-d", target, "--dry-run", "-t",
              "orders", path=[bin18()])
    assert res.returncode == 0, res.stderr
    assert "--use-list LIST_FILE" in res.stdout and "TABLE app orders" in res.stdout
    assert user_relations(target) == 0


# --- directory and tar archives -------------------------------------------------------

@pytest.mark.parametrize("major, name", [(15, "dir"), (15, "tar.tar"), (18, "dir_lz4"),
                                         (18, "tar.tar"), (18, "dir_j2")])
def test_directory_and_tar(request: Any, major: int, name: str) -> None:
    server = request.getfixturevalue(f"pg{major}_server")
    target = new_db(server)
    args = ["-j", "2"] if name.startswith("dir") else []
    res = cli("restore", str(TESTDATA / f"pg{major}" / name), "-d", target, *args,
              path=[pgenv.bindir(major)])
    assert res.returncode == 0, res.stderr
    assert f"{ALL}/{ALL} tables with matching row counts; 0 pg_restore errors" in res.stderr


# --- pooler ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pgbouncer(pg18_server: Any) -> Any:
    """A real PgBouncer (Debian's package, installed by tests/run.sh) in transaction
    pooling mode in front of the PostgreSQL 18 server."""
    exe = next((p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)),
               None)
    if exe is None:
        pytest.fail("pgbouncer is not installed: tests/run.sh installs it (apt-get install "
                    "pgbouncer, as root)")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="pgarchive-pgbouncer-"))  # readable by its user
    folder.chmod(0o777)
    port = pgenv.free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n* = host=127.0.0.1 port={pg18_server.port}\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
        f"auth_file = {folder}/users.txt\npool_mode = transaction\nunix_socket_dir =\n"
        f"logfile = {folder}/log\npidfile = {folder}/pid\n")
    user = pgenv.run_as_user()
    if user:
        import pwd

        uid = pwd.getpwnam(user).pw_uid
        for p in folder.iterdir():
            os.chown(p, uid, -1)
    argv = ["runuser", "-u", user, "--", exe] if user else [exe]
    proc = subprocess.Popen([*argv, str(folder / "pgbouncer.ini")])
    try:
        for _ in range(100):
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} dbname=postgres user=postgres",
                                connect_timeout=2).close()
                break
            except psycopg.Error:
                import time

                time.sleep(0.1)
        else:
            log = folder / "log"
            pytest.fail(f"pgbouncer did not start: {log.read_text() if log.exists() else ''}")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_pgbouncer_is_detected(pg18_server: Any, pgbouncer: int) -> None:
    target = new_db(pg18_server)
    dbname = target.split("dbname=")[1].split()[0]
    res = cli("restore", str(PG18 / "custom.dump"), "-d",
              f"host=127.0.0.1 port={pgbouncer} dbname={dbname} user=postgres",
              path=[bin18()])
    assert res.returncode == 2
    assert "is a connection pooler, not the server: the backend key it gave us" in res.stderr
    assert user_relations(target) == 0


# --- secrets --------------------------------------------------------------------------

WRAPPER = """#!/bin/sh
# records how pgarchive ran pg_restore, then runs the real one
printf '%s\\n' "$@" > {log}/argv
env > {log}/env
if [ -n "$PGSERVICEFILE" ]; then
  cp "$PGSERVICEFILE" {log}/service; stat -c %a "$PGSERVICEFILE" > {log}/service.mode
fi
for a in "$@"; do case "$prev" in --use-list) cp "$a" {log}/list;; esac; prev="$a"; done
exec {real} "$@"
"""


def test_secrets_never_reach_argv_or_output(password_server: Any, tmp_path: Path) -> None:
    s = password_server
    s.run(["createdb", "-T", "template0", "secret"])
    wrapper = tmp_path / "pg_restore"
    wrapper.write_text(WRAPPER.format(log=tmp_path, real=bin18() / "pg_restore"))
    wrapper.chmod(0o755)
    conninfo = (f"host={s.host} port={s.port} dbname=secret user={s.superuser} "
                f"password={s.password} sslpassword=KeyPassw0rd sslmode=disable")
    dry = cli("restore", str(PG18 / "custom.dump"), "-d", conninfo, "-O", "-x",
              "--no-policies", "--dry-run", "--pg-restore", str(wrapper))
    assert dry.returncode == 0, dry.stderr
    assert "password=********" in dry.stdout and "sslpassword=********" in dry.stdout
    res = cli("restore", str(PG18 / "custom.dump"), "-d", conninfo, "-O", "-x",
              "--no-policies", "--pg-restore", str(wrapper))
    assert res.returncode == 0, res.stderr
    for output in (dry.stdout + dry.stderr, res.stdout + res.stderr,
                   (tmp_path / "argv").read_text()):
        assert s.password not in output and "KeyPassw0rd" not in output
    assert f"PGPASSWORD={s.password}" in (tmp_path / "env").read_text()
    assert (tmp_path / "service").read_text() == "[pgarchive]\nsslpassword=KeyPassw0rd\n"
    assert (tmp_path / "service.mode").read_text().strip() == "600"
    assert "service=pgarchive" in (tmp_path / "argv").read_text()
    # restore's own list file: dump ids alone, nothing from the archive's text
    assert all(line.isdigit() for line in (tmp_path / "list").read_text().splitlines())
    assert not stat.S_IMODE(os.stat(tmp_path / "argv").st_mode) & 0o002


def test_wrong_password_is_clear_and_secret(password_server: Any) -> None:
    s = password_server
    res = cli("restore", str(PG18 / "custom.dump"), "-d",
              f"postgresql://{s.superuser}:WrongPassw0rd@{s.host}:{s.port}/postgres"
              "?sslpassword=AlsoSecret", path=[bin18()])
    assert res.returncode == 2
    assert "password authentication failed" in res.stderr
    assert "WrongPassw0rd" not in res.stderr + res.stdout
    assert "AlsoSecret" not in res.stderr + res.stdout


# --- the library call -----------------------------------------------------------------

def test_library_call_and_a_count_that_fails_after_the_run(pg18_server: Any,
                                                           monkeypatch: Any) -> None:
    """restore.run() is the whole restore; if the archive's rows cannot be counted once
    pg_restore has run, the outcome says so and exits 1 (not 2: something was written)."""
    from pgarchive.errors import ArchiveError
    from pgarchive.restore import RestoreRequest, parse_target, run
    from pgarchive.selection import RestoreOptions, Selection

    sel = Selection(RestoreOptions(tables=("vehicles",), sel_table=True), with_deps=True)
    request = RestoreRequest(str(PG18 / "custom.dump"), parse_target(new_db(pg18_server)),
                             sel, pg_restore=str(bin18() / "pg_restore"))
    good = run(request)
    assert good.exit_code == 0 and good.run is not None and good.run.ok
    assert [(t.name, t.status, t.archive_rows) for t in good.tables] == [
        ("app.vehicles", "match", 2)]

    def damaged(*_: Any) -> dict[int, int]:
        raise ArchiveError("damaged for the test", path="x.dump")

    monkeypatch.setattr(sys.modules["pgarchive.restore.run"], "archive_row_counts", damaged)
    bad = run(replace(request, target=parse_target(new_db(pg18_server))))
    assert bad.run is not None and bad.run.ok and not bad.tables
    assert bad.count_error == "x.dump: damaged for the test" and bad.exit_code == 1
