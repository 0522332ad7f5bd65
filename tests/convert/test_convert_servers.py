"""Converted archives restored by the real pg_restore into real servers give the same
database as the original: a piped dump made parallel-restorable and reorderable (18), and
pg_dump 16-18 archives made readable by pg_restore 15, restored into PostgreSQL 15."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pgarchive
import pgenv
from convert_helpers import listing, restore_into, snapshot
from helpers import TESTDATA
from pgarchive.convert import ConvertOptions, convert
from pgarchive.format.constants import K_VERS_1_14

_db = itertools.count()
ROLES = 'CREATE ROLE alice; CREATE ROLE "Bob Smith"; CREATE ROLE reader;'
LO_ROLES = ("DO $$BEGIN CREATE ROLE lo_owner; CREATE ROLE lo_reader; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END$$;")


def _errors(res: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [line for line in res.stderr.decode().splitlines() if "error:" in line]


def _from_stdin(cluster: Any, archive: Path, dbname: str,
                *args: str) -> subprocess.CompletedProcess[bytes]:
    """pg_restore reading the archive from a pipe, as from ``aws s3 cp ... -``."""
    cluster.run(["createdb", "-T", "template0", dbname])
    with subprocess.Popen(["cat", str(archive)], stdout=subprocess.PIPE) as cat:
        res = subprocess.run([str(cluster.bin / "pg_restore"), "-d", dbname, *args],
                             stdin=cat.stdout, env=cluster.client_env(), capture_output=True)
        assert cat.stdout is not None
        cat.stdout.close()
    return res


@pytest.mark.slow
def test_piped_dump_restores_in_parallel_and_reordered(pg18_server: Any,
                                                       tmp_path: Path) -> None:
    """The piped dump as it streams from storage allows a serial restore in file order
    only; converted, it restores with -j 2 and with a list that reorders the data, and
    every way gives the same database."""
    s = pg18_server
    piped = TESTDATA / "pg18" / "custom_pipe.dump"
    out = tmp_path / "seekable.dump"
    convert(str(piped), str(out))
    with pgarchive.open(str(out)) as a:
        assert a.can_seek_data
    name = f"cv{next(_db)}"
    serial = _from_stdin(s, piped, name)
    assert serial.returncode == 0, serial.stderr.decode()
    want = snapshot(s.conninfo(name))
    refused = _from_stdin(s, piped, f"cv{next(_db)}", "-j", "2")
    assert refused.returncode != 0 and b"parallel restore" in refused.stderr
    # pg_restore -j 2 of the converted archive.
    name = f"cv{next(_db)}"
    parallel = restore_into(s, out, name, "-j", "2")
    assert parallel.returncode == 0, parallel.stderr.decode()
    assert snapshot(s.conninfo(name)) == want
    # A list whose table data entries come in reverse order (where they were).
    lines = [line for line in listing(out)[1] if line]
    slots = [k for k, line in enumerate(lines) if " TABLE DATA " in line]
    for k, line in zip(slots, [lines[k] for k in reversed(slots)], strict=True):
        lines[k] = line
    reordered = tmp_path / "reordered.list"
    reordered.write_text("\n".join(lines) + "\n")
    failed = _from_stdin(s, piped, f"cv{next(_db)}", "-L", str(reordered))
    assert failed.returncode != 0 and b"out-of-order" in failed.stderr
    for jobs in ("1", "2"):
        name = f"cv{next(_db)}"
        ok = restore_into(s, out, name, "-L", str(reordered), "-j", jobs)
        assert ok.returncode == 0, ok.stderr.decode()
        assert snapshot(s.conninfo(name)) == want


@pytest.fixture(scope="module")
def pg15_server() -> Any:
    """A PostgreSQL 15 cluster with the corpus's roles."""
    with pgenv.cluster(15) as c:
        c.psql("postgres", ROLES)
        yield c


