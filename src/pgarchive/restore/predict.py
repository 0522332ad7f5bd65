"""Which entries pg_restore will report errors for on this target, and why: pure logic.

:func:`predict` walks the entries in the order pg_restore runs them (the main pass, then
ACLs, then event triggers and materialized view data) and, for each, the statements it
runs: ``SET default_tablespace`` and ``SET default_table_access_method`` when they change,
the entry's definition (one query: when one of its statements fails, none of them takes
effect), ``ALTER ... OWNER TO`` unless ``--no-owner``, the COPY of its data.  Each
statement is checked against the rules the server applies (extension.c, event_trigger.c,
publicationcmds.c, subscriptioncmds.c, amcmds.c, functioncmds.c, aclchk.c, tablecmds.c,
guc.c...) using a :class:`~.targetfacts.TargetFacts` snapshot and what the entries before
it created, and with which owner.

An entry whose object is not created makes every entry that depends on it (the archive's
dependencies, which ``--with-deps`` walks too) fail as well; an entry whose object is
created although one of its statements fails (a missing owner, tablespace or table access
method) does not.  pg_restore prints ``from TOC entry N`` once per failing entry: the
prediction is the set of those N, in the order pg_restore reaches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..format.model import TocEntry
from . import statements as st
from .targetfacts import TargetFacts

if TYPE_CHECKING:
    from ..archive import Archive

#: cause code -> (what it is, the fix).  Codes are stable: scripts may match on them.
CAUSES: dict[str, tuple[str, str]] = {
    "extension_unavailable": ("extension not installed on the server",
                              "--skip-unrestorable"),
    "extension_requires": ("extension needs another extension the target lacks",
                           "--skip-unrestorable"),
    "extension_superuser": ("extension needs a superuser (not trusted)",
                            "--skip-unrestorable"),
    "extension_privilege": ("trusted extension needs CREATE on the database",
                            "--skip-unrestorable"),
    "extension_not_owner": ("the extension already exists, owned by another role",
                            "--no-comments"),
    "event_trigger_superuser": ("event triggers need a superuser", "--skip-unrestorable"),
    "publication_all_tables": ("FOR ALL TABLES publications need a superuser",
                               "--no-publications"),
    "publication_schema": ("FOR TABLES IN SCHEMA publications need a superuser",
                           "--no-publications"),
    "publication_privilege": ("publications need CREATE on the database",
                              "--no-publications"),
    "subscription_privilege": ("subscriptions need a superuser or pg_create_subscription",
                               "--no-subscriptions"),
    "subscription_password": ("a non-superuser's subscription needs a password in its "
                              "connection string", "--no-subscriptions"),
    "access_method_superuser": ("access methods need a superuser", "--skip-unrestorable"),
    "superuser_required": ("only a superuser may create this", "--skip-unrestorable"),
    "language_missing": ("the function's language is not installed", "--skip-unrestorable"),
    "language_untrusted": ("functions in an untrusted language need a superuser",
                           "--skip-unrestorable"),
    "language_privilege": ("no USAGE privilege on the function's language",
                           "--skip-unrestorable"),
    "setting_unknown": ("a setting the server does not know", "--skip-unrestorable"),
    "setting_superuser": ("a setting only a superuser (or a GRANT SET) may set",
                          "--skip-unrestorable"),
    "schema_exists": ("the schema already exists on the target", "--skip-unrestorable"),
    "schema_missing": ("the schema is neither on the target nor restored",
                       "--skip-unrestorable"),
    "create_privilege": ("no CREATE privilege where the object is created",
                         "--skip-unrestorable"),
    "not_owner": ("the object belongs to a role whose privileges the restoring role lacks",
                  "--skip-unrestorable"),
    "comment_not_owner": ("comment or label on an object owned by another role",
                          "--no-comments"),
    "seclabel_provider": ("no such security label provider loaded",
                          "--no-security-labels"),
    "owner_missing": ("owner role does not exist on the target", "-O"),
    "owner_not_member": ("the restoring role cannot SET ROLE to the owner", "-O"),
    "owner_privilege": ("the new owner lacks a privilege the owner needs", "-O"),
    "grantee_missing": ("GRANT/REVOKE names a role that does not exist", "-x"),
    "grant_privilege": ("GRANT/REVOKE needs privileges the restoring role lacks", "-x"),
    "policy_role_missing": ("policy names a role that does not exist", "--no-policies"),
    "tablespace_missing": ("tablespace does not exist on the target", "--no-tablespaces"),
    "tablespace_privilege": ("no CREATE privilege on the tablespace", "--no-tablespaces"),
    "table_am_missing": ("table access method does not exist on the target",
                         "--no-table-access-method"),
    "role_missing": ("a role the statement names does not exist", "--skip-unrestorable"),
    "createdb": ("creating the database needs CREATEDB", "--skip-unrestorable"),
    "dependency": ("depends on an entry that fails", "--skip-unrestorable"),
    "session_setting": ("pg_restore sets a parameter the server does not know on each "
                        "connection", "--pg-restore"),
}

#: What pg_restore runs ALTER ... OWNER TO for (pg_backup_archiver.c _getObjectDescription).
OWNABLE = frozenset({
    "COLLATION", "CONVERSION", "DOMAIN", "FOREIGN TABLE", "MATERIALIZED VIEW", "SEQUENCE",
    "STATISTICS", "TABLE", "TEXT SEARCH DICTIONARY", "TEXT SEARCH CONFIGURATION", "TYPE",
    "VIEW", "DATABASE", "PROCEDURAL LANGUAGE", "SCHEMA", "EVENT TRIGGER",
    "FOREIGN DATA WRAPPER", "SERVER", "PUBLICATION", "SUBSCRIPTION", "BLOB", "AGGREGATE",
    "FUNCTION", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "PROCEDURE",
    "BLOB METADATA",
})
#: Objects that live in a schema: creating them, or giving them to a new owner, needs
#: CREATE on it (for the new owner: at the time of the ALTER OWNER).
IN_SCHEMA = frozenset({
    "TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FOREIGN TABLE", "TYPE", "DOMAIN",
    "FUNCTION", "PROCEDURE", "AGGREGATE", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY",
    "COLLATION", "CONVERSION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH CONFIGURATION",
    "STATISTICS",
})
RELATIONS = frozenset({"TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "SEQUENCE"})
#: Entries that act on a table someone else may own (index, constraint, ...): the
#: restoring role needs the table owner's privileges.
ON_TABLE = frozenset({
    "INDEX", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "TRIGGER", "RULE", "POLICY",
    "ROW SECURITY", "DEFAULT", "TABLE ATTACH", "INDEX ATTACH", "STATISTICS",
    "STATISTICS DATA", "MATERIALIZED VIEW DATA",
})
SUPERUSER_ONLY = {
    "ACCESS METHOD": "access_method_superuser",
    "EVENT TRIGGER": "event_trigger_superuser",
    "OPERATOR CLASS": "superuser_required", "OPERATOR FAMILY": "superuser_required",
    "TEXT SEARCH PARSER": "superuser_required", "TEXT SEARCH TEMPLATE": "superuser_required",
    "FOREIGN DATA WRAPPER": "superuser_required", "SHELL TYPE": "superuser_required",
    "PUBLICATION TABLES IN SCHEMA": "publication_schema",
    "SUBSCRIPTION TABLE": "superuser_required", "TRANSFORM": "superuser_required",
}
_SUPERUSER_WHAT = {
    "ACCESS METHOD": "create an access method",
    "EVENT TRIGGER": "create an event trigger",
    "OPERATOR CLASS": "create an operator class",
    "OPERATOR FAMILY": "create an operator family",
    "TEXT SEARCH PARSER": "create a text search parser",
    "TEXT SEARCH TEMPLATE": "create a text search template",
    "FOREIGN DATA WRAPPER": "create a foreign-data wrapper",
    "SHELL TYPE": "create a base type",
    "PUBLICATION TABLES IN SCHEMA": "add a schema's tables to a publication",
    "SUBSCRIPTION TABLE": "restore a subscription's table state",
    "TRANSFORM": "create a transform",
}
UNTRUSTED_LANGUAGES = frozenset({"c", "internal"})
ACL_PASS = frozenset({"ACL", "ACL LANGUAGE", "DEFAULT ACL"})


@dataclass(frozen=True)
class PredictOptions:
    """The pg_restore options that change what runs (selection options such as -x or
    --no-comments have already chosen the entries)."""

    no_owner: bool = False
    no_tablespaces: bool = False
    no_table_am: bool = False
    single_transaction: bool = False
    create: bool = False
    clean: bool = False
    if_exists: bool = False
    jobs: int = 1
    pg_restore_major: int = 18


@dataclass(frozen=True)
class Failure:
    """One entry pg_restore will report an error for."""

    dump_id: int
    desc: str
    name: str
    cause: str
    message: str
    because_of: int | None = None   # the entry whose failure causes this one
    created: bool = False           # the object is still created; one statement fails
    more: tuple[tuple[str, str], ...] = ()  # further (cause, message) of the same entry

    @property
    def fix(self) -> str:
        """The pg_restore flag that avoids it, or ``--skip-unrestorable``."""
        return CAUSES[self.cause][1]

    @property
    def causes(self) -> tuple[str, ...]:
        """Every cause code of this entry, first one first."""
        return (self.cause, *(c for c, _ in self.more))

    def to_json(self) -> dict[str, object]:
        """The JSON form (what ``restore --json`` prints for each failure)."""
        return {"dump_id": self.dump_id, "desc": self.desc, "name": self.name,
                "cause": self.cause, "message": self.message, "because_of": self.because_of,
                "fix": self.fix, "object_created": self.created,
                "more": [{"cause": c, "message": m} for c, m in self.more]}


@dataclass(frozen=True)
class Prediction:
    """The failures, in the order pg_restore reaches them, and what could not be told."""

    failures: tuple[Failure, ...]
    notes: tuple[str, ...] = ()
    entries: int = 0
    #: errors pg_restore reports outside any entry (on connecting), as (cause, message)
    session: tuple[tuple[str, str], ...] = ()

    @property
    def ids(self) -> frozenset[int]:
        """The dump ids pg_restore will print ``from TOC entry`` lines for."""
        return frozenset(f.dump_id for f in self.failures)

    def first(self) -> Failure | None:
        """With ``-1`` this one aborts the restore, and nothing is committed (unless an
        error on connecting, in :attr:`session`, stops pg_restore first)."""
        return self.failures[0] if self.failures else None


@dataclass
class _Obj:
    """An object's state once its entry has run."""

    exists: bool
    owner: str = ""
    acts: bool = True          # the restoring role has the owner's privileges
    root: int | None = None    # when it does not exist: the failure that causes it
    schema_owner: str = ""     # SCHEMA entries: to decide who may create in it


