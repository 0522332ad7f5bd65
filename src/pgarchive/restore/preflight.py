"""Checks before anything is written, on one read-only connection: a pooler in between, the
server's version (which picks the pg_restore), an empty target (or, for -a, the tables
there and empty), --role, the superuser that some options need, the privilege to create
the schemas and objects, and which needed objects exist already.  The roles the entries
name and whether the restoring role may act as each owner come from the forecast
(:mod:`.forecast`), which predicts every entry's failures.

Each problem is a Finding; errors stop the restore, and those marked ``forcible`` give way
to --force.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..format.model import TocEntry
from ..selection import Decision, Selection
from .conninfo import Target

if TYPE_CHECKING:
    import psycopg

POOLER_PORTS = {"6543"}  # Supabase's transaction pooler


@dataclass(frozen=True)
class Finding:
    """One result of the checks: ``level`` "error" or "warning"; a ``forcible`` error gives
    way to --force (and is then shown as a warning)."""

    level: str
    message: str
    forcible: bool = False


@dataclass
class Facts:
    """What the pre-flight learned about the target."""

    findings: list[Finding] = field(default_factory=list)
    server_version: int | None = None  # server_version_num
    conn: psycopg.Connection[Any] | None = None
    left_out: set[int] = field(default_factory=set)
    #: --role (if given) exists and the connecting role can SET ROLE to it
    role_usable: bool = True

    @property
    def server_major(self) -> int | None:
        """The server's major version, once known."""
        return None if self.server_version is None else self.server_version // 10000

    def error(self, message: str, forcible: bool = False) -> None:
        """A check that failed: the restore is refused (unless ``forcible`` and --force)."""
        self.findings.append(Finding("error", message, forcible))

    def warning(self, message: str) -> None:
        """A check that warns and lets the restore go on."""
        self.findings.append(Finding("warning", message))


def looks_pooled(target: Target) -> bool:
    """A PgBouncer-style pooled endpoint, as managed services name them."""
    for host in target.host.split(","):
        labels = host.lower().split(".")
        if any(label.endswith("-pooler") or label == "pooler" for label in labels):
            return True
    return target.params.get("port", "") in POOLER_PORTS


def dumped_from_major(server_version: str | None) -> int | None:
    """The major version of the server the archive was dumped from, from its version string."""
    m = re.match(r"(\d+)", server_version or "")
    return int(m.group(1)) if m else None


def connection_error(text: str) -> str:
    """libpq's multi-line message as one line of sentences ("Connection refused. Is the
    server running ...")."""
    parts = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    out = ""
    for part in parts:
        if out and out[-1] not in ".?!:;,":
            out += "."
        out += (" " if out else "") + part
    return out


def connect(target: Target, facts: Facts) -> psycopg.Connection[Any] | None:
    """The one connection the checks (and the row counts afterwards) use."""
    import psycopg

    try:
        conn = target.connect()
    except psycopg.Error as e:
        facts.error(f"cannot connect to {target.masked}: {target.mask(connection_error(str(e)))}")
        return None
    facts.conn = conn
    facts.server_version = conn.info.server_version
    return conn


def check_pooler(conn: psycopg.Connection[Any], target: Target, facts: Facts) -> None:
    """A pooler between us and the server: the backend key it gave us is not the server
    backend's pid (PgBouncer, Odyssey, pgcat and their kind hand out keys of their own, since
    client and server connections are not one to one); or it answers SHOW pool_mode."""
    import psycopg

    row = conn.execute("SELECT pg_catalog.pg_backend_pid()").fetchone()
    pid = int(row[0]) if row else None
    why = None
    if pid is not None and conn.info.backend_pid != pid:
        why = (f"the backend key it gave us (pid {conn.info.backend_pid}) is not the server "
               f"backend's (pid {pid})")
    else:
        try:
            mode = conn.execute("SHOW pool_mode").fetchone()
            if mode:
                why = f"it answers SHOW pool_mode with {mode[0]!r}"
        except psycopg.Error:
            pass
    if why:
        facts.error(f"{target.masked} is a connection pooler, not the server: {why}. "
                    "pg_restore needs session state (SET commands, COPY, temporary state) "
                    "that transaction and statement pooling lose. Use the direct, unpooled "
                    "connection string (or --force, e.g. for a session-mode pool)",
                    forcible=True)