@pytest.mark.slow
@pytest.mark.parametrize(("name", "jobs"), [("pg16/custom.dump", "1"),
                                            ("pg17/custom_zstd.dump", "1"),
                                            ("pg18/custom.dump", "1"), ("pg18/dir_lz4", "2")])
def test_pg_restore_15_restores_what_pg_restore_18_restores(pg15_server: Any, name: str,
                                                             jobs: str, tmp_path: Path) -> None:
    """Into a PostgreSQL 15 server: the 1.14 conversion restored by pg_restore 15 (in
    parallel too: the BLOB entries sit among the data, marked pre-data) gives the same
    tables, data, large objects (with owners, ACLs, comments) and the rest of the catalog
    as the original restored by pg_restore 18."""
    s = pg15_server
    src = TESTDATA / name
    out = tmp_path / "for15.dump"
    convert(str(src), str(out), ConvertOptions(kind="custom", version=K_VERS_1_14))
    new_db, old_db = f"cv{next(_db)}", f"cv{next(_db)}"
    theirs = restore_into(s, src, new_db, major=18)
    mine = restore_into(s, out, old_db, "-j", jobs, major=15)
    # pg_restore 15 meets no error that pg_restore 18 does not meet on the original
    # (which sets transaction_timeout, unknown to PostgreSQL 15).
    assert set(_errors(mine)) <= set(_errors(theirs)), (mine.stderr, theirs.stderr)
    got, want = snapshot(s.conninfo(old_db)), snapshot(s.conninfo(new_db))
    assert got["large_objects"] and got == want


@pytest.mark.slow
def test_grouped_large_objects_go_back_one_by_one(pg18_server: Any, pg15_server: Any,
                                                  tmp_path: Path) -> None:
    """pg_dump 18 groups large objects with the same owner and ACL (one BLOB METADATA,
    one ACL "LARGE OBJECTS a..b"); at 1.14 each gets its own entries, and pg_restore 15
    gives them the same owners, ACLs, comments and data as pg_restore 18."""
    s = pg18_server
    s.run(["createdb", "-T", "template0", "lobs"])
    s.psql("lobs", LO_ROLES)
    s.psql("lobs", """
        SELECT lo_from_bytea(oid, convert_to(repeat('x', n), 'UTF8'))
          FROM (VALUES (91001, 10), (91002, 70000), (91003, 0), (3000000001, 5)) v(oid, n);
        ALTER LARGE OBJECT 91001 OWNER TO lo_owner;
        ALTER LARGE OBJECT 91002 OWNER TO lo_owner;
        ALTER LARGE OBJECT 91003 OWNER TO lo_owner;
        GRANT SELECT, UPDATE ON LARGE OBJECT 91001, 91002, 91003 TO lo_reader;
        COMMENT ON LARGE OBJECT 91002 IS 'the big one';
    """)
    dump = tmp_path / "lobs.dump"
    s.run(["pg_dump", "-Fc", "-f", str(dump), "lobs"])
    out = tmp_path / "lobs15.dump"
    convert(str(dump), str(out), ConvertOptions(version=K_VERS_1_14))
    with pgarchive.open(str(dump)) as a:
        assert any(e.tag.startswith("LARGE OBJECTS ") for e in a.entries)
    old = pg15_server
    old.psql("postgres", LO_ROLES)
    new_db, old_db = f"cv{next(_db)}", f"cv{next(_db)}"
    theirs = restore_into(old, dump, new_db, major=18)
    mine = restore_into(old, out, old_db, major=15)
    assert mine.returncode == 0, mine.stderr
    assert set(_errors(mine)) <= set(_errors(theirs))
    got, want = snapshot(old.conninfo(old_db)), snapshot(old.conninfo(new_db))
    assert len(got["large_objects"]) == 4 and got == want
    assert {r[2] for r in got["large_objects"] if r[0] < 3000000000} == \
        {"{lo_owner=rw/lo_owner,lo_reader=rw/lo_owner}"}