@dataclass
class _Problem:
    cause: str
    message: str
    created: bool = False
    because: int | None = None   # a dependency found by name fails


@dataclass
class _Sim:
    facts: TargetFacts
    opts: PredictOptions
    by_id: dict[int, TocEntry]
    selected: set[int]
    objects: dict[int, _Obj] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schemas: dict[str, _Obj] = field(default_factory=dict)       # created by the restore
    extensions: dict[str, _Obj] = field(default_factory=dict)    # created or present
    languages: dict[str, bool] = field(default_factory=dict)     # created: trusted?
    access_methods: set[str] = field(default_factory=set)
    servers: dict[str, int] = field(default_factory=dict)       # SERVER entries by name
    session: list[tuple[str, str]] = field(default_factory=list)  # errors on connecting
    tablespace: str | None = None     # pg_restore's idea of default_tablespace
    tablespace_set: str = ""          # what the server actually has
    table_am: str | None = None

    # --- the walk ---------------------------------------------------------------------

    def run(self, order: Sequence[TocEntry]) -> None:
        for e in order:
            if e.desc == "SERVER":
                self.servers[e.tag] = e.dump_id
        for e in order:
            problems: list[_Problem] = []
            if _schema_part(e):
                # sent (and remembered) whether or not the definition then succeeds
                problems += self._set_tablespace(e)
                if e.relkind_char != "p":
                    problems += self._set_table_am(e)
            blocker = self._failed_dependency(e)
            if blocker is not None:
                root, parent = blocker
                pe = self.by_id[parent]
                self._fail(e, [_Problem("dependency", f"needs {_label(pe)}, which fails")],
                           because_of=root)
                continue
            if _schema_part(e):
                problems += self._schema_part(e)
            if e.had_dumper:
                problems += self._data_part(e)
            if e.desc in ("DATABASE", "DATABASE PROPERTIES") and self.session:
                # pg_restore reconnects after these, and sets its parameters again
                problems += [_Problem(c, m, True) for c, m in self.session]
            if problems:
                self._fail(e, problems)
            elif e.dump_id not in self.objects:
                self.objects[e.dump_id] = self._made(e)
            if e.desc in ("DATABASE", "DATABASE PROPERTIES"):
                self.tablespace = self.table_am = None
                self.tablespace_set = ""

    def _fail(self, e: TocEntry, problems: list[_Problem], because_of: int | None = None
              ) -> None:
        first = problems[0]
        if because_of is None:
            because_of = first.because
        created = all(p.created for p in problems)
        self.failures.append(Failure(
            e.dump_id, e.desc, _name(e), first.cause, first.message, because_of, created,
            tuple((p.cause, p.message) for p in problems[1:])))
        if created:
            self.objects.setdefault(e.dump_id, self._made(e))
        else:
            self.objects[e.dump_id] = _Obj(False, root=because_of or e.dump_id)

    def _failed_dependency(self, e: TocEntry) -> tuple[int, int] | None:
        for d in e.dependencies:
            o = self.objects.get(d)
            if o is None or o.exists:
                continue
            dep = self.by_id[d]
            if e.desc in ("TABLE", "MATERIALIZED VIEW") and dep.desc == "ACCESS METHOD":
                continue  # its SET default_table_access_method is what fails
            return (o.root if o.root is not None else d), d
        return None

    def _made(self, e: TocEntry) -> _Obj:
        """An object the restoring role created (its ALTER OWNER, if any, already ran)."""
        if e.dump_id in self.objects:
            return self.objects[e.dump_id]
        return _Obj(True, self.facts.current_user, True)

    # --- the definition ---------------------------------------------------------------

    def _schema_part(self, e: TocEntry) -> list[_Problem]:
        out: list[_Problem] = []
        defn = self._definition(e)
        out += defn
        if not defn or all(p.created for p in defn):
            out += self._alter_owner(e)
            if e.relkind_char == "p":
                out += self._partitioned_am(e)
        return out

    def _set_tablespace(self, e: TocEntry) -> list[_Problem]:
        want = e.tablespace
        if self.opts.no_tablespaces or want is None or want == self.tablespace:
            return []
        self.tablespace = want  # pg_restore remembers it even when the SET fails
        if want == "" or want in self.facts.tablespaces:
            self.tablespace_set = want
            return []
        return [_Problem("tablespace_missing", f'tablespace "{want}" does not exist: '
                         "the object goes to the default tablespace", True)]

    def _set_table_am(self, e: TocEntry) -> list[_Problem]:
        want = e.tableam
        if self.opts.no_table_am or want is None or want == self.table_am:
            return []
        self.table_am = want
        if want in self.facts.access_methods or want in self.access_methods:
            return []
        return [_Problem("table_am_missing", f'table access method "{want}" does not exist: '
                         "the table gets the default one", True)]

    def _partitioned_am(self, e: TocEntry) -> list[_Problem]:
        am = e.tableam
        if self.opts.no_table_am or not am or self.opts.pg_restore_major < 17:
            return []
        if am in self.facts.access_methods or am in self.access_methods:
            return []
        return [_Problem("table_am_missing", f'table access method "{am}" does not exist',
                         True)]

    def _definition(self, e: TocEntry) -> list[_Problem]:
        f = self.facts
        desc = e.desc
        defn = e.defn or ""
        if desc in SUPERUSER_ONLY and not f.superuser:
            what = _SUPERUSER_WHAT.get(desc, desc.lower())
            return [_Problem(SUPERUSER_ONLY[desc], f"only a superuser may {what}")]
        if desc == "SCHEMA":
            return self._schema(e, defn)
        if desc == "EXTENSION":
            return self._extension(e, defn)
        if desc == "ACCESS METHOD":
            self.access_methods.add(e.tag)
            return []
        out: list[_Problem] = []
        if desc in IN_SCHEMA or desc == "TABLE":
            out += self._create_in_schema(e)
            if out:
                return out
        if desc in ("TABLE", "MATERIALIZED VIEW", "INDEX", "CONSTRAINT"):
            out += self._tablespace_privilege(e)
        if desc in ("FUNCTION", "PROCEDURE"):
            out += self._function(e, defn)
        elif desc == "TYPE" and re.search(r"\n    INPUT = ", defn) and not f.superuser:
            out.append(_Problem("superuser_required", "only a superuser may create a base "
                                "type"))
        elif desc == "PROCEDURAL LANGUAGE" and not f.superuser:
            out.append(_Problem("superuser_required", "only a superuser may create a "
                                "procedural language outside an extension"))
        elif desc == "CAST" and not f.superuser:
            out += self._cast(e, defn)
        elif desc in ("COMMENT", "SECURITY LABEL"):
            out += self._comment(e, defn)
        elif desc in ACL_PASS:
            out += self._acl(e, defn)
        elif desc == "PUBLICATION":
            if "FOR ALL TABLES" in defn and not f.superuser:
                out.append(_Problem("publication_all_tables", "only a superuser may create "
                                    "a FOR ALL TABLES publication"))
            elif not (f.superuser or f.create_on_database):
                out.append(_Problem("publication_privilege", "no CREATE privilege on "
                                    f'database "{f.database}"'))
        elif desc == "PUBLICATION TABLE":
            out += self._needs_owner_of(e, ("PUBLICATION", *RELATIONS))
        elif desc == "SUBSCRIPTION":
            out += self._subscription(defn)
        elif desc == "SERVER":
            out += self._server(defn)
        elif desc == "USER MAPPING":
            out += self._user_mapping(defn)
        elif desc == "SEQUENCE SET":
            out += self._needs_owner_of(e, ("SEQUENCE",))
        elif desc == "SEQUENCE OWNED BY":
            out += self._owned_by(e)
        elif desc == "SEQUENCE" and defn.startswith("ALTER TABLE"):
            out += self._needs_owner_of(e, ("TABLE",))
        elif desc == "POLICY":
            out += self._needs_owner_of(e, RELATIONS)
            for r in st.policy_roles(defn):
                if r not in f.roles:
                    out.append(_Problem("policy_role_missing", f'role "{r}" does not exist'))
                    break
        elif desc in ON_TABLE:
            # (an FK also needs REFERENCES on the table it points to: the owner's
            # privileges, as its grants come later, in the ACL pass)
            out += self._needs_owner_of(e, RELATIONS)
        elif desc == "TABLE":
            out += self._inherits(e)
        elif desc == "DATABASE":
            out += self._database(e, defn)
        elif desc == "DATABASE PROPERTIES":
            out += self._database_properties(defn)
        return out

    def _schema(self, e: TocEntry, defn: str) -> list[_Problem]:
        f = self.facts
        if defn.startswith("--"):   # "-- *not* creating schema, since initdb creates it"
            return []
        parsed = st.schema_create(defn)
        name = parsed[0] if parsed else e.tag
        if name in f.schemas:
            return [_Problem("schema_exists", f'schema "{name}" already exists', True)]
        if not (f.superuser or f.create_on_database):
            return [_Problem("create_privilege", "no CREATE privilege on database "
                             f'"{f.database}"')]
        auth = parsed[1] if parsed else None
        if auth and not self.opts.no_owner:
            if auth not in f.roles:
                return [_Problem("owner_missing", f'role "{auth}" does not exist')]
            if not f.role_can_set(auth):
                return [_Problem("owner_not_member", f'cannot SET ROLE to "{auth}"')]
        return []

    def _extension(self, e: TocEntry, defn: str) -> list[_Problem]:
        f = self.facts
        parsed = st.extension_create(defn)
        name, schema = parsed if parsed else (e.tag, None)
        have = f.installed_extensions.get(name)
        if have is not None:
            self.extensions[name] = _Obj(True, have.owner, have.acts_as_owner)
            return []
        avail = f.available_extensions.get(name)
        if avail is None or avail.default is None:
            return [_Problem("extension_unavailable", f'extension "{name}" is not available '
                             "on the server")]
        version = avail.default
        for req in version.requires:
            if req not in f.installed_extensions and req not in self.extensions:
                return [_Problem("extension_requires", f'extension "{name}" requires '
                                 f'extension "{req}", which the target will not have')]
        if schema and schema not in f.schemas and schema not in self.schemas:
            return [_Problem("schema_missing", f'schema "{schema}" does not exist')]
        if version.superuser and not f.superuser:
            if not version.trusted:
                return [_Problem("extension_superuser", f'extension "{name}" is not '
                                 "trusted: only a superuser may create it")]
            if not f.create_on_database:
                return [_Problem("extension_privilege", f'extension "{name}" is trusted but '
                                 f'needs CREATE on database "{f.database}"')]
        self.extensions[name] = _Obj(True, f.current_user, True)
        if name.startswith("pl"):
            self.languages[name] = version.trusted or not version.superuser
        return []

    def _create_in_schema(self, e: TocEntry) -> list[_Problem]:
        ns = e.namespace
        if not ns:
            return []
        f = self.facts
        if e.desc == "SEQUENCE" and (e.defn or "").startswith("ALTER TABLE"):
            return []  # an identity column's sequence: created by ALTER TABLE
        created = self.schemas.get(ns)
        if created is not None:
            if f.superuser or created.acts:
                return []
            return [_Problem("create_privilege", f'no CREATE privilege on schema "{ns}" '
                             f'(owned by "{created.owner}")')]
        have = f.schemas.get(ns)
        if have is None:
            return [_Problem("schema_missing", f'schema "{ns}" does not exist')]
        if f.superuser or have.create or have.acts_as_owner:
            return []
        return [_Problem("create_privilege", f'no CREATE privilege on schema "{ns}"')]

    def _tablespace_privilege(self, e: TocEntry) -> list[_Problem]:
        if self.opts.no_tablespaces or self.facts.superuser:
            return []
        ts = self.tablespace_set
        if not ts or ts in ("pg_default",) or self.facts.tablespaces.get(ts, True):
            return []
        return [_Problem("tablespace_privilege", f'no CREATE privilege on tablespace "{ts}"')]

    def _function(self, e: TocEntry, defn: str) -> list[_Problem]:
        f = self.facts
        lang = st.function_language(defn)
        if lang:
            have = f.languages.get(lang)
            if have is None and lang not in self.languages:
                return [_Problem("language_missing", f'language "{lang}" does not exist')]
            trusted = have.trusted if have is not None else self.languages[lang]
            if lang in UNTRUSTED_LANGUAGES:
                trusted = False
            if not f.superuser and not trusted:
                return [_Problem("language_untrusted", f'language "{lang}" is untrusted: '
                                 "only a superuser may create functions in it")]
            if not f.superuser and have is not None and not have.usage:
                return [_Problem("language_privilege", f'no USAGE privilege on language '
                                 f'"{lang}"')]
        for flag in sorted(st.function_flags(defn)):
            if not f.superuser:
                return [_Problem("superuser_required", f"only a superuser may give a "
                                 f"function {flag}")]
        for name in st.function_settings(defn):
            p = self._setting(name)
            if p:
                return [p]
        return []

    def _setting(self, name: str) -> _Problem | None:
        """Whether a stored setting (function SET, ALTER DATABASE SET) is accepted:
        guc.c validate_option_array_item."""
        f = self.facts
        context = f.settings.get(name)
        if context is None:
            if "." not in name:
                return _Problem("setting_unknown", f'unrecognized configuration parameter '
                                f'"{name}"')
            if f.superuser or name in f.settable:
                return None
            return _Problem("setting_superuser", f'"{name}" is not a parameter the server '
                            "knows (a placeholder): only a superuser may store it")
        if context == "user":
            return None
        if context == "superuser":
            if f.superuser or name in f.settable:
                return None
            return _Problem("setting_superuser", f'only a superuser may set "{name}"')
        return _Problem("setting_superuser", f'"{name}" cannot be set here (context '
                        f"{context})")

    def _cast(self, e: TocEntry, defn: str) -> list[_Problem]:
        if st.cast_kind(defn) == "WITHOUT FUNCTION":
            return [_Problem("superuser_required", "only a superuser may create a cast "
                             "WITHOUT FUNCTION")]
        for d in e.dependencies:
            dep = self.by_id.get(d)
            o = self.objects.get(d)
            if dep is not None and dep.desc in ("TYPE", "DOMAIN") and o is not None and o.acts:
                return []
        return [_Problem("not_owner", "must own the source or target type of the cast")]

    def _comment(self, e: TocEntry, defn: str) -> list[_Problem]:
        f = self.facts
        if e.desc == "SECURITY LABEL":
            prov = st.security_label_provider(defn)
            have = f.seclabel_providers or frozenset()
            if (prov is None and not have) or (prov is not None and prov not in have):
                what = f'"{prov}" is not loaded' if prov else "none is loaded"
                return [_Problem("seclabel_provider", f"security label provider {what}")]
        target = self._object_of(e)
        if target is None:
            if e.tag.startswith("ACCESS METHOD ") and not f.superuser:
                return [_Problem("superuser_required", "only a superuser may comment on an "
                                 "access method")]
            return []
        obj, dep = target
        if obj.acts or f.superuser:
            return []
        cause = "extension_not_owner" if dep.desc == "EXTENSION" else "comment_not_owner"
        what = f'{dep.desc.lower()} "{_bare(dep)}"'
        return [_Problem(cause, f'must be owner of {what} (owned by "{obj.owner}")')]

    def _object_of(self, e: TocEntry) -> tuple[_Obj, TocEntry] | None:
        """The object a COMMENT, SECURITY LABEL or ACL entry is about, as restored."""
        for d in e.dependencies:
            dep = self.by_id.get(d)
            if dep is None:
                continue
            if dep.desc == "EXTENSION":
                parsed = st.extension_create(dep.defn or "")
                name = parsed[0] if parsed else dep.tag
                o = self.extensions.get(name)
                if o is None:
                    have = self.facts.installed_extensions.get(name)
                    if have is None:
                        return None
                    o = _Obj(True, have.owner, have.acts_as_owner)
                return o, dep
            if dep.desc == "SCHEMA" and dep.dump_id in self.objects:
                return self._schema_obj(dep), dep
            o = self._owner_obj(dep)
            if o is not None:
                return o, dep
        return None

    def _schema_obj(self, dep: TocEntry) -> _Obj:
        o = self.objects[dep.dump_id]
        name = dep.tag
        have = self.facts.schemas.get(name)
        if name not in self.schemas and have is not None:
            return _Obj(True, have.owner, have.acts_as_owner)
        return o

    def _owner_obj(self, dep: TocEntry) -> _Obj | None:
        """The state of the object that owns ``dep`` (a table for its index...)."""
        o = self.objects.get(dep.dump_id)
        if dep.desc in ON_TABLE or dep.desc in ("CONSTRAINT", "INDEX"):
            for d in dep.dependencies:
                p = self.by_id.get(d)
                if p is not None and p.desc in RELATIONS:
                    return self.objects.get(d)
        return o

    def _needs_owner_of(self, e: TocEntry, kinds: Iterable[str]) -> list[_Problem]:
        if self.facts.superuser:
            return []
        kinds = set(kinds)
        for d in e.dependencies:
            dep = self.by_id.get(d)
            o = self.objects.get(d)
            if dep is None or o is None or dep.desc not in kinds:
                continue
            if not o.acts:
                return [_Problem("not_owner", f'{_label(dep)} belongs to "{o.owner}", whose '
                                 "privileges the restoring role lacks")]
        return []

    def _inherits(self, e: TocEntry) -> list[_Problem]:
        for d in e.dependencies:
            dep = self.by_id.get(d)
            o = self.objects.get(d)
            if dep is not None and dep.desc == "TABLE" and o is not None and not o.acts \
                    and not self.facts.superuser:
                return [_Problem("not_owner", f'must be owner of {_label(dep)} (owned by '
                                 f'"{o.owner}") to create a table that inherits from it')]
        return []

    def _owned_by(self, e: TocEntry) -> list[_Problem]:
        seq = tab = None
        for d in e.dependencies:
            dep = self.by_id.get(d)
            if dep is not None and dep.desc == "SEQUENCE":
                seq = self.objects.get(d)
                for d2 in dep.dependencies:
                    p = self.by_id.get(d2)
                    if p is not None and p.desc in RELATIONS - {"SEQUENCE"}:
                        tab = self.objects.get(d2)
        if seq is not None and not seq.acts and not self.facts.superuser:
            return [_Problem("not_owner", f'the sequence belongs to "{seq.owner}"')]
        if seq is not None and tab is not None and tab.exists and seq.owner != tab.owner:
            return [_Problem("not_owner", "sequence must have the same owner as the table "
                             f'it is linked to ("{seq.owner}" and "{tab.owner}")')]
        return []

    def _subscription(self, defn: str) -> list[_Problem]:
        f = self.facts
        if f.superuser:
            return []
        if f.major < 16 or not f.create_subscription:
            need = ("a superuser" if f.major < 16 else
                    'a superuser or a member of "pg_create_subscription"')
            return [_Problem("subscription_privilege", f"only {need} may create "
                             "subscriptions")]
        if not f.create_on_database:
            return [_Problem("subscription_privilege", "no CREATE privilege on database "
                             f'"{f.database}"')]
        opts = st.subscription_options(defn)
        if opts.get("password_required", "true").lower() in ("false", "off", "0"):
            return [_Problem("subscription_password", "only a superuser may create a "
                             "subscription with password_required = false")]
        conninfo = st.subscription_conninfo(defn)
        if conninfo is not None and not st.conninfo_has_password(conninfo):
            return [_Problem("subscription_password", "the connection string has no "
                             "password, which non-superusers must give")]
        return []

    def _user_mapping(self, defn: str) -> list[_Problem]:
        """CREATE USER MAPPING: pg_dump records no dependency on the server, so it is
        found by name."""
        f = self.facts
        role = st.user_mapping_role(defn)
        if role and role not in f.roles:
            return [_Problem("role_missing", f'role "{role}" does not exist')]
        server = st.user_mapping_server(defn)
        if server is None:
            return []
        made = self.servers.get(server)
        if made is not None:
            o = self.objects.get(made)
            if o is not None and not o.exists:
                which = _label(self.by_id[made])
                return [_Problem("dependency", f"needs {which}, which fails",
                                 because=o.root)]
            if o is not None and (o.acts or f.superuser):
                return []
            return [_Problem("not_owner", f'server "{server}" belongs to another role')]
        have = f.servers.get(server)
        if have is None:
            return [_Problem("dependency", f'server "{server}" does not exist')]
        if f.superuser or have.acts_as_owner or (role == f.current_user and have.usage):
            return []
        return [_Problem("not_owner", f'server "{server}" belongs to "{have.owner}"')]

    def _server(self, defn: str) -> list[_Problem]:
        f = self.facts
        fdw = st.server_wrapper(defn)
        if fdw is None or f.superuser:
            return []
        have = f.fdws.get(fdw)
        if have is None:
            return [_Problem("superuser_required", f'foreign-data wrapper "{fdw}" does not '
                             "exist (creating it needs a superuser)")]
        if not have.usage:
            return [_Problem("create_privilege", f'no USAGE privilege on foreign-data '
                             f'wrapper "{fdw}"')]
        return []

    def _database(self, e: TocEntry, defn: str) -> list[_Problem]:
        f = self.facts
        if not (f.superuser or f.createdb):
            return [_Problem("createdb", "the restoring role may not create databases")]
        ts = st.database_tablespace(defn)
        if ts and not self.opts.no_tablespaces:
            if ts not in f.tablespaces:
                return [_Problem("tablespace_missing", f'tablespace "{ts}" does not exist')]
            if not (f.superuser or f.tablespaces[ts]):
                return [_Problem("tablespace_privilege", "no CREATE privilege on tablespace "
                                 f'"{ts}"')]
        return []

    def _database_properties(self, defn: str) -> list[_Problem]:
        f = self.facts
        db = next((self.objects.get(i) for i, e in self.by_id.items()
                   if e.desc == "DATABASE"), None)
        if db is not None and not (db.acts or f.superuser):
            return [_Problem("not_owner", f'the database belongs to "{db.owner}", whose '
                             "privileges the restoring role lacks")]
        for stmt in st.statements(defn):
            setting = st.database_setting(stmt)
            if setting is None:
                continue
            if setting.role is not None:
                if setting.role not in f.roles:
                    return [_Problem("role_missing", f'role "{setting.role}" does not exist')]
                if not f.superuser and setting.role != f.current_user:
                    return [_Problem("superuser_required", "only a superuser may store "
                                     f'settings of role "{setting.role}"')]
            p = self._setting(setting.name)
            if p:
                return [p]
        return []

    # --- ALTER ... OWNER TO -----------------------------------------------------------

    def _alter_owner(self, e: TocEntry) -> list[_Problem]:
        if (self.opts.no_owner or not e.owner or not e.drop_stmt or e.desc not in OWNABLE):
            if e.desc == "SCHEMA" and e.dump_id not in self.objects:
                self._record_schema(e, self.facts.current_user)
            return []
        f = self.facts
        new = e.owner
        current = self._current_owner(e)
        ok = self._may_give(e, current, new)
        if e.desc == "SCHEMA":
            self._record_schema(e, new if ok is None and current is not None else
                                (current.owner if current else f.current_user))
        if ok is None:
            self.objects[e.dump_id] = _Obj(True, new, f.role_acts_as(new))
            return []
        self.objects[e.dump_id] = _Obj(True, current.owner if current else f.current_user,
                                       current.acts if current else True)
        return [ok]

    def _record_schema(self, e: TocEntry, owner: str) -> None:
        name = e.tag
        if name in self.facts.schemas and not self._created_schema(e):
            have = self.facts.schemas[name]
            self.objects[e.dump_id] = _Obj(True, have.owner, have.acts_as_owner)
            return
        o = _Obj(True, owner, self.facts.role_acts_as(owner))
        self.schemas[name] = o
        self.objects[e.dump_id] = o

    def _created_schema(self, e: TocEntry) -> bool:
        return not (e.defn or "").startswith("--") and e.tag not in self.facts.schemas

    def _current_owner(self, e: TocEntry) -> _Obj | None:
        """Who owns the object when ALTER OWNER runs: the restoring role for what it just
        created; the existing owner for a schema that was already there."""
        f = self.facts
        if e.desc == "SCHEMA" and e.tag in f.schemas:
            have = f.schemas[e.tag]
            return _Obj(True, have.owner, have.acts_as_owner)
        return _Obj(True, f.current_user, True)

    def _may_give(self, e: TocEntry, current: _Obj | None, new: str) -> _Problem | None:
        """aclchk.c/alter.c/tablecmds.c: may the restoring role give the object to
        ``new``?  None when it may."""
        f = self.facts
        if new not in f.roles:
            return _Problem("owner_missing", f'role "{new}" does not exist', True)
        if current is not None and current.owner == new:
            return None
        if f.superuser:
            return None
        if current is not None and not current.acts:
            return _Problem("owner_not_member", f'must be owner of {_label(e)} (owned by '
                            f'"{current.owner}")', True)
        if not f.role_can_set(new):
            return _Problem("owner_not_member", f'the restoring role cannot SET ROLE to '
                            f'"{new}"', True)
        desc = e.desc
        if desc == "SCHEMA" and not f.create_on_database:
            return _Problem("owner_privilege", "no CREATE privilege on database "
                            f'"{f.database}"', True)
        if desc == "EVENT TRIGGER" and new not in f.superusers:
            return _Problem("owner_privilege", f'the owner of an event trigger must be a '
                            f'superuser ("{new}" is not)', True)
        if desc == "PUBLICATION":
            if new not in f.create_on_database_roles:
                return _Problem("owner_privilege", f'"{new}" has no CREATE privilege on '
                                f'database "{f.database}"', True)
            if "FOR ALL TABLES" in (e.defn or "") and new not in f.superusers:
                return _Problem("owner_privilege", "the owner of a FOR ALL TABLES "
                                f'publication must be a superuser ("{new}" is not)', True)
        if desc == "SUBSCRIPTION" and f.major < 16 and new not in f.superusers:
            return _Problem("owner_privilege", f'the owner of a subscription must be a '
                            f'superuser ("{new}" is not)', True)
        if desc == "SERVER":
            fdw = st.server_wrapper(e.defn or "")
            if fdw and new not in f.superusers and \
                    new not in f.fdw_usage_roles.get(fdw, frozenset()):
                return _Problem("owner_privilege", f'"{new}" has no USAGE privilege on '
                                f'foreign-data wrapper "{fdw}"', True)
        if desc == "DATABASE" and not f.createdb:
            return _Problem("owner_privilege", "changing a database's owner needs CREATEDB",
                            True)
        if desc in IN_SCHEMA and e.namespace and not self._may_create_in(new, e.namespace):
            return _Problem("owner_privilege", f'"{new}" has no CREATE privilege on '
                            f'schema "{e.namespace}"', True)
        return None

    def _may_create_in(self, role: str, ns: str) -> bool:
        f = self.facts
        created = self.schemas.get(ns)
        if created is not None:
            return f.has_privileges_of(role, created.owner)
        if role in f.superusers:
            return True
        return role in f.schema_create_roles.get(ns, frozenset())

    # --- ACL entries ------------------------------------------------------------------

    def _acl(self, e: TocEntry, defn: str) -> list[_Problem]:
        f = self.facts
        target = self._object_of(e) if e.desc == "ACL" else None
        for stmt in st.statements(defn):
            a = st.acl_statement(stmt)
            if a.kind == "session":
                who = a.roles[0]
                if who not in f.roles:
                    return [_Problem("grantee_missing", f'role "{who}" does not exist')]
                if not f.session_superuser and who != f.session_user:
                    return [_Problem("grant_privilege", "the grant was made by "
                                     f'"{who}", and only a superuser may SET SESSION '
                                     "AUTHORIZATION to restore it")]
                continue
            for r in a.roles:
                if r not in f.roles:
                    return [_Problem("grantee_missing", f'role "{r}" does not exist')]
            if a.kind == "default":
                who = a.for_role or f.current_user
                if not (f.superuser or f.role_acts_as(who)):
                    return [_Problem("grant_privilege", "cannot change the default "
                                     f'privileges of "{who}"')]
                if a.in_schema and a.in_schema not in f.schemas \
                        and a.in_schema not in self.schemas:
                    return [_Problem("schema_missing", f'schema "{a.in_schema}" does not '
                                     "exist")]
            elif a.kind in ("grant", "revoke") and target is not None:
                obj, dep = target
                if not (f.superuser or obj.acts or self._has_some_privilege(dep)):
                    return [_Problem("grant_privilege", f"no privilege on {_label(dep)} "
                                     f'(owned by "{obj.owner}") to grant from')]
        return []

    def _has_some_privilege(self, dep: TocEntry) -> bool:
        """GRANT by a role with some privilege but no grant option only warns."""
        f = self.facts
        if dep.desc == "SCHEMA" and dep.tag in f.schemas and dep.tag not in self.schemas:
            have = f.schemas[dep.tag]
            return have.usage or have.create
        return dep.desc == "EXTENSION"

    # --- data -------------------------------------------------------------------------

    def _data_part(self, e: TocEntry) -> list[_Problem]:
        if e.desc == "TABLE DATA":
            return self._needs_owner_of(e, RELATIONS)
        if e.desc == "BLOBS" and not self.facts.superuser:
            # pg_dump 17+ ties each BLOBS entry to its BLOB METADATA; older archives
            # have one BLOBS entry for every BLOB
            los = [d for d in e.dependencies if d in self.by_id and
                   self.by_id[d].desc in ("BLOB", "BLOB METADATA")]
            for i in los or sorted(self.selected):
                b = self.by_id[i]
                o = self.objects.get(i)
                if b.desc in ("BLOB", "BLOB METADATA") and o is not None and not o.acts:
                    return [_Problem("not_owner", f'large objects belong to "{o.owner}", '
                                     "whose privileges the restoring role lacks")]
        return []



