"""The native engine against pg_restore: the same archive restored by each into two fresh
databases of the same server must give the same catalog (every object and its
definition, owners, ACLs, comments: ``pg_dump -s``), the same rows (a checksum per
table), sequences and large objects, the same exit status and the same failing entries.

Every archive of testdata/index.json is covered on PostgreSQL 18, the ones pg_restore 15
reads on PostgreSQL 15.  The whole matrix takes ~5 minutes on the shared 2-core machine,
so each run takes a fixed core (every version, format and compression, INSERT-style
data, a data-only and a schema-only archive, statistics) and a random sample of the rest;
the sample's seed is in the test ids (``sample<seed>``).  PGARCHIVE_ENGINE_SEED=N replays
a sample, PGARCHIVE_ENGINE_MATRIX=full runs every archive.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from engine_helpers import Restored, drop_db, new_db, restore, snapshot, sql

from helpers import INDEX, TESTDATA
from pgarchive.format.constants import Section
from pgarchive.selection import RestoreOptions, Selection

CORE18 = ["pg10/custom.dump", "pg11/tar.tar", "pg12/dir", "pg14/custom_pipe.dump",
          "pg15/dir_j2", "pg16/custom_lz4.dump", "pg16/dir_zstd", "pg17/custom_zstd.dump",
          "pg17/tar.tar", "pg18/custom.dump", "pg18/custom_stats.dump", "pg18/dir_z0",
          "pg18/schema_only.dump", "pg18/data_only.dump", "samples/bigoid18.dump",
          "samples/synthetic_v112_nosearchpath.dump", "sqlextra/extras_inserts.dump",
          "sqlextra/extras_colinserts", "sqlextra/extras_root.tar"]
CORE15 = ["pg15/custom.dump", "pg14/dir", "pg12/tar.tar", "pg15/data_only.dump",
          "samples/v15_pipe.dump", "pg10/custom_z0.dump"]
#: what pg_restore 15 reads: archive versions up to 1.14
READ_BY_15 = ("pg10/", "pg11/", "pg12/", "pg14/", "pg15/", "samples/v15", "samples/bigoid15",
              "samples/synthetic")
SAMPLE = 6
SEED = int(os.environ.get("PGARCHIVE_ENGINE_SEED") or random.SystemRandom().randrange(10**6))
FULL = os.environ.get("PGARCHIVE_ENGINE_MATRIX") == "full"


def _matrix(core: list[str], readable: Any) -> list[Any]:
    names = [i["archive"] for i in INDEX if readable(i["archive"])]
    rest = [n for n in names if n not in core]
    picked = rest if FULL else random.Random(SEED).sample(rest, min(SAMPLE, len(rest)))
    return ([pytest.param(n, id=n) for n in core] +
            [pytest.param(n, id=f"sample{SEED}-{n}") for n in picked])


def _schema_source(archive: str) -> str | None:
    """A data-only archive is restored into the schema of its group's schema-only one."""
    if "data_only" not in archive:
        return None
    return str(TESTDATA / archive.replace("data_only", "schema_only"))


def _both(server: Any, archive: str, selection: Selection | None = None,
          before: Any = None, **kw: Any) -> tuple[Restored, Restored, list[str]]:
    """Restore with each engine into its own fresh database; what differs."""
    results, snaps = [], []
    for engine in ("native", "pg_restore"):
        db = new_db(server)
        if before is not None:
            before(db)
        results.append(restore(server, archive, db, engine, selection, **kw))
        snaps.append(snapshot(server, db))
        drop_db(server, db)
    return results[0], results[1], snaps[0].differences(snaps[1])


def _same(native: Restored, pg: Restored, differences: list[str]) -> None:
    assert native.outcome.engine == "native" and pg.outcome.engine == "pg_restore"
    assert pg.outcome.run is not None and native.outcome.run is not None
    assert not differences, "\n".join(differences)
    assert native.outcome.exit_code == pg.outcome.exit_code, (native.errors, pg.errors)
    assert len(native.errors) == len(pg.errors), \
        ([e.text for e in native.errors], [e.text for e in pg.errors])
    assert ({e.entry for e in native.errors} == {e.entry for e in pg.errors}), \
        ([e.text for e in native.errors], [e.text for e in pg.errors])
    assert [(t.name, t.status, t.archive_rows) for t in native.outcome.tables] == \
        [(t.name, t.status, t.archive_rows) for t in pg.outcome.tables]


