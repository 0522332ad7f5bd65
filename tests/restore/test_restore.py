"""pgarchive restore against throwaway PostgreSQL servers, with the real pg_restore."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from typing import Any

import psycopg
import pytest
from forecast_oracle import run_pgarchive

from helpers import TESTDATA
from pgarchive import open as pgarchive_open
from pgarchive.restore.binaries import PgRestore
from pgarchive.restore.rowcheck import archive_row_counts

sys.path.insert(0, str(TESTDATA))
import pgenv

ARCHIVE = str(TESTDATA / "pg18" / "custom.dump")
#: the corpus' tables (tables.json: what the server had), not a number typed by hand
ALL = len(json.loads((TESTDATA / "pg18" / "tables.json").read_text())["tables"])
_db = itertools.count()


def pgarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, PG_RESTORE=str(pgenv.bindir(18) / "pg_restore"), **(env or {}))
    full.pop("PGPASSWORD", None)
    return run_pgarchive(args, full)


def new_db(server: Any) -> tuple[str, str]:
    name = f"r{next(_db)}"
    server.run(["createdb", "-T", "template0", name])
    return name, f"host={server.host} port={server.port} dbname={name} user={server.superuser}"


def count(conninfo: str, sql: str) -> int:
    with psycopg.connect(conninfo) as c:
        row = c.execute(sql).fetchone()
        assert row is not None
        return int(row[0])


def test_full_restore_row_counts_match(pg18_server: Any) -> None:
    _, target = new_db(pg18_server)
    res = pgarchive("restore", ARCHIVE, "-d", target)
    assert res.returncode == 0, res.stderr
    assert f"{ALL}/{ALL} tables with matching row counts; 0 pg_restore errors" in res.stderr
    assert count(target, "SELECT count(*) FROM app.orders") == 400
    assert count(target, 'SELECT count(*) FROM "Mixed Case Schema"."Order Lines"') == 900


def test_selective_with_deps_and_parallel(pg18_server: Any) -> None:
    _, target = new_db(pg18_server)
    res = pgarchive("restore", ARCHIVE, "-d", target, "-t", "orders", "-t", "customers",
                    "--with-deps", "-j", "2")
    assert res.returncode == 0, res.stderr
    assert "2/2 tables with matching row counts" in res.stderr
    assert count(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == 1
    assert count(target, "SELECT count(*) FROM pg_class WHERE relname = 'events'") == 0


def test_parallel_refused_for_pipe_archives(pg18_server: Any) -> None:
    _, target = new_db(pg18_server)
    # (--engine auto restores it with the native engine: test_engine_cli)
    res = pgarchive("restore", str(TESTDATA / "pg18" / "custom_pipe.dump"), "-d", target,
                    "-j", "2", "--engine", "pg_restore")
    assert res.returncode == 2
    assert "--jobs 2 is not possible" in res.stderr and "pipe" in res.stderr


def test_non_empty_target_refused(pg18_server: Any) -> None:
    target = str(pg18_server.conninfo("ref"))
    before = count(target, "SELECT count(*) FROM pg_class")
    res = pgarchive("restore", ARCHIVE, "-d", target)
    assert res.returncode == 2 and "is not empty" in res.stderr and "--clean" in res.stderr
    assert count(target, "SELECT count(*) FROM pg_class") == before


def test_dry_run_changes_nothing(pg18_server: Any) -> None:
    _, target = new_db(pg18_server)
    res = pgarchive("restore", ARCHIVE, "-d", target + " password=hunter2", "--dry-run",
                    "-t", "orders", "--with-deps")
    assert res.returncode == 0, res.stderr
    assert "hunter2" not in res.stdout + res.stderr and "password=********" in res.stdout
    assert "TABLE app orders" in res.stdout
    assert count(target, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                 "n.oid = c.relnamespace WHERE n.nspname = 'app'") == 0


def test_pooled_hostname_refused() -> None:
    res = pgarchive("restore", ARCHIVE, "-d",
                    "postgresql://u:topsecret@ep-cool-1234-pooler.eu-central-1.aws.example.com/db")
    assert res.returncode == 2
    assert "pooled" in res.stderr and "unpooled connection string" in res.stderr
    assert "topsecret" not in res.stderr


def test_pg_restore_too_old_for_the_archive() -> None:
    old = str(pgenv.bindir(15) / "pg_restore")
    res = subprocess.run([sys.executable, "-m", "pgarchive", "restore", ARCHIVE, "-d",
                          "dbname=x", "--pg-restore", old], capture_output=True, text=True)
    assert res.returncode == 2
    assert "archive version 1.16" in res.stderr and "PostgreSQL 17 or later" in res.stderr
    assert f"{old} (15." in res.stderr


def test_missing_roles_then_no_owner(password_server: Any) -> None:
    s = password_server
    s.run(["createdb", "-T", "template0", "noroles"])
    url = f"postgresql://{s.superuser}:{s.password}@{s.host}:{s.port}/noroles"
    refused = pgarchive("restore", ARCHIVE, "-d", url)
    assert refused.returncode == 2
    assert "roles named in the selected entries do not exist" in refused.stderr
    assert "alice" in refused.stderr and "--no-owner" in refused.stderr
    assert s.password not in refused.stderr
    # Policies name roles too, and --no-acl does not remove them: said before starting.
    policies = pgarchive("restore", ARCHIVE, "-d", url, "--no-owner", "--no-acl")
    assert policies.returncode == 2
    assert "reader" in policies.stderr and "--no-policies" in policies.stderr
    done = pgarchive("restore", ARCHIVE, "-d", url, "--no-owner", "--no-acl", "--no-policies")
    assert done.returncode == 0, done.stderr
    assert f"{ALL}/{ALL} tables with matching row counts" in done.stderr
    assert s.password not in done.stderr + done.stdout


def test_create_then_clean(pg18_server: Any) -> None:
    """-C creates the archive's database (refused once it exists); --clean restores over it."""
    maintenance = str(pg18_server.conninfo("postgres"))
    first = pgarchive("restore", ARCHIVE, "-d", maintenance, "-C")
    assert first.returncode == 0, first.stderr
    assert "dbname=corpus" in first.stderr and f"{ALL}/{ALL} tables" in first.stderr
    again = pgarchive("restore", ARCHIVE, "-d", maintenance, "-C")
    assert again.returncode == 2 and "already exists" in again.stderr
    corpus = str(pg18_server.conninfo("corpus"))
    with psycopg.connect(corpus, autocommit=True) as c:
        c.execute("DELETE FROM app.order_log")
        c.execute("INSERT INTO app.vehicles VALUES (99, 'extra')")
    clean = pgarchive("restore", ARCHIVE, "-d", corpus, "--clean", "--if-exists")
    assert f"{ALL}/{ALL} tables with matching row counts" in clean.stderr
    assert count(corpus, "SELECT count(*) FROM ONLY app.vehicles") == 2
    # pg_restore 18 cannot drop the partitions' inherited constraints when cleaning: each
    # such error is shown as it happens, counted, and makes the exit status non-zero.
    errors = [x for x in clean.stderr.splitlines() if x.startswith("pg_restore: error:")]
    assert f"; {len(errors)} pg_restore error{'' if len(errors) == 1 else 's'}" in clean.stderr
    assert clean.returncode == (1 if errors else 0)


