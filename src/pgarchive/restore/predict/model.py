"""What a prediction is made of: the causes (stable codes, what each is, its fix), the
options that change what pg_restore runs, one problem of one statement, a failing entry,
and the prediction itself.  Plain values, no logic beyond naming."""

from __future__ import annotations

from dataclasses import dataclass

from ...format.model import TocEntry

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
    "server_version": ("a statement the target's PostgreSQL major does not know",
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
    "table_am_unsupported": ("partitioned tables have no access method before PostgreSQL "
                             "17", "--no-table-access-method"),
    "role_missing": ("a role the statement names does not exist", "--skip-unrestorable"),
    "createdb": ("creating the database needs CREATEDB", "--skip-unrestorable"),
    "dependency": ("depends on an entry that fails", "--skip-unrestorable"),
    "session_setting": ("pg_restore sets a parameter the server does not know on each "
                        "connection (known, harmless)", "--pg-restore"),
}

#: Causes that are a role the target lacks: -O, -x and --no-policies fix them for the
#: whole restore (the restore refuses them; see :mod:`pgarchive.restore.forecast`).
MISSING_ROLE = {"owner_missing": "--no-owner (-O)", "grantee_missing": "--no-acl (-x)",
                "policy_role_missing": "--no-policies"}


@dataclass(frozen=True)
class PredictOptions:
    """The pg_restore options that change what runs (selection options such as -x or
    --no-comments have already chosen the entries)."""

    no_owner: bool = False
    no_tablespaces: bool = False
    no_table_access_method: bool = False
    single_transaction: bool = False
    create: bool = False
    clean: bool = False
    if_exists: bool = False
    jobs: int = 1
    pg_restore_major: int = 18


@dataclass(frozen=True)
class Problem:
    """Why one statement of an entry fails: the cause code, the server's reason in words,
    whether the object is still created (only its owner, tablespace or access method
    fails), the entry that causes it when found by name, and the roles it is about."""

    cause: str
    message: str
    created: bool = False
    because: int | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    """One entry pg_restore will report an error for, with every problem of it."""

    dump_id: int
    desc: str
    name: str
    problems: tuple[Problem, ...]
    because_of: int | None = None   # the entry whose failure causes this one

    @property
    def cause(self) -> str:
        """The first problem's cause (the one pg_restore meets first)."""
        return self.problems[0].cause

    @property
    def message(self) -> str:
        """The first problem's message: the one the report shows."""
        return self.problems[0].message

    @property
    def created(self) -> bool:
        """The object is still created: every problem is one of its statements."""
        return all(p.created for p in self.problems)

    @property
    def more(self) -> tuple[tuple[str, str], ...]:
        """Further (cause, message) of the same entry."""
        return tuple((p.cause, p.message) for p in self.problems[1:])

    @property
    def fix(self) -> str:
        """The pg_restore flag that avoids it, or ``--skip-unrestorable``."""
        return CAUSES[self.cause][1]

    @property
    def causes(self) -> tuple[str, ...]:
        """Every cause code of this entry, first one first."""
        return tuple(p.cause for p in self.problems)

    @property
    def harmless(self) -> bool:
        """Only the known harmless error of a newer pg_restore (pgarchive does not count
        it): the entry is restored."""
        return all(p.cause == "session_setting" for p in self.problems)

    def to_json(self) -> dict[str, object]:
        """The JSON form (what ``restore --json`` prints for each failure)."""
        return {"dump_id": self.dump_id, "desc": self.desc, "name": self.name,
                "cause": self.cause, "message": self.message, "because_of": self.because_of,
                "fix": self.fix, "object_created": self.created, "harmless": self.harmless,
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

    @property
    def counted(self) -> tuple[Failure, ...]:
        """The failures that count (not the known harmless ones)."""
        return tuple(f for f in self.failures if not f.harmless)

    def first(self) -> Failure | None:
        """With ``-1`` this one aborts the restore, and nothing is committed (unless an
        error on connecting, in :attr:`session`, stops pg_restore first)."""
        return self.failures[0] if self.failures else None


@dataclass
class Obj:
    """An object's state once its entry has run."""

    exists: bool
    owner: str = ""
    acts: bool = True          # the restoring role has the owner's privileges
    root: int | None = None    # when it does not exist: the failure that causes it


def name(e: TocEntry) -> str:
    """An entry's name as reports show it: schema and tag."""
    return f"{e.namespace} {e.tag}" if e.namespace else e.tag


def label(e: TocEntry) -> str:
    """dump id, type and name."""
    return f"{e.dump_id} {e.desc} {name(e)}"