def _archive_case(server: Any, archive: str) -> None:
    schema = _schema_source(archive)
    kw: dict[str, Any] = {}
    before = None
    if schema is not None:
        kw["disable_triggers"] = True

        def before(db: str) -> None:  # the same definitions under both
            out = restore(server, schema, db, "pg_restore")
            assert out.outcome.exit_code == 0, [e.text for e in out.errors]
    native, pg, diff = _both(server, str(TESTDATA / archive), before=before, force=True, **kw)
    _same(native, pg, diff)


@pytest.mark.slow
@pytest.mark.parametrize("archive", _matrix(CORE18, lambda n: True))
def test_every_archive_on_18(engine_pg18: Any, archive: str) -> None:
    _archive_case(engine_pg18, archive)


@pytest.mark.slow
@pytest.mark.parametrize("archive", _matrix(CORE15, lambda n: n.startswith(READ_BY_15)))
def test_every_archive_on_15(engine_pg15: Any, archive: str) -> None:
    _archive_case(engine_pg15, archive)


CORPUS = str(TESTDATA / "pg18" / "custom.dump")
OPTION_SETS = {
    "no-owner-role": dict(no_owner=True, role="boss"),
    "no-acl-no-comments": dict(selection=Selection(RestoreOptions(no_acl=True,
                                                                  no_comments=True))),
    "single-transaction": dict(single_transaction=True),
    "transaction-size": dict(transaction_size=7),
    # alice may not create schemas in the database: errors, the same ones
    "set-session-authorization": dict(use_set_session_authorization=True),
    "no-tablespaces-am-row-security": dict(no_tablespaces=True, no_table_access_method=True,
                                           enable_row_security=True),
    "tables-with-deps": dict(selection=Selection(RestoreOptions(tables=("orders",),
                                                                sel_table=True),
                                                 with_deps=True, with_fks=True)),
    # -n app leaves the schema itself out: its objects fail, the same ones
    "schema-app-no-data": dict(selection=Selection(RestoreOptions(schemas=("app",),
                                                                  schema_only=True))),
    # orders' rows left out: the foreign key of "Order Lines" fails, for both
    "exclude-table-data": dict(selection=Selection(RestoreOptions(),
                                                   exclude_table_data=("app.orders",))),
}


@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_option_sets(engine_pg18: Any, name: str) -> None:
    sql(engine_pg18, "postgres", "DO $$BEGIN CREATE ROLE boss SUPERUSER; "
                                 "EXCEPTION WHEN duplicate_object THEN NULL; END$$")
    kw = dict(OPTION_SETS[name])
    native, pg, diff = _both(engine_pg18, CORPUS, **kw)
    _same(native, pg, diff)
    if name in ("set-session-authorization", "schema-app-no-data", "exclude-table-data"):
        assert len(native.errors) == len(pg.errors) > 0
    else:
        assert native.outcome.exit_code == 0, [e.text for e in native.errors]


def test_clean_if_exists_over_a_restore(engine_pg18: Any) -> None:
    """-c --if-exists over a database the same archive was restored into."""
    def before(db: str) -> None:
        assert restore(engine_pg18, CORPUS, db, "pg_restore").outcome.exit_code == 0
    native, pg, diff = _both(engine_pg18, CORPUS, before=before, clean=True, if_exists=True)
    _same(native, pg, diff)
    # the partitions' inherited primary keys cannot be dropped on their own: 3 errors,
    # pg_restore's too
    assert len(native.errors) == 3