def check_target(conn: psycopg.Connection[Any], target: Target, sel: Selection,
                 entries: Sequence[TocEntry], dbname: str | None, clean: bool,
                 facts: Facts) -> None:
    """-C: the database must not exist; -a: the tables must exist and be empty; otherwise
    the database must be empty unless --clean."""
    o = sel.restore
    if o.create:
        exists = conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s",
                              (dbname,)).fetchone()
        if exists and not clean:
            facts.error(f"database {dbname!r} already exists; -C/--create needs a new name "
                        "(or --clean to drop it first)", forcible=True)
        return
    if o.data_only:
        _check_data_target(conn, entries, facts)
        return
    if clean:
        return
    row = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', "
        "'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
        "AND n.nspname NOT LIKE 'pg\\_temp%'").fetchone()
    n = int(row[0]) if row else 0
    if n:
        facts.error(f"target database {conn.info.dbname!r} is not empty ({n} "
                    f"relation{'' if n == 1 else 's'}); restore into an empty database, "
                    "replace what the archive creates with --clean --if-exists, load only "
                    "the data into existing tables with -a, or use --force", forcible=True)


def _check_data_target(conn: psycopg.Connection[Any], entries: Sequence[TocEntry],
                       facts: Facts) -> None:
    """A data-only restore needs every table it loads, empty."""
    from psycopg import sql

    _check_large_objects(conn, entries, facts)
    tables = [e for e in entries if e.desc == "TABLE DATA"]
    if not tables:
        return
    names = [sql.Identifier(e.namespace or "public", e.tag).as_string(conn) for e in tables]
    row = conn.execute("SELECT array_agg(to_regclass(n) IS NOT NULL ORDER BY i) FROM "
                       "unnest(%s::text[]) WITH ORDINALITY AS u(n, i)", (names,)).fetchone()
    present = list(row[0]) if row and row[0] else [False] * len(tables)
    missing = [n for n, here in zip(names, present, strict=True) if not here]
    if missing:
        facts.error(f"a data-only restore (-a) loads into existing tables, and the target "
                    f"lacks {len(missing)} of them: {_some(missing)}; restore the definitions "
                    "first (restore -s), or leave -a out")
        return
    row = conn.execute(sql.SQL("SELECT ARRAY[{}]").format(sql.SQL(", ").join(
        sql.SQL("EXISTS (SELECT 1 FROM ONLY {})").format(sql.SQL(n)) for n in names))
    ).fetchone()  # one round trip for every table
    filled = [n for n, rows in zip(names, row[0] if row else [], strict=True) if rows]
    if filled:
        facts.error(f"{len(filled)} of the tables a data-only restore loads already have "
                    f"rows ({_some(filled)}): the archive's rows would be added to them. "
                    "Empty them first, or use --force", forcible=True)


def _some(names: Sequence[str], shown: int = 5) -> str:
    """The first few names, and "..." when there are more."""
    return ", ".join(names[:shown]) + (" ..." if len(names) > shown else "")


def _check_large_objects(conn: psycopg.Connection[Any], entries: Sequence[TocEntry],
                         facts: Facts) -> None:
    """A data-only restore creates the archive's large objects: none may exist yet.

    A BLOB entry (pg_dump 16 and older) is one large object, its oid the entry's; a BLOB
    METADATA entry (17 and later) lists the oids of its group, one a line."""
    oids = sorted({e.oid for e in entries if e.desc == "BLOB"} |
                  {int(x) for e in entries if e.desc == "BLOB METADATA"
                   for x in (e.defn or "").split() if x.isdigit()})
    if not oids:
        return
    rows = conn.execute("SELECT oid::bigint FROM pg_catalog.pg_largeobject_metadata "
                        "WHERE oid = ANY(%s::oid[]) ORDER BY 1", (oids,)).fetchall()
    if rows:
        facts.error(f"{len(rows)} of the archive's large objects exist on the target already "
                    f"({_some([str(r[0]) for r in rows])}); a data-only restore creates them. "
                    "Remove them first (lo_unlink), or use --force", forcible=True)


