"""What a target server allows the restoring role: one read-only catalog snapshot.

:func:`gather` reads, as the role pg_restore will restore as (the connecting user, or
``--role`` after ``SET ROLE`` inside a transaction that is rolled back), the facts
:mod:`.predict` needs to tell in advance which archive entries will fail: the server
major, whether the role is a superuser, the roles and whom the role can become or act
as, the extensions the server offers (with their ``trusted``/``superuser`` flags) and
those installed, languages, access methods, tablespaces, schemas, the settings the
server knows and their context, foreign-data wrappers, the subscription privilege and
the preloaded libraries (security label providers).  Nothing is written.

A :class:`TargetFacts` is a plain value that round-trips through JSON (``to_json`` /
``from_json``), so predictions can be tested and explained without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import psycopg
from psycopg import sql

#: Security label providers and the library that registers each (loaded through
#: shared/session preload libraries; there is no catalog of loaded providers).
SECLABEL_LIBRARIES = {"sepgsql": "selinux", "anon": "anon", "dummy_seclabel": "dummy"}


@dataclass(frozen=True)
class ExtensionVersion:
    """One row of pg_available_extension_versions that matters for CREATE EXTENSION."""

    superuser: bool
    trusted: bool
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class AvailableExtension:
    """An extension the server's installation ships (pg_available_extensions)."""

    default_version: str | None
    versions: dict[str, ExtensionVersion] = field(default_factory=dict)

    @property
    def default(self) -> ExtensionVersion | None:
        """The version CREATE EXTENSION without VERSION installs."""
        return self.versions.get(self.default_version or "")


@dataclass(frozen=True)
class Installed:
    """An object that already exists in the target database: its owner, and whether the
    restoring role has the owner's privileges (``pg_has_role(owner, 'USAGE')``)."""

    owner: str
    acts_as_owner: bool
    usage: bool = True      # USAGE (schemas, languages, FDWs) for the restoring role
    create: bool = False    # CREATE (schemas) for the restoring role
    trusted: bool = True    # languages: lanpltrusted