def test_schema_then_data_then_sections(engine_pg18: Any) -> None:
    """-s then -a --disable-triggers; and --section by --section: as pg_restore does."""
    snaps = {}
    for engine in ("native", "pg_restore"):
        db = new_db(engine_pg18)
        s = restore(engine_pg18, CORPUS, db, engine, Selection(RestoreOptions(schema_only=True)))
        a = restore(engine_pg18, CORPUS, db, engine, Selection(RestoreOptions(data_only=True)),
                    disable_triggers=True)
        assert s.outcome.exit_code == 0 and a.outcome.exit_code == 0, [
            e.text for e in s.errors + a.errors]
        db2 = new_db(engine_pg18)
        for section in (Section.PRE_DATA, Section.DATA, Section.POST_DATA):
            r = restore(engine_pg18, CORPUS, db2, engine,
                        Selection(RestoreOptions(sections=frozenset({section}))), force=True)
            assert r.outcome.exit_code == 0, [e.text for e in r.errors]
        snaps[engine] = (snapshot(engine_pg18, db), snapshot(engine_pg18, db2))
        drop_db(engine_pg18, db)
        drop_db(engine_pg18, db2)
    for n, p in zip(snaps["native"], snaps["pg_restore"], strict=True):
        assert not n.differences(p), "\n".join(n.differences(p))


def test_create_database(engine_pg18: Any) -> None:
    """-C: CREATE DATABASE on the first connection, then the rest in the new database."""
    snaps = []
    for engine in ("native", "pg_restore"):
        r = restore(engine_pg18, CORPUS, "postgres", engine,
                    Selection(RestoreOptions(create=True)))
        assert r.outcome.exit_code == 0, [e.text for e in r.errors]
        assert "dbname=corpus" in r.outcome.database
        snaps.append(snapshot(engine_pg18, "corpus", create=True))
        drop_db(engine_pg18, "corpus")
    assert not snaps[0].differences(snaps[1]), "\n".join(snaps[0].differences(snaps[1]))


def test_parallel_equals_pg_restore_parallel(engine_pg18: Any) -> None:
    native, pg, diff = _both(engine_pg18, str(TESTDATA / "pg18" / "dir"), jobs=2)
    _same(native, pg, diff)
    assert native.outcome.exit_code == 0


@pytest.mark.parametrize("archive", ["pg18/dir", "pg18/custom_pipe.dump", "pg18/tar.tar"])
def test_parallel_equals_serial(engine_pg18: Any, archive: str) -> None:
    """-j 4, also on the tar and piped archives pg_restore restores serially only."""
    snaps = []
    for jobs in (4, 1):
        db = new_db(engine_pg18)
        r = restore(engine_pg18, TESTDATA / archive, db, "native", jobs=jobs)
        assert r.outcome.exit_code == 0, [e.text for e in r.errors]
        assert r.outcome.engine == "native"
        snaps.append(snapshot(engine_pg18, db))
        drop_db(engine_pg18, db)
    assert not snaps[0].differences(snaps[1]), "\n".join(snaps[0].differences(snaps[1]))


def test_newer_archive_on_15_adapted(engine_pg15: Any) -> None:
    """A pg_dump 18 archive into PostgreSQL 15: no pg_restore both reads it and suits the
    server, so auto restores natively, adapting what 15 does not know; the database is the
    one pg_restore 15 makes of pg_dump 15's archive of the same corpus."""
    db = new_db(engine_pg15)
    r = restore(engine_pg15, CORPUS, db, "auto")
    assert r.outcome.engine == "native"
    assert "newer than the PostgreSQL 15 server" in r.outcome.engine_reason
    assert r.outcome.exit_code == 0, [e.text for e in r.errors]
    assert any("adapted for the PostgreSQL 15 server" in m.text for m in r.messages)
    ref = new_db(engine_pg15)
    p = restore(engine_pg15, TESTDATA / "pg15" / "custom.dump", ref, "pg_restore")
    assert p.outcome.choice is not None and p.outcome.choice.pg.major == 15
    assert p.outcome.exit_code == 0
    a, b = snapshot(engine_pg15, db), snapshot(engine_pg15, ref)
    assert not a.differences(b), "\n".join(a.differences(b))
