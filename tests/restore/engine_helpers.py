"""Helpers of the native engine's tests: fresh databases, restores through the library
(either engine), and a snapshot of a database -- every object and its definition, owners,
ACLs and comments (``pg_dump -s``), a checksum of each table's rows, sequences, large
objects -- by which two restores are compared."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

import pgenv
from pgarchive.restore import RestoreEvents, RestoreOutcome, RestoreRequest, parse_target, run
from pgarchive.restore.runner import PgError
from pgarchive.selection import RestoreOptions, Selection

_db = itertools.count()


def conninfo(server: Any, db: str) -> str:
    return str(server.conninfo(db))


def new_db(server: Any, prefix: str = "e") -> str:
    """A fresh, empty database (from template0); its name."""
    name = f"{prefix}{next(_db)}"
    with psycopg.connect(conninfo(server, "postgres"), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return name


def drop_db(server: Any, name: str) -> None:
    """Drop a database (its subscriptions first: they keep it from being dropped)."""
    with psycopg.connect(conninfo(server, "postgres"), autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
    with psycopg.connect(conninfo(server, name), autocommit=True) as c:
        for (sub,) in c.execute("SELECT quote_ident(subname) FROM pg_subscription s JOIN "
                                "pg_database d ON d.oid = s.subdbid "
                                "WHERE d.datname = current_database()").fetchall():
            c.execute(f"ALTER SUBSCRIPTION {sub} DISABLE")
            c.execute(f"ALTER SUBSCRIPTION {sub} SET (slot_name = NONE)")
            c.execute(f"DROP SUBSCRIPTION {sub}")
    with psycopg.connect(conninfo(server, "postgres"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(server: Any, db: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo(server, db), autocommit=True) as c:
        cur = c.execute(statement)
        return cur.fetchall() if cur.description else []


@contextlib.contextmanager
def client_path() -> Iterator[None]:
    """PATH with the pg_restores of PostgreSQL 18 and 15 first, so that restore's own
    choice (the newest not newer than the server) has both to choose from."""
    old = os.environ.get("PATH", "")
    saved = {k: os.environ.pop(k) for k in ("PG_RESTORE", "PGPASSWORD") if k in os.environ}
    os.environ["PATH"] = os.pathsep.join([str(pgenv.bindir(18)), str(pgenv.bindir(15)), old])
    try:
        yield
    finally:
        os.environ["PATH"] = old
        os.environ.update(saved)


@dataclass
class Restored:
    """A restore's outcome and every error and message it showed."""

    outcome: RestoreOutcome
    messages: list[PgError] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[PgError]:
        return self.outcome.run.counted if self.outcome.run else []


def restore(server: Any, archive: str | Path, db: str, engine: str,
            selection: Selection | None = None, **kw: Any) -> Restored:
    """Restore with ``engine`` through the library call (what the CLI calls)."""
    messages: list[PgError] = []
    progress: list[str] = []
    req = RestoreRequest(str(archive), parse_target(conninfo(server, db)),
                         selection or Selection(RestoreOptions()), engine=engine, **kw)
    with client_path():
        out = run(req, RestoreEvents(progress=progress.append, error=messages.append))
    return Restored(out, messages, progress)


@dataclass
class Snapshot:
    """What two restores must agree on."""

    schema: str
    tables: dict[str, tuple[int, str]]
    sequences: list[tuple[Any, ...]]
    large_objects: list[tuple[Any, ...]]

    def differences(self, other: Snapshot) -> list[str]:
        """What differs, in words (empty: identical)."""
        import difflib

        out = []
        if self.schema != other.schema:
            diff = difflib.unified_diff(self.schema.splitlines(), other.schema.splitlines(),
                                        "first", "second", lineterm="", n=1)
            out.append("schema (pg_dump -s) differs:\n" + "\n".join(list(diff)[:60]))
        for name in sorted(set(self.tables) | set(other.tables)):
            if self.tables.get(name) != other.tables.get(name):
                out.append(f"table {name}: {self.tables.get(name)} != {other.tables.get(name)}")
        if self.sequences != other.sequences:
            out.append(f"sequences: {self.sequences} != {other.sequences}")
        if self.large_objects != other.large_objects:
            out.append(f"large objects: {self.large_objects} != {other.large_objects}")
        return out


def snapshot(server: Any, db: str, create: bool = False) -> Snapshot:
    """The catalog (pg_dump 18 -s, with statistics on PostgreSQL 18), a checksum of every
    table's rows, the sequences and the large objects of ``db``."""
    args = [str(pgenv.bindir(18) / "pg_dump"), "--no-data", "-d", conninfo(server, db)]
    if create:
        args.append("--create")
    if server.major >= 18:
        args.append("--statistics")
    env = dict(server.client_env())
    dump = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    schema = "\n".join(line for line in dump.splitlines()
                       if not line.startswith(("\\restrict", "\\unrestrict")))
    tables: dict[str, tuple[int, str]] = {}
    with psycopg.connect(conninfo(server, db), autocommit=True) as c:
        rels = c.execute(
            "SELECT c.oid::regclass::text, c.relkind, c.relispopulated FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1").fetchall()
        for name, _kind, populated in rels:
            if not populated:
                tables[name] = (-1, "not populated")
                continue
            row = c.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY "
                f"t::text COLLATE \"C\"), '')) FROM ONLY {name} t").fetchone()
            assert row is not None
            tables[name] = (int(row[0]), str(row[1]))
        sequences = c.execute("SELECT schemaname, sequencename, last_value FROM pg_sequences "
                              "ORDER BY 1, 2").fetchall()
        los = c.execute("SELECT oid::bigint, pg_get_userbyid(lomowner), lomacl::text, "
                        "md5(lo_get(oid)), obj_description(oid, 'pg_largeobject') "
                        "FROM pg_largeobject_metadata ORDER BY 1").fetchall()
    return Snapshot(schema, tables, sequences, los)
