"""Where objects go: schemas (created, present, or missing; CREATE on them), tablespaces
and table access methods (the ``SET default_tablespace`` / ``SET
default_table_access_method`` pg_restore sends when they change, and remembers even when
the server refuses them), and the tablespace of a CREATE DATABASE."""

from __future__ import annotations

from ...format.model import TocEntry
from .. import statements as st
from .model import Problem
from .state import State


def schema(s: State, e: TocEntry) -> list[Problem]:
    """CREATE SCHEMA [AUTHORIZATION role]: new, with CREATE on the database."""
    f = s.facts
    defn = e.defn or ""
    if defn.startswith("--"):   # "-- *not* creating schema, since initdb creates it"
        return []
    parsed = st.schema_create(defn)
    name = parsed[0] if parsed else e.tag
    if name in f.schemas:
        return [Problem("schema_exists", f'schema "{name}" already exists', True)]
    if not (f.superuser or f.create_on_database):
        return [Problem("create_privilege", "no CREATE privilege on database "
                        f'"{f.database}"')]
    auth = parsed[1] if parsed else None
    if auth and not s.opts.no_owner:
        if auth not in f.roles:
            return [Problem("owner_missing", f'role "{auth}" does not exist', roles=(auth,))]
        if not f.role_can_set(auth):
            return [Problem("owner_not_member", f'cannot SET ROLE to "{auth}"',
                            roles=(auth,))]
    return []


def create_in_schema(s: State, e: TocEntry) -> list[Problem]:
    """An object in a schema needs the schema, and CREATE on it."""
    ns = e.namespace
    if not ns:
        return []
    f = s.facts
    if e.desc == "SEQUENCE" and (e.defn or "").startswith("ALTER TABLE"):
        return []  # an identity column's sequence: created by ALTER TABLE
    created = s.schemas.get(ns)
    if created is not None:
        if f.superuser or created.acts:
            return []
        return [Problem("create_privilege", f'no CREATE privilege on schema "{ns}" '
                        f'(owned by "{created.owner}")')]
    have = f.schemas.get(ns)
    if have is None:
        return [Problem("schema_missing", f'schema "{ns}" does not exist')]
    if f.superuser or have.create or have.acts_as_owner:
        return []
    return [Problem("create_privilege", f'no CREATE privilege on schema "{ns}"')]


def set_tablespace(s: State, e: TocEntry) -> list[Problem]:
    """``SET default_tablespace`` when the entry's differs from the last one asked for."""
    want = e.tablespace
    if s.opts.no_tablespaces or want is None or want == s.tablespace:
        return []
    s.tablespace = want  # pg_restore remembers it even when the SET fails
    if want == "" or want in s.facts.tablespaces:
        s.tablespace_set = want
        return []
    return [Problem("tablespace_missing", f'tablespace "{want}" does not exist: the object '
                    "goes to the default tablespace", True)]


def tablespace_privilege(s: State, e: TocEntry) -> list[Problem]:
    """Creating a relation in the session's default tablespace needs CREATE on it."""
    del e
    if s.opts.no_tablespaces or s.facts.superuser:
        return []
    ts = s.tablespace_set
    if not ts or ts == "pg_default" or s.facts.tablespaces.get(ts, True):
        return []
    return [Problem("tablespace_privilege", f'no CREATE privilege on tablespace "{ts}"')]


def set_table_am(s: State, e: TocEntry) -> list[Problem]:
    """``SET default_table_access_method`` when the entry's differs from the last one."""
    want = e.tableam
    if s.opts.no_table_access_method or want is None or want == s.table_am:
        return []
    s.table_am = want
    if want in s.facts.access_methods or want in s.access_methods:
        return []
    return [Problem("table_am_missing", f'table access method "{want}" does not exist: '
                    "the table gets the default one", True)]


def partitioned_am(s: State, e: TocEntry) -> list[Problem]:
    """pg_restore 17+ gives a partitioned table its access method with ALTER TABLE ...
    SET ACCESS METHOD, which servers before 17 refuse for partitioned tables."""
    am = e.tableam
    if s.opts.no_table_access_method or not am or s.opts.pg_restore_major < 17:
        return []
    if s.facts.major < 17:
        return [Problem("table_am_unsupported", f"PostgreSQL {s.facts.major} cannot give "
                        "a partitioned table an access method (PostgreSQL 17+): the table "
                        "gets the default one", True)]
    if am in s.facts.access_methods or am in s.access_methods:
        return []
    return [Problem("table_am_missing", f'table access method "{am}" does not exist', True)]


def database_tablespace(s: State, e: TocEntry) -> list[Problem]:
    """CREATE DATABASE ... TABLESPACE = ts (with -C)."""
    f = s.facts
    ts = st.database_tablespace(e.defn or "")
    if not ts or s.opts.no_tablespaces:
        return []
    if ts not in f.tablespaces:
        return [Problem("tablespace_missing", f'tablespace "{ts}" does not exist')]
    if not (f.superuser or f.tablespaces[ts]):
        return [Problem("tablespace_privilege", f'no CREATE privilege on tablespace "{ts}"')]
    return []
