"""Entry types grouped by what the server asks of whoever restores them (owned objects,
objects in a schema, objects on a table, superuser-only objects), and the order pg_restore
runs entries in (the script renderer's, which follows pg_backup_archiver.c)."""

from __future__ import annotations

from collections.abc import Sequence

from ...format.model import TocEntry
from ...script.renderer import ACL_DESCS, OWNED, restore_pass

#: What pg_restore runs ALTER ... OWNER TO for (pg_backup_archiver.c _getObjectDescription).
OWNABLE = OWNED
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
#: Entry type -> (cause, what only a superuser may do).
SUPERUSER_ONLY = {
    "ACCESS METHOD": ("access_method_superuser", "create an access method"),
    "EVENT TRIGGER": ("event_trigger_superuser", "create an event trigger"),
    "OPERATOR CLASS": ("superuser_required", "create an operator class"),
    "OPERATOR FAMILY": ("superuser_required", "create an operator family"),
    "TEXT SEARCH PARSER": ("superuser_required", "create a text search parser"),
    "TEXT SEARCH TEMPLATE": ("superuser_required", "create a text search template"),
    "FOREIGN DATA WRAPPER": ("superuser_required", "create a foreign-data wrapper"),
    "SHELL TYPE": ("superuser_required", "create a base type"),
    "PUBLICATION TABLES IN SCHEMA": ("publication_schema",
                                     "add a schema's tables to a publication"),
    "SUBSCRIPTION TABLE": ("superuser_required", "restore a subscription's table state"),
    "TRANSFORM": ("superuser_required", "create a transform"),
}
UNTRUSTED_LANGUAGES = frozenset({"c", "internal"})
ACL_PASS = ACL_DESCS
#: Entries pg_restore acts on without sending their text (processed when read).
SETTINGS_ONLY = frozenset({"ENCODING", "STDSTRINGS", "SEARCHPATH"})


def execution_order(entries: Sequence[TocEntry]) -> list[TocEntry]:
    """The order a serial pg_restore runs the entries of its list in: its passes (main,
    ACLs, post-ACL), list order within each."""
    return sorted(entries, key=restore_pass)  # sorted() is stable


def has_schema_part(e: TocEntry) -> bool:
    """pg_restore sends the entry's definition (a partition's data-routing comment is
    no statement)."""
    d = e.defn
    return bool(d) and not (d or "").startswith("-- load via partition root ")