def check_privileges(conn: psycopg.Connection[Any], entries: Sequence[TocEntry],
                     role: str | None, facts: Facts) -> None:
    """A role that is not a superuser needs CREATE on the database for the schemas the
    restore creates, and on each existing schema it creates objects in."""
    me = conn.execute("SELECT current_user").fetchone()
    acting = role or (str(me[0]) if me else "")
    if _is_super(conn, acting):
        return
    made = {e.tag for e in entries if e.desc == "SCHEMA" and e.defn}
    if made:
        row = conn.execute("SELECT pg_catalog.has_database_privilege(%s, "
                           "pg_catalog.current_database(), 'CREATE')", (acting,)).fetchone()
        if not (row and row[0]):
            facts.error(f"{acting} may not create schemas in database {conn.info.dbname!r} "
                        f"(the restore creates {_some(sorted(made))}): GRANT CREATE "
                        f"ON DATABASE to {acting}, or restore as a superuser")
    used = sorted({e.namespace for e in entries if e.namespace and e.defn
                   and e.desc not in ("ACL", "COMMENT", "SECURITY LABEL")} - made)
    if used:
        rows = conn.execute(
            "SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY(%s) AND "
            "NOT pg_catalog.has_schema_privilege(%s, n.oid, 'CREATE')",
            (used, acting)).fetchall()
        if rows:
            facts.error(f"{acting} may not create objects in schema"
                        f"{'s' if len(rows) > 1 else ''} {', '.join(r[0] for r in rows)} "
                        "(CREATE privilege); grant it, or restore as a superuser")


def check_roles(conn: psycopg.Connection[Any], role: str | None, set_session_auth: bool,
                disable_triggers: bool, superuser: str | None, facts: Facts) -> None:
    """--role exists and the connecting role can SET ROLE to it; the options that need a
    superuser have one.  (The roles the entries name, and whether the restoring role can
    act as their owners, are checked from the forecast: see :mod:`.forecast`.)"""
    names = sorted(({role} if role else set()) | ({superuser} if superuser else set()))
    me = conn.execute("SELECT current_user, rolsuper FROM pg_catalog.pg_roles "
                      "WHERE rolname = current_user").fetchone()
    user, is_super = (str(me[0]), bool(me[1])) if me else ("?", False)
    have: set[str] = set()
    if names:
        have = {r[0] for r in conn.execute(
            "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)",
            (names,)).fetchall()}
    if superuser and superuser not in have:
        facts.error(f"--superuser {superuser}: no such role on the target")
    if role and role not in have:
        facts.error(f"--role {role}: no such role on the target")
        facts.role_usable = False
        return
    acting = role or user
    if role and not is_super and not _can_set_role(conn, user, role):
        facts.error(f"{user} cannot SET ROLE {role} (--role): it is not a member of it")
        facts.role_usable = False
        return
    acting_super = is_super if not role else _is_super(conn, role)
    if set_session_auth and not is_super:
        facts.error(f"--use-set-session-authorization needs a superuser: SET SESSION "
                    f"AUTHORIZATION is refused to {user}; leave it out or connect as a "
                    "superuser")
    if disable_triggers and not acting_super:
        facts.error(f"--disable-triggers needs a superuser (it disables the triggers that "
                    f"enforce foreign keys), and {acting} is not one; connect as a superuser "
                    "or name one with --superuser")


def _can_set_role(conn: psycopg.Connection[Any], user: str, role: str) -> bool:
    privilege = "SET" if (conn.info.server_version or 0) >= 160000 else "MEMBER"
    row = conn.execute("SELECT pg_catalog.pg_has_role(%s, %s, %s)",
                       (user, role, privilege)).fetchone()
    return bool(row and row[0])


def _is_super(conn: psycopg.Connection[Any], role: str) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = %s",
                       (role,)).fetchone()
    return bool(row and row[0])


def check_needed(conn: psycopg.Connection[Any], decisions: Sequence[Decision], clean: bool,
                 facts: Facts) -> None:
    """Leave out what --with-deps added only because it is needed, where the target has it
    already; with --clean also what cannot be looked up (pg_restore would drop it)."""
    from .existing import existing, needed_decisions, unknown_kinds, with_companions

    needed = needed_decisions(decisions)
    if not needed:
        return
    found = existing(conn, needed)
    if clean:
        unknown = unknown_kinds(needed)
        for d in unknown:
            facts.warning(f"left out {d.entry.label}: --with-deps needs it, pgarchive cannot "
                          "look it up in the target, and --clean would drop it; restore it "
                          "on its own if the target lacks it")
        found |= {d.entry.dump_id for d in unknown}
    facts.left_out = with_companions(decisions, found)