@pytest.mark.parametrize("major", [m for m in pgenv.MAJORS if m in (15, 18) or
                                   (pgenv.CACHE / str(m) / ".complete").exists()])
def test_which_archives_each_pg_restore_reads_is_real(major: int) -> None:
    """The READS_UP_TO table agrees with what the real pg_restore of that major does."""
    from pgarchive.restore.binaries import _version_of

    path = str(pgenv.bindir(major) / "pg_restore")
    version = _version_of(path)
    assert version is not None
    pg = PgRestore(path, version, "test")
    for sample in ("pg10/custom.dump", "pg12/custom.dump", "pg16/custom.dump",
                   "pg18/custom.dump"):
        archive = str(TESTDATA / sample)
        with pgarchive_open(archive) as a:
            vmaj, vmin = a.header.vmaj, a.header.vmin
        real = subprocess.run([path, "-l", archive], capture_output=True).returncode == 0
        assert real == pg.can_read(vmaj, vmin), (major, sample)


@pytest.mark.parametrize("name", ["custom.dump", "custom_z0.dump", "dir_lz4", "tar.tar"])
def test_archive_row_counts_match_the_server(name: str) -> None:
    """What the restore compares with: the source server's own counts (tables.json)."""
    facts = json.loads((TESTDATA / "pg18" / "tables.json").read_text())["tables"]
    with pgarchive_open(str(TESTDATA / "pg18" / name)) as a:
        data = [e for e in a.entries if e.desc == "TABLE DATA"]
        counts = archive_row_counts(a, data)
        assert counts and set(counts) == {e.dump_id for e in data if e.has_data}
        for e in data:
            assert counts[e.dump_id] == facts[f"{e.namespace}.{e.tag}"]["rows"], e.label
