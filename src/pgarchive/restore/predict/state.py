"""The walk's memory: what the target has (its facts), what the entries before created and
who owns it, what pg_restore last asked the session for (``default_tablespace``,
``default_table_access_method``), and the failures so far.  The lookups the rules share
(the object a comment or grant is about, whether a role may create in a schema) live
here; the rules themselves are in the modules named after what they check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ...format.model import TocEntry
from .. import statements as st
from ..targetfacts import TargetFacts
from .kinds import ON_TABLE, RELATIONS
from .model import Failure, Obj, PredictOptions, Problem, label, name


@dataclass
class State:
    """The target as the walk has made it so far."""

    facts: TargetFacts
    opts: PredictOptions
    by_id: dict[int, TocEntry]
    selected: set[int]
    objects: dict[int, Obj] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schemas: dict[str, Obj] = field(default_factory=dict)       # created by the restore
    extensions: dict[str, Obj] = field(default_factory=dict)    # created or present
    languages: dict[str, bool] = field(default_factory=dict)     # created: trusted?
    access_methods: set[str] = field(default_factory=set)
    servers: dict[str, int] = field(default_factory=dict)       # SERVER entries by name
    session: list[tuple[str, str]] = field(default_factory=list)  # errors on connecting
    tablespace: str | None = None     # pg_restore's idea of default_tablespace
    tablespace_set: str = ""          # what the server actually has
    table_am: str | None = None

    def made(self, e: TocEntry) -> Obj:
        """An object the restoring role created (its ALTER OWNER, if any, already ran)."""
        if e.dump_id in self.objects:
            return self.objects[e.dump_id]
        return Obj(True, self.facts.current_user, True)

    def fail(self, e: TocEntry, problems: list[Problem], because_of: int | None = None
             ) -> None:
        """Record a failing entry; its object exists afterwards only when every problem
        leaves it created."""
        if because_of is None:
            because_of = problems[0].because
        failure = Failure(e.dump_id, e.desc, name(e), tuple(problems), because_of)
        self.failures.append(failure)
        if failure.created:
            self.objects.setdefault(e.dump_id, self.made(e))
        else:
            self.objects[e.dump_id] = Obj(False, root=because_of or e.dump_id)

    # --- what an entry is about ------------------------------------------------------

    def object_of(self, e: TocEntry) -> tuple[Obj, TocEntry] | None:
        """The object a COMMENT, SECURITY LABEL or ACL entry is about, as restored."""
        for d in e.dependencies:
            dep = self.by_id.get(d)
            if dep is None:
                continue
            if dep.desc == "EXTENSION":
                parsed = st.extension_create(dep.defn or "")
                ext = parsed[0] if parsed else dep.tag
                o = self.extensions.get(ext)
                if o is None:
                    have = self.facts.installed_extensions.get(ext)
                    if have is None:
                        return None
                    o = Obj(True, have.owner, have.acts_as_owner)
                return o, dep
            if dep.desc == "SCHEMA" and dep.dump_id in self.objects:
                return self._schema_obj(dep), dep
            o = self._owner_obj(dep)
            if o is not None:
                return o, dep
        return None

    def _schema_obj(self, dep: TocEntry) -> Obj:
        o = self.objects[dep.dump_id]
        have = self.facts.schemas.get(dep.tag)
        if dep.tag not in self.schemas and have is not None:
            return Obj(True, have.owner, have.acts_as_owner)
        return o

    def _owner_obj(self, dep: TocEntry) -> Obj | None:
        """The state of the object that owns ``dep`` (a table for its index...)."""
        o = self.objects.get(dep.dump_id)
        if dep.desc in ON_TABLE or dep.desc in ("CONSTRAINT", "INDEX"):
            for d in dep.dependencies:
                p = self.by_id.get(d)
                if p is not None and p.desc in RELATIONS:
                    return self.objects.get(d)
        return o

    def needs_owner_of(self, e: TocEntry, kinds: Iterable[str]) -> list[Problem]:
        """The restoring role needs the privileges of the owner of what ``e`` acts on."""
        if self.facts.superuser:
            return []
        wanted = set(kinds)
        for d in e.dependencies:
            dep = self.by_id.get(d)
            o = self.objects.get(d)
            if dep is None or o is None or dep.desc not in wanted:
                continue
            if not o.acts:
                return [Problem("not_owner", f'{label(dep)} belongs to "{o.owner}", whose '
                                "privileges the restoring role lacks")]
        return []

    # --- schemas ----------------------------------------------------------------------

    def may_create_in(self, role: str, ns: str) -> bool:
        """``role`` has CREATE on schema ``ns`` (as restored, or as on the target)."""
        f = self.facts
        created = self.schemas.get(ns)
        if created is not None:
            return f.has_privileges_of(role, created.owner)
        if role in f.superusers:
            return True
        return role in f.schema_create_roles.get(ns, frozenset())

    def record_schema(self, e: TocEntry, owner: str) -> None:
        """A SCHEMA entry has run: the schema the target had, or a new one of ``owner``."""
        if e.tag in self.facts.schemas and not self.created_schema(e):
            have = self.facts.schemas[e.tag]
            self.objects[e.dump_id] = Obj(True, have.owner, have.acts_as_owner)
            return
        o = Obj(True, owner, self.facts.role_acts_as(owner))
        self.schemas[e.tag] = o
        self.objects[e.dump_id] = o

    def created_schema(self, e: TocEntry) -> bool:
        """The SCHEMA entry creates its schema (it is no comment, and the target lacks
        it)."""
        return not (e.defn or "").startswith("--") and e.tag not in self.facts.schemas

