"""ACL and DEFAULT ACL entries (aclchk.c): every role a GRANT, REVOKE, ALTER DEFAULT
PRIVILEGES or SET SESSION AUTHORIZATION names must exist; the restoring role needs a
privilege on the object to grant from, the privileges of the role whose default
privileges it changes, and (to restore another grantor's grants) a superuser session.

The roles are read by :func:`pgarchive.restore.statements.acl_statement`, the one reader
of the roles a grant names."""

from __future__ import annotations

from collections.abc import Iterable

from ...format.model import TocEntry
from .. import statements as st
from .kinds import ACL_PASS
from .model import Problem, label
from .state import State
from .version import predefined_since


def acl(s: State, e: TocEntry) -> list[Problem]:
    """The statements of one ACL entry, in order (one query: the first error stops it)."""
    f = s.facts
    target = s.object_of(e) if e.desc == "ACL" else None
    parsed = [st.acl_statement(stmt) for stmt in st.statements(e.defn or "")]
    missing = tuple(dict.fromkeys(r for a in parsed for r in a.roles
                                  if r not in f.roles and not predefined_since(f.major, r)))
    for a in parsed:
        if a.kind == "session":
            who = a.roles[0]
            if who not in f.roles:
                return [Problem("grantee_missing", f'role "{who}" does not exist',
                                roles=missing)]
            if not f.session_superuser and who != f.session_user:
                return [Problem("grant_privilege", f'the grant was made by "{who}", and '
                                "only a superuser may SET SESSION AUTHORIZATION to restore "
                                "it")]
            continue
        gone = [r for r in a.roles if r not in f.roles]
        newer = next((r for r in gone if predefined_since(f.major, r)), None)
        if newer is not None:
            return [Problem("server_version", f'PostgreSQL {f.major} has no predefined role '
                            f'"{newer}" (PostgreSQL {predefined_since(f.major, newer)}+); '
                            f"pgarchive sql --target-version {f.major} leaves the grant out")]
        if gone:
            return [Problem("grantee_missing", f'role "{gone[0]}" does not exist',
                            roles=missing)]
        if a.kind == "default":
            who = a.for_role or f.current_user
            if not (f.superuser or f.role_acts_as(who)):
                return [Problem("grant_privilege", f'cannot change the default privileges '
                                f'of "{who}"')]
            if a.in_schema and a.in_schema not in f.schemas and a.in_schema not in s.schemas:
                return [Problem("schema_missing", f'schema "{a.in_schema}" does not exist')]
        elif a.kind in ("grant", "revoke") and target is not None:
            obj, dep = target
            if not (f.superuser or obj.acts or _has_some_privilege(s, dep)):
                return [Problem("grant_privilege", f"no privilege on {label(dep)} (owned by "
                                f'"{obj.owner}") to grant from')]
    return []


def _has_some_privilege(s: State, dep: TocEntry) -> bool:
    """GRANT by a role with some privilege but no grant option only warns."""
    f = s.facts
    if dep.desc == "SCHEMA" and dep.tag in f.schemas and dep.tag not in s.schemas:
        have = f.schemas[dep.tag]
        return have.usage or have.create
    return dep.desc == "EXTENSION"


def roles_of_interest(entries: Iterable[TocEntry]) -> set[str]:
    """Every role the entries name (owners, grantees, grantors, policy roles): the roles
    whose privileges :func:`pgarchive.restore.targetfacts.gather` asks about."""
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