def _schema_part(e: TocEntry) -> bool:
    d = e.defn
    return bool(d) and not (d or "").startswith("-- load via partition root ")


def _name(e: TocEntry) -> str:
    return f"{e.namespace} {e.tag}" if e.namespace else e.tag


def _bare(e: TocEntry) -> str:
    return e.tag


def _label(e: TocEntry) -> str:
    return f"{e.dump_id} {e.desc} {_name(e)}"


def restore_pass(e: TocEntry) -> int:
    """pg_restore's pass for an entry (_tocEntryRestorePass): 0 main, 1 ACL, 2 post-ACL."""
    if e.desc in ACL_PASS:
        return 1
    if e.desc in ("EVENT TRIGGER", "MATERIALIZED VIEW DATA"):
        return 2
    if e.desc == "COMMENT" and e.tag.startswith("EVENT TRIGGER "):
        return 2
    return 0


def execution_order(entries: Sequence[TocEntry]) -> list[TocEntry]:
    """The order a serial pg_restore runs the entries of its list in."""
    return sorted(entries, key=restore_pass)  # sorted() is stable: list order within a pass


def predict(entries: Sequence[TocEntry], facts: TargetFacts, options: PredictOptions,
            archive_entries: Sequence[TocEntry] | None = None) -> Prediction:
    """Predict pg_restore's failing entries for restoring ``entries`` (the list given to
    pg_restore, in its order) into the target ``facts`` describes.  ``archive_entries``
    (all of the archive's) resolve dependencies on entries left out of the list: those
    are assumed to exist on the target already."""
    if options.create:
        db = next((e.tag for e in entries if e.desc == "DATABASE"), facts.database)
        facts = facts.for_new_database(db)
    everything = list(archive_entries) if archive_entries is not None else list(entries)
    sim = _Sim(facts, options, {e.dump_id: e for e in everything},
               {e.dump_id for e in entries})
    if options.pg_restore_major >= 17 and facts.major < 17:
        # _doSetFixedOutputState: "SET transaction_timeout = 0" on every connection
        sim.session.append(("session_setting", f"pg_restore {options.pg_restore_major} "
                            "sets transaction_timeout, which PostgreSQL "
                            f"{facts.major} does not know: one error on each connection "
                            "(use a pg_restore of PostgreSQL 16 or older)"))
    order = [e for e in execution_order(entries) if e.desc not in
             ("ENCODING", "STDSTRINGS", "SEARCHPATH")]
    sim.run(order)
    notes = list(sim.notes)
    if options.single_transaction and sim.session:
        notes.append("with -1 (--single-transaction) the error pg_restore makes on "
                     "connecting stops it before it restores anything")
    elif options.single_transaction and sim.failures:
        first = sim.failures[0]
        notes.append(f"with -1 (--single-transaction) the first failure, entry "
                     f"{first.dump_id} {first.desc} {first.name}, stops pg_restore and "
                     "rolls back everything: nothing is restored")
    if options.clean and not options.if_exists:
        notes.append("the DROP statements of --clean are not predicted: each object the "
                     "target lacks makes its entry fail there (add --if-exists)")
    if options.jobs > 1 and any(p in ("tablespace_missing", "table_am_missing")
                                for f in sim.failures for p in f.causes):
        notes.append("with --jobs, each worker sets default_tablespace and "
                     "default_table_access_method on its own connection: fewer entries "
                     "than listed may report these errors")
    return Prediction(tuple(sim.failures), tuple(notes), len(order), tuple(sim.session))


