"""Regenerate testdata/field/: real pg_dump archives of the cases people's archives showed
and the main corpus lacks (issue #10), with what the real pg_restore makes of each.

* ``empty_*``: a database with an empty table, an empty large object (pg_dump 16+ writes it
  as a zero-byte data file in directory archives) and a non-empty one, dumped by pg_dump 18
  in every format and compression, and by pg_dump 16 as an lz4 directory archive;
* ``inserts_*``: INSERT-style dumps (``--inserts``, ``--column-inserts``,
  ``--rows-per-insert 3``) of the main corpus database (corpus.sql);
* ``lo_last.dump``: a custom archive whose last data block is a large object (the case where
  cutting the file's tail removes data blocks but leaves the TOC whole).

Beside each archive, ``expected/<name>.list`` is ``pg_restore -l`` 18 (TZ=UTC), and
``cases.json`` records, per archive, pg_restore 18's exit status for ``-f /dev/null`` (0 for
every archive here: all are intact) and the row count of each table as the server holds it.
Damaged variants (cut, CRLF-converted, with stray files) are derived from these by the tests.

Usage: python testdata/make_field_cases.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgenv

HERE = Path(__file__).resolve().parent
OUT = HERE / "field"
DB = "field"

EMPTY_SQL = """
CREATE TABLE public.empty_table (id integer PRIMARY KEY, note text);
CREATE TABLE public.some_rows (id integer PRIMARY KEY, note text);
INSERT INTO public.some_rows SELECT g, 'row ' || g FROM generate_series(1, 5) g;
SELECT lo_create(81001);
SELECT lo_from_bytea(81002, convert_to('a large object with bytes', 'UTF8'));
"""

LO_LAST_SQL = """
CREATE TABLE public.t (id integer PRIMARY KEY, payload text);
INSERT INTO public.t SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 300) g;
SELECT lo_from_bytea(82001, decode(string_agg(md5(g::text), '' ORDER BY g), 'hex'))
  FROM generate_series(1, 2000) g;
"""

EMPTY_FORMS: list[tuple[str, list[str]]] = [
    ("empty_custom_none.dump", ["-Fc", "-Z", "none"]),
    ("empty_custom_gzip.dump", ["-Fc", "-Z", "gzip"]),
    ("empty_custom_lz4.dump", ["-Fc", "-Z", "lz4"]),
    ("empty_custom_zstd.dump", ["-Fc", "-Z", "zstd"]),
    ("empty_dir_none", ["-Fd", "-Z", "none"]),
    ("empty_dir_gzip", ["-Fd", "-Z", "gzip"]),
    ("empty_dir_lz4", ["-Fd", "-Z", "lz4"]),
    ("empty_dir_zstd", ["-Fd", "-Z", "zstd"]),
    ("empty_tar.tar", ["-Ft"]),
]

INSERT_FORMS: list[tuple[str, list[str]]] = [
    ("inserts_custom.dump", ["-Fc", "--inserts"]),
    ("inserts_columns_dir", ["-Fd", "--column-inserts"]),
    ("inserts_rows3_tar.tar", ["-Ft", "--rows-per-insert", "3"]),
]


def row_counts(c: pgenv.Cluster, db: str) -> dict[str, int]:
    """Rows of every table, as the server counts them (names may hold any character)."""
    text = c.psql(db, """
        SELECT coalesce(json_object_agg(format('%s.%s', n.nspname, c.relname),
                         (xpath('/row/c/text()', query_to_xml(
                             format('SELECT count(*) AS c FROM ONLY %s', c.oid::regclass),
                             false, true, '')))[1]::text::bigint), '{}')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')""")
    counts: dict[str, int] = json.loads(text)
    return dict(sorted(counts.items()))


def dump(c: pgenv.Cluster, db: str, name: str, args: list[str]) -> Path:
    target = OUT / name
    c.run(["pg_dump", *args, "-f", str(target), db])
    return target


def pg_restore_facts(pg18: Path, archive: Path) -> dict[str, Any]:
    env = {"TZ": "UTC", "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    listing = OUT / "expected" / (archive.name + ".list")
    listing.parent.mkdir(exist_ok=True)
    res = subprocess.run([str(pg18 / "pg_restore"), "-l", str(archive)], env=env,
                         capture_output=True, check=True)
    listing.write_bytes(res.stdout)
    script = subprocess.run([str(pg18 / "pg_restore"), "-f", "/dev/null", str(archive)],
                            env=env, capture_output=True)
    return {"pg_restore_f_status": script.returncode,
            "pg_restore_f_stderr": script.stderr.decode("utf-8", "replace")}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    pg18 = pgenv.bindir(18)
    cases: dict[str, Any] = {}
    with pgenv.cluster(18) as c:
        c.run(["createdb", "-T", "template0", "-E", "UTF8", DB])
        c.psql(DB, EMPTY_SQL)
        counts = row_counts(c, DB)
        for name, args in EMPTY_FORMS:
            a = dump(c, DB, name, args)
            cases[name] = {"made_by": "pg_dump 18", "args": args, "tables": counts,
                           "large_objects": {"81001": 0, "81002": 25},
                           **pg_restore_facts(pg18, a)}
        c.run(["createdb", "-T", "template0", "-E", "UTF8", "lolast"])
        c.psql("lolast", LO_LAST_SQL)
        a = dump(c, "lolast", "lo_last.dump", ["-Fc"])
        cases["lo_last.dump"] = {"made_by": "pg_dump 18", "args": ["-Fc"],
                                 "tables": row_counts(c, "lolast"),
                                 **pg_restore_facts(pg18, a)}
        c.run(["createdb", "-T", "template0", "-E", "UTF8", "corpus"])
        c.psql_file("corpus", HERE / "corpus.sql")
        counts = row_counts(c, "corpus")
        for name, args in INSERT_FORMS:
            a = dump(c, "corpus", name, args)
            cases[name] = {"made_by": "pg_dump 18", "args": args, "tables": counts,
                           **pg_restore_facts(pg18, a)}
    with pgenv.cluster(16) as c:
        c.run(["createdb", "-T", "template0", "-E", "UTF8", DB])
        c.psql(DB, EMPTY_SQL)
        a = dump(c, DB, "empty16_dir_lz4", ["-Fd", "-Z", "lz4"])
        cases["empty16_dir_lz4"] = {"made_by": "pg_dump 16", "args": ["-Fd", "-Z", "lz4"],
                                    "tables": row_counts(c, DB),
                                    "large_objects": {"81001": 0, "81002": 25},
                                    **pg_restore_facts(pg18, a)}
    for p in [OUT, *OUT.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")
    print(f"{len(cases)} archives in {OUT}")


if __name__ == "__main__":
    main()
