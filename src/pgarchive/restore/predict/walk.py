"""The walk: the entries in the order pg_restore runs them, and for each the statements it
sends (``SET default_tablespace`` / ``default_table_access_method`` when they change, the
definition as one query, ``ALTER ... OWNER TO`` unless -O, the data), each checked by the
rules of the module named after what it checks.  An entry whose object is not created
fails every entry that depends on it (the archive's dependencies); one whose object is
created although one of its statements fails (its owner, tablespace or access method)
does not."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...format.model import TocEntry, database_name
from ..compat import expected
from ..targetfacts import TargetFacts
from . import code, grants, placement, privileges
from .extensions import extension
from .kinds import (
    IN_SCHEMA,
    ON_TABLE,
    SETTINGS_ONLY,
    SUPERUSER_ONLY,
    execution_order,
    has_schema_part,
)
from .model import Prediction, PredictOptions, Problem, label
from .owners import alter_owner
from .state import State
from .version import unknown_statement

Rule = Callable[[State, TocEntry], list[Problem]]


def _database(s: State, e: TocEntry) -> list[Problem]:
    return privileges.database(s, e) or placement.database_tablespace(s, e)


def _sequence(s: State, e: TocEntry) -> list[Problem]:
    if (e.defn or "").startswith("ALTER TABLE"):  # an identity column's sequence
        return privileges.identity_sequence(s, e)
    return []


#: Entry type -> the rule for its definition (beyond the schema it goes into).
RULES: dict[str, Rule] = {
    **{d: privileges.on_table for d in ON_TABLE},
    "FUNCTION": code.function, "PROCEDURE": code.function, "TYPE": code.base_type,
    "PROCEDURAL LANGUAGE": code.procedural_language, "CAST": code.cast,
    "DATABASE PROPERTIES": code.database_properties,
    "COMMENT": privileges.comment, "SECURITY LABEL": privileges.comment,
    "ACL": grants.acl, "ACL LANGUAGE": grants.acl, "DEFAULT ACL": grants.acl,
    "PUBLICATION": privileges.publication, "PUBLICATION TABLE": privileges.publication_table,
    "SUBSCRIPTION": privileges.subscription, "SERVER": privileges.server,
    "USER MAPPING": privileges.user_mapping, "SEQUENCE SET": privileges.sequence_set,
    "SEQUENCE OWNED BY": privileges.owned_by, "SEQUENCE": _sequence,
    "POLICY": privileges.policy, "TABLE": privileges.inherits, "DATABASE": _database,
}
#: Relations whose creation needs CREATE on the session's default tablespace.
_IN_TABLESPACE = frozenset({"TABLE", "MATERIALIZED VIEW", "INDEX", "CONSTRAINT"})


def predict(entries: Sequence[TocEntry], facts: TargetFacts, options: PredictOptions,
            archive_entries: Sequence[TocEntry] | None = None) -> Prediction:
    """Predict pg_restore's failing entries for restoring ``entries`` (the list given to
    pg_restore, in its order) into the target ``facts`` describes.  ``archive_entries``
    (all of the archive's) resolve dependencies on entries left out of the list: those
    are assumed to exist on the target already."""
    if options.create:
        db = database_name(entries, facts.database)
        facts = facts.for_new_database(db)
    elif options.clean:
        # pg_restore drops what it creates first (--if-exists or not)
        facts = facts.without_schemas({e.tag for e in entries if e.desc == "SCHEMA" and
                                       e.drop_stmt and not (e.defn or "").startswith("--")})
    everything = list(archive_entries) if archive_entries is not None else list(entries)
    s = State(facts, options, {e.dump_id: e for e in everything},
              {e.dump_id for e in entries})
    for k in expected(options.pg_restore_major, facts.major):
        # _doSetFixedOutputState: sent on every connection; the server rejects it
        s.session.append(("session_setting", f"pg_restore {options.pg_restore_major} sends "
                          f"{k.command}, which PostgreSQL {facts.major} rejects ({k.error}) "
                          "on each connection; harmless, and not counted"))
    order = [e for e in execution_order(entries) if e.desc not in SETTINGS_ONLY]
    for e in order:
        if e.desc == "SERVER":
            s.servers[e.tag] = e.dump_id
    for e in order:
        _entry(s, e)
    return Prediction(tuple(s.failures), tuple(s.notes + _notes(s)), len(order),
                      tuple(s.session))


def _entry(s: State, e: TocEntry) -> None:
    """What pg_restore does for one entry, and what fails."""
    problems: list[Problem] = []
    if has_schema_part(e):
        # sent (and remembered) whether or not the definition then succeeds
        problems += placement.set_tablespace(s, e)
        if e.relkind_char != "p":
            problems += placement.set_table_am(s, e)
    blocker = _failed_dependency(s, e)
    if blocker is not None:
        root, parent = blocker
        s.fail(e, [Problem("dependency", f"needs {label(s.by_id[parent])}, which fails")],
               because_of=root)
        return
    if has_schema_part(e):
        problems += _schema_part(s, e)
    if e.had_dumper:
        problems += privileges.data(s, e)
    if e.desc in ("DATABASE", "DATABASE PROPERTIES") and s.session:
        # pg_restore reconnects after these, and sets its parameters again
        problems += [Problem(c, m, True) for c, m in s.session]
    if problems:
        s.fail(e, problems)
    elif e.dump_id not in s.objects:
        s.objects[e.dump_id] = s.made(e)
    if e.desc in ("DATABASE", "DATABASE PROPERTIES"):
        s.tablespace = s.table_am = None
        s.tablespace_set = ""


def _failed_dependency(s: State, e: TocEntry) -> tuple[int, int] | None:
    """(the root failure, the dependency) when something ``e`` needs was not created."""
    for d in e.dependencies:
        o = s.objects.get(d)
        if o is None or o.exists:
            continue
        dep = s.by_id[d]
        if e.desc in ("TABLE", "MATERIALIZED VIEW") and dep.desc == "ACCESS METHOD":
            continue  # its SET default_table_access_method is what fails
        return (o.root if o.root is not None else d), d
    return None


def _schema_part(s: State, e: TocEntry) -> list[Problem]:
    """The definition, then (if the object is created) ALTER OWNER and a partitioned
    table's access method."""
    out = _definition(s, e)
    if all(p.created for p in out):
        out += alter_owner(s, e)
        if e.relkind_char == "p":
            out += placement.partitioned_am(s, e)
    return out


def _definition(s: State, e: TocEntry) -> list[Problem]:
    """The entry's definition, one query: its first failing statement fails all of it."""
    desc = e.desc
    if desc in SUPERUSER_ONLY:
        out = privileges.superuser_only(s, e)
        if out:
            return out
    out = unknown_statement(s.facts.major, e)
    if out:
        return out
    if desc == "SCHEMA":
        return placement.schema(s, e)
    if desc == "EXTENSION":
        return extension(s, e)
    if desc == "ACCESS METHOD":
        s.access_methods.add(e.tag)
        return []
    if desc in IN_SCHEMA:
        out = placement.create_in_schema(s, e)
        if out:
            return out
    if desc in _IN_TABLESPACE:
        out += placement.tablespace_privilege(s, e)
    rule = RULES.get(desc)
    if rule is not None:
        out += rule(s, e)
    return out


def _notes(s: State) -> list[str]:
    """What the prediction cannot say entry by entry."""
    o = s.opts
    notes = []
    if o.single_transaction and s.session:
        notes.append("with -1 (--single-transaction) the error pg_restore makes on "
                     "connecting stops it before it restores anything")
    elif o.single_transaction and s.failures:
        first = s.failures[0]
        notes.append(f"with -1 (--single-transaction) the first failure, entry "
                     f"{first.dump_id} {first.desc} {first.name}, stops pg_restore and "
                     "rolls back everything: nothing is restored")
    if o.clean and not o.if_exists:
        notes.append("the DROP statements of --clean are not predicted: each object the "
                      "target lacks makes its entry fail there (add --if-exists)")
    if o.jobs > 1 and any(c in ("tablespace_missing", "table_am_missing")
                          for f in s.failures for c in f.causes):
        notes.append("with --jobs, each worker sets default_tablespace and "
                     "default_table_access_method on its own connection: fewer entries "
                     "than listed may report these errors")
    return notes

