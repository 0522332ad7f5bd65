"""``ALTER ... OWNER TO`` (unless -O): the new owner must exist, the restoring role must be
able to become it (SET ROLE, or membership before 16) and act as the current owner, and
the new owner must have what an owner of that kind of object needs (aclchk.c, alter.c,
tablecmds.c).  A failing ALTER OWNER leaves the object created, owned by the restoring
role."""

from __future__ import annotations

from ...format.model import TocEntry
from .. import statements as st
from .kinds import IN_SCHEMA, OWNABLE
from .model import Obj, Problem, label
from .state import State


def alter_owner(s: State, e: TocEntry) -> list[Problem]:
    """The entry's ALTER ... OWNER TO, if pg_restore sends one."""
    f = s.facts
    if s.opts.no_owner or not e.owner or not e.drop_stmt or e.desc not in OWNABLE:
        if e.desc == "SCHEMA" and e.dump_id not in s.objects:
            s.record_schema(e, f.current_user)
        return []
    new = e.owner
    current = _current_owner(s, e)
    problem = _may_give(s, e, current, new)
    if e.desc == "SCHEMA":
        s.record_schema(e, new if problem is None else current.owner)
    if problem is None:
        s.objects[e.dump_id] = Obj(True, new, f.role_acts_as(new))
        return []
    s.objects[e.dump_id] = Obj(True, current.owner, current.acts)
    return [problem]


def _current_owner(s: State, e: TocEntry) -> Obj:
    """Who owns the object when ALTER OWNER runs: the restoring role for what it just
    created; the existing owner for a schema that was already there."""
    f = s.facts
    if e.desc == "SCHEMA" and e.tag in f.schemas:
        have = f.schemas[e.tag]
        return Obj(True, have.owner, have.acts_as_owner)
    return Obj(True, f.current_user, True)


def _may_give(s: State, e: TocEntry, current: Obj, new: str) -> Problem | None:
    """May the restoring role give the object to ``new``?  None when it may."""
    f = s.facts
    if new not in f.roles:
        return Problem("owner_missing", f'role "{new}" does not exist', True, roles=(new,))
    if current.owner == new or f.superuser:
        return None
    if not current.acts:
        return Problem("owner_not_member", f'must be owner of {label(e)} (owned by '
                       f'"{current.owner}")', True, roles=(current.owner,))
    if not f.role_can_set(new):
        return Problem("owner_not_member", f'the restoring role cannot SET ROLE to "{new}"',
                       True, roles=(new,))
    why = _owner_lacks(s, e, new)
    return None if why is None else Problem("owner_privilege", why, True)


def _owner_lacks(s: State, e: TocEntry, new: str) -> str | None:
    """What ``new`` lacks to own this object, if anything."""
    f = s.facts
    desc = e.desc
    if desc == "SCHEMA" and not f.create_on_database:
        return f'no CREATE privilege on database "{f.database}"'
    if desc == "EVENT TRIGGER" and new not in f.superusers:
        return f'the owner of an event trigger must be a superuser ("{new}" is not)'
    if desc == "PUBLICATION":
        if new not in f.create_on_database_roles:
            return f'"{new}" has no CREATE privilege on database "{f.database}"'
        if "FOR ALL TABLES" in (e.defn or "") and new not in f.superusers:
            return ("the owner of a FOR ALL TABLES publication must be a superuser "
                    f'("{new}" is not)')
    if desc == "SUBSCRIPTION" and f.major < 16 and new not in f.superusers:
        return f'the owner of a subscription must be a superuser ("{new}" is not)'
    if desc == "SERVER":
        fdw = st.server_wrapper(e.defn or "")
        if fdw and new not in f.superusers and \
                new not in f.fdw_usage_roles.get(fdw, frozenset()):
            return f'"{new}" has no USAGE privilege on foreign-data wrapper "{fdw}"'
    if desc == "DATABASE" and not f.createdb:
        return "changing a database's owner needs CREATEDB"
    if desc in IN_SCHEMA and e.namespace and not s.may_create_in(new, e.namespace):
        return f'"{new}" has no CREATE privilege on schema "{e.namespace}"'
    return None