@dataclass(frozen=True)
class SkipPlan:
    """What ``--skip-unrestorable`` does: the entries it leaves out (each a predicted
    failure whose object would not be created) and the pg_restore flags it adds for
    failures of one statement of an entry whose object is still created."""

    left_out: tuple[Failure, ...]
    flags: tuple[str, ...]
    options: PredictOptions
    entries: tuple[TocEntry, ...]
    remaining: Prediction


#: Flags that remove a failing statement without leaving the object out.
_STATEMENT_FLAGS = {"owner_missing": "-O", "owner_not_member": "-O", "owner_privilege": "-O",
                    "tablespace_missing": "--no-tablespaces",
                    "table_am_missing": "--no-table-access-method"}


def skip_plan(entries: Sequence[TocEntry], facts: TargetFacts, options: PredictOptions,
              archive_entries: Sequence[TocEntry] | None = None) -> SkipPlan:
    """Leave out the predicted failures (and so their dependents, which are predicted
    failures too) and add the flags that drop a failing statement of an entry whose object
    is still created; repeat until nothing is predicted to fail."""
    kept = list(entries)
    opts = options
    left: list[Failure] = []
    flags: list[str] = []
    for _ in range(20):
        pred = predict(kept, facts, opts, archive_entries)
        if not pred.failures:
            break
        drop: set[int] = set()
        for fl in pred.failures:
            statement_flags = [_STATEMENT_FLAGS.get(c) for c in fl.causes]
            if fl.created and all(statement_flags):
                for flag in statement_flags:
                    assert flag is not None
                    if flag == "--no-table-access-method" and opts.pg_restore_major < 15:
                        drop.add(fl.dump_id)
                    elif flag not in flags:
                        flags.append(flag)
            else:
                drop.add(fl.dump_id)
                left.append(fl)
        opts = replace(opts, no_owner=opts.no_owner or "-O" in flags,
                       no_tablespaces=opts.no_tablespaces or "--no-tablespaces" in flags,
                       no_table_am=opts.no_table_am or "--no-table-access-method" in flags)
        kept = [e for e in kept if e.dump_id not in drop]
    pred = predict(kept, facts, opts, archive_entries)
    return SkipPlan(tuple(left), tuple(flags), opts, tuple(kept), pred)


def roles_of_interest(entries: Iterable[TocEntry]) -> set[str]:
    """Every role the entries name (owners, grantees, grantors, policy roles): the
    roles whose privileges :func:`.targetfacts.gather` asks about."""
    out: set[str] = set()
    for e in entries:
        if e.owner:
            out.add(e.owner)
        if e.desc in ACL_PASS and e.defn:
            for stmt in st.statements(e.defn):
                out.update(st.acl_statement(stmt).roles)
        elif e.desc == "POLICY" and e.defn:
            out.update(st.policy_roles(e.defn))
    return out


def predict_failures(archive: Archive, entries: Sequence[TocEntry], facts: TargetFacts,
                     options: PredictOptions) -> Prediction:
    """The restore command's entry point: :func:`predict` for the entries given to
    pg_restore, with the whole archive to resolve dependencies."""
    return predict(entries, facts, options, archive.entries)