@dataclass(frozen=True)
class TargetFacts:
    """The target as the restoring role sees it.  Role-relative sets name the roles the
    restoring role can become (``can_set``: ALTER ... OWNER TO works) and whose
    privileges it has (``acts_as``)."""

    server_version_num: int
    database: str
    current_user: str
    session_user: str
    superuser: bool
    session_superuser: bool
    createdb: bool
    create_on_database: bool
    database_owner: str
    bootstrap_superuser: str
    roles: frozenset[str]
    superusers: frozenset[str]
    can_set: frozenset[str]
    acts_as: frozenset[str]
    #: role -> roles whose privileges it has, for the roles the archive names.
    privileges_of: dict[str, frozenset[str]]
    #: roles (of those the archive names) with CREATE on the target database.
    create_on_database_roles: frozenset[str]
    available_extensions: dict[str, AvailableExtension]
    installed_extensions: dict[str, Installed]
    languages: dict[str, Installed]
    access_methods: frozenset[str]
    #: tablespace -> the restoring role may create objects in it.
    tablespaces: dict[str, bool]
    schemas: dict[str, Installed]
    #: existing schema -> roles (of those the archive names) with CREATE on it.
    schema_create_roles: dict[str, frozenset[str]]
    #: setting name -> pg_settings.context.
    settings: dict[str, str]
    #: settings the role may SET although they need superuser (GRANT SET ON PARAMETER).
    settable: frozenset[str]
    fdws: dict[str, Installed]
    #: foreign-data wrapper -> roles (of those the archive names) with USAGE on it.
    fdw_usage_roles: dict[str, frozenset[str]]
    servers: dict[str, Installed]
    create_subscription: bool
    #: loaded security label providers; None when the preload settings are not visible.
    seclabel_providers: frozenset[str] | None

    @property
    def major(self) -> int:
        """The server's major version (18 for 180006)."""
        return self.server_version_num // 10000

    def role_can_set(self, role: str) -> bool:
        """ALTER ... OWNER TO ``role`` passes its membership check."""
        return self.superuser or role == self.current_user or role in self.can_set

    def role_acts_as(self, role: str) -> bool:
        """The restoring role has ``role``'s privileges (owner checks pass)."""
        return self.superuser or role == self.current_user or role in self.acts_as

    def has_privileges_of(self, member: str, role: str) -> bool:
        """``member`` has ``role``'s privileges (for the roles the archive names)."""
        if member == role or member in self.superusers:
            return True
        if member == self.current_user:
            return self.role_acts_as(role)
        return role in self.privileges_of.get(member, frozenset())

    def for_new_database(self, name: str) -> TargetFacts:
        """The facts for a database that ``--create`` makes from template0: owned by the
        restoring role, with only plpgsql installed and a fresh public schema."""
        public_owner = "pg_database_owner" if self.major >= 15 else self.bootstrap_superuser
        boot = self.bootstrap_superuser
        return _replace(
            self, database=name, create_on_database=True, database_owner=self.current_user,
            create_on_database_roles=self.create_on_database_roles | {self.current_user},
            installed_extensions={"plpgsql": Installed(boot, self.role_acts_as(boot))},
            languages={k: v for k, v in self.languages.items()
                       if k in ("plpgsql", "sql", "c", "internal")},
            schemas={"public": Installed(public_owner, self.major >= 15 or self.superuser,
                                         True, self.major >= 15 or self.superuser),
                     **{k: v for k, v in self.schemas.items()
                        if k in ("pg_catalog", "information_schema")}},
            schema_create_roles={"public": frozenset()})

    def without_schemas(self, names: set[str]) -> TargetFacts:
        """The facts once ``--clean`` has dropped these schemas (those the restoring role
        may drop: its own, or any for a superuser)."""
        return _replace(self, schemas={k: v for k, v in self.schemas.items() if k not in names
                                       or not (self.superuser or v.acts_as_owner)})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (sets as sorted lists)."""
        out: dict[str, Any] = _plain(asdict(self))
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetFacts:
        """The inverse of :meth:`to_json`."""
        d = dict(data)
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.name in ("roles", "superusers", "can_set", "acts_as", "access_methods",
                          "settable", "create_on_database_roles"):
                d[f.name] = frozenset(v)
            elif f.name == "seclabel_providers":
                d[f.name] = None if v is None else frozenset(v)
            elif f.name in ("privileges_of", "schema_create_roles", "fdw_usage_roles"):
                d[f.name] = {k: frozenset(x) for k, x in v.items()}
            elif f.name == "available_extensions":
                d[f.name] = {k: AvailableExtension(x["default_version"], {
                    ver: ExtensionVersion(y["superuser"], y["trusted"], tuple(y["requires"]))
                    for ver, y in x["versions"].items()}) for k, x in v.items()}
            elif f.name in ("installed_extensions", "languages", "schemas", "fdws", "servers"):
                d[f.name] = {k: Installed(**x) for k, x in v.items()}
        return cls(**d)


def _replace(f: TargetFacts, **changes: Any) -> TargetFacts:
    from dataclasses import replace

    return replace(f, **changes)


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, frozenset | set):
        return sorted(v)
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def gather(conn: psycopg.Connection[Any], role: str | None = None,
           roles_of_interest: Iterable[str] = ()) -> TargetFacts:
    """Read the facts, as ``role`` if given (SET ROLE in a transaction rolled back at the
    end: nothing persists).  ``roles_of_interest`` (the roles the archive names) bounds
    the role-to-role questions (who has whose privileges, who may create where)."""
    interest = sorted(set(roles_of_interest))
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        if role:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        return _read(conn, interest)


def _one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row


def _read(conn: psycopg.Connection[Any], interest: list[str]) -> TargetFacts:
    num = int(_one(conn, "SELECT current_setting('server_version_num')")[0])
    major = num // 10000
    (database, current, session, superuser, createdb, create_db, db_owner,
     session_super, boot) = _one(conn, """
        SELECT current_database(), current_user, session_user, r.rolsuper, r.rolcreatedb,
               has_database_privilege(current_database(), 'CREATE'),
               pg_get_userbyid(d.datdba),
               (SELECT rolsuper FROM pg_roles WHERE rolname = session_user),
               (SELECT rolname FROM pg_roles WHERE oid = 10)
        FROM pg_roles r, pg_database d
        WHERE r.rolname = current_user AND d.datname = current_database()""")
    set_priv = "SET" if major >= 16 else "MEMBER"
    roles: set[str] = set()
    supers: set[str] = set()
    can_set: set[str] = set()
    acts_as: set[str] = set()
    for name, rsuper, s, u in conn.execute(
            f"SELECT rolname, rolsuper, pg_has_role(oid, '{set_priv}'), "
            "pg_has_role(oid, 'USAGE') FROM pg_roles"):
        roles.add(name)
        if rsuper:
            supers.add(name)
        if s:
            can_set.add(name)
        if u:
            acts_as.add(name)
    known = [r for r in interest if r in roles]
    privileges_of: dict[str, set[str]] = {r: set() for r in known}
    for a, b in conn.execute(
            "SELECT a.rolname, b.rolname FROM pg_roles a, pg_roles b "
            "WHERE a.rolname = ANY(%s) AND b.rolname = ANY(%s) AND a.oid <> b.oid "
            "AND pg_has_role(a.oid, b.oid, 'USAGE')", (known, known)):
        privileges_of[a].add(b)
    create_db_roles = {r for (r,) in conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) AND "
        "has_database_privilege(oid, current_database(), 'CREATE')", (known,))}

    trusted_col = "trusted" if major >= 13 else "false"
    available: dict[str, AvailableExtension] = {}
    for name, default in conn.execute(
            "SELECT name, default_version FROM pg_available_extensions"):
        available[name] = AvailableExtension(default, {})
    for name, version, su, trusted, requires in conn.execute(
            f"SELECT name, version, superuser, {trusted_col}, coalesce(requires, '{{}}') "
            "FROM pg_available_extension_versions"):
        if name in available:
            available[name].versions[version] = ExtensionVersion(bool(su), bool(trusted),
                                                                 tuple(requires))
    installed = {n: Installed(o, bool(a)) for n, o, a in conn.execute(
        "SELECT extname, pg_get_userbyid(extowner), pg_has_role(extowner, 'USAGE') "
        "FROM pg_extension")}
    languages = {n: Installed(o, bool(a), bool(u), False, bool(t)) for n, o, a, u, t in
                 conn.execute(
                     "SELECT lanname, pg_get_userbyid(lanowner), pg_has_role(lanowner, "
                     "'USAGE'), has_language_privilege(oid, 'USAGE'), lanpltrusted "
                     "FROM pg_language")}
    ams = frozenset(n for (n,) in conn.execute("SELECT amname FROM pg_am"))
    tablespaces = {n: bool(c) for n, c in conn.execute(
        "SELECT spcname, has_tablespace_privilege(oid, 'CREATE') FROM pg_tablespace")}
    schemas = {n: Installed(o, bool(a), bool(u), bool(c)) for n, o, a, u, c in conn.execute(
        "SELECT nspname, pg_get_userbyid(nspowner), pg_has_role(nspowner, 'USAGE'), "
        "has_schema_privilege(oid, 'USAGE'), has_schema_privilege(oid, 'CREATE') "
        "FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_temp\\_%' "
        "AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'")}
    schema_create: dict[str, set[str]] = {n: set() for n in schemas}
    for n, r in conn.execute(
            "SELECT n.nspname, r.rolname FROM pg_namespace n, pg_roles r "
            "WHERE r.rolname = ANY(%s) AND has_schema_privilege(r.oid, n.oid, 'CREATE')",
            (known,)):
        if n in schema_create:
            schema_create[n].add(r)
    settings: dict[str, str] = {}
    preload: list[str] | None = []
    visible: set[str] = set()
    for name, context, setting in conn.execute(
            "SELECT name, context, setting FROM pg_settings"):
        settings[name] = context
        if name in ("shared_preload_libraries", "session_preload_libraries",
                    "local_preload_libraries"):
            visible.add(name)
            if setting and preload is not None:
                preload += [x.strip().strip('"').rsplit("/", 1)[-1]
                            for x in str(setting).split(",") if x.strip()]
    if "shared_preload_libraries" not in visible:
        preload = None
    settable: set[str] = set()
    if major >= 15:
        settable = {n for (n,) in conn.execute(
            "SELECT parname FROM pg_parameter_acl "
            "WHERE has_parameter_privilege(parname, 'SET')")}
    fdws = {n: Installed(o, bool(a), bool(u)) for n, o, a, u in conn.execute(
        "SELECT fdwname, pg_get_userbyid(fdwowner), pg_has_role(fdwowner, 'USAGE'), "
        "has_foreign_data_wrapper_privilege(oid, 'USAGE') FROM pg_foreign_data_wrapper")}
    fdw_usage: dict[str, set[str]] = {n: set() for n in fdws}
    for n, r in conn.execute(
            "SELECT w.fdwname, r.rolname FROM pg_foreign_data_wrapper w, pg_roles r "
            "WHERE r.rolname = ANY(%s) AND has_foreign_data_wrapper_privilege(r.oid, w.oid, "
            "'USAGE')", (known,)):
        fdw_usage[n].add(r)
    servers = {n: Installed(o, bool(a), bool(u)) for n, o, a, u in conn.execute(
        "SELECT srvname, pg_get_userbyid(srvowner), pg_has_role(srvowner, 'USAGE'), "
        "has_server_privilege(oid, 'USAGE') FROM pg_foreign_server")}
    if superuser:
        create_sub = True
    elif major >= 16:
        create_sub = bool(_one(conn, "SELECT pg_has_role('pg_create_subscription', "
                                     "'USAGE')")[0])
    else:
        create_sub = False
    providers = None if preload is None else frozenset(
        SECLABEL_LIBRARIES[lib] for lib in preload if lib in SECLABEL_LIBRARIES)
    return TargetFacts(
        server_version_num=num, database=database, current_user=current,
        session_user=session, superuser=bool(superuser),
        session_superuser=bool(session_super), createdb=bool(createdb),
        create_on_database=bool(create_db), database_owner=db_owner,
        bootstrap_superuser=boot, roles=frozenset(roles), superusers=frozenset(supers),
        can_set=frozenset(can_set), acts_as=frozenset(acts_as),
        privileges_of={k: frozenset(v) for k, v in privileges_of.items()},
        create_on_database_roles=frozenset(create_db_roles),
        available_extensions=available, installed_extensions=installed,
        languages=languages, access_methods=ams, tablespaces=tablespaces, schemas=schemas,
        schema_create_roles={k: frozenset(v) for k, v in schema_create.items()},
        settings=settings, settable=frozenset(settable), fdws=fdws,
        fdw_usage_roles={k: frozenset(v) for k, v in fdw_usage.items()}, servers=servers,
        create_subscription=create_sub, seclabel_providers=providers)


def gather_for(conninfo: str, password: str | None, role: str | None,
               roles_of_interest: Iterable[str] = ()) -> TargetFacts:
    """Connect (the password through psycopg, never a command line), read the facts
    read-only, disconnect."""
    with psycopg.connect(conninfo, password=password, connect_timeout=15,
                         autocommit=True) as conn:
        return gather(conn, role, roles_of_interest)
