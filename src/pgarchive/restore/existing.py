"""Which entries --with-deps took only because something needs them already exist in the
target: those are left out of the restore, so that --clean never drops them (and a restore
into a populated database does not stumble over them).

One catalog query answers for every kind it knows; an entry of another kind cannot be
looked up, and with --clean it is left out too (pg_restore would issue its DROP), with a
warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..selection import ALWAYS_ALONG, Decision

if TYPE_CHECKING:
    import psycopg

#: desc -> the kind the query below looks up
KINDS = {
    "SCHEMA": "schema", "EXTENSION": "extension", "TYPE": "type", "DOMAIN": "type",
    "FUNCTION": "function", "AGGREGATE": "function", "PROCEDURE": "function",
    "COLLATION": "collation", "SEQUENCE": "relation", "TABLE": "relation",
    "VIEW": "relation", "MATERIALIZED VIEW": "relation", "FOREIGN TABLE": "relation",
    "TEXT SEARCH CONFIGURATION": "tsconfig", "TEXT SEARCH DICTIONARY": "tsdict",
    "CONVERSION": "conversion", "PROCEDURAL LANGUAGE": "language",
    "FOREIGN DATA WRAPPER": "fdw", "SERVER": "server", "ACCESS METHOD": "am",
}

_QUERY = """
SELECT v.id FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[]) AS v(id, kind, nsp, name)
WHERE CASE v.kind
  WHEN 'schema' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = v.name)
  WHEN 'extension' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = v.name)
  WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n
    ON n.oid = t.typnamespace WHERE n.nspname = v.nsp AND t.typname = v.name)
  WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace
    n ON n.oid = p.pronamespace WHERE n.nspname = v.nsp
    AND p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' = v.name)
  WHEN 'collation' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_collation c JOIN
    pg_catalog.pg_namespace n ON n.oid = c.collnamespace
    WHERE n.nspname = v.nsp AND c.collname = v.name)
  WHEN 'relation' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace
    n ON n.oid = c.relnamespace WHERE n.nspname = v.nsp AND c.relname = v.name)
  WHEN 'tsconfig' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_ts_config c JOIN
    pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
    WHERE n.nspname = v.nsp AND c.cfgname = v.name)
  WHEN 'tsdict' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_ts_dict d JOIN pg_catalog.pg_namespace
    n ON n.oid = d.dictnamespace WHERE n.nspname = v.nsp AND d.dictname = v.name)
  WHEN 'conversion' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_conversion c JOIN
    pg_catalog.pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = v.nsp AND c.conname = v.name)
  WHEN 'language' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_language WHERE lanname = v.name)
  WHEN 'fdw' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_data_wrapper
    WHERE fdwname = v.name)
  WHEN 'server' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = v.name)
  WHEN 'am' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_am WHERE amname = v.name)
  ELSE false END
"""


def needed_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """The chosen entries --with-deps took only because something needs them."""
    return [d for d in decisions if d.needed and d.reqs]


def existing(conn: psycopg.Connection[Any], needed: Sequence[Decision]) -> set[int]:
    """Dump ids of the needed entries the target already has (read-only: one SELECT, with
    search_path empty so that function signatures are spelled as pg_dump spells them)."""
    known = [d.entry for d in needed if d.entry.desc in KINDS]
    if not known:
        return set()
    conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")
    rows = conn.execute(_QUERY, ([e.dump_id for e in known], [KINDS[e.desc] for e in known],
                                 [e.namespace or "" for e in known], [e.tag for e in known]))
    return {int(r[0]) for r in rows.fetchall()}


def unknown_kinds(needed: Sequence[Decision]) -> list[Decision]:
    """Needed entries whose existence cannot be looked up."""
    return [d for d in needed if d.entry.desc not in KINDS]


def with_companions(decisions: Sequence[Decision], left_out: set[int]) -> set[int]:
    """``left_out`` plus what came along only with those entries (their comments, grants,
    security labels, sequence values), to a fixpoint."""
    out = set(left_out)
    changed = True
    while changed:
        changed = False
        for d in decisions:
            i = d.entry.dump_id
            if (i not in out and d.reqs and d.pulled_by and d.entry.desc in ALWAYS_ALONG
                    and all(p in out for p in d.pulled_by)):
                out.add(i)
                changed = True
    return out
