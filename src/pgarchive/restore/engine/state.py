"""--resume's record of what is done, kept in the target itself.

Each step of the restore (an entry's drop, definition, data or statistics) that the
engine finishes is recorded in ``pgarchive_resume.state``, in the same transaction as the
step's own work, so that the record and the work cannot disagree: after a crash, a lost
connection or Ctrl-C, a step is either done and recorded or undone and not recorded.  A
second table names the restore the records belong to (the archive and the selection), so
that a different command does not take them for its own.  Both are dropped when the
restore has finished, unless --keep-state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...format.model import Header
from ...script.options import ScriptOptions
from ...selection import Decision

if TYPE_CHECKING:
    import psycopg

SCHEMA = "pgarchive_resume"
STATE = f"{SCHEMA}.state"
META = f"{SCHEMA}.restore"
#: the phases of Step that are recorded (the others are redone: they change nothing)
RECORDED = frozenset({"drop", "schema", "data", "statistics"})


def fingerprint(header: Header, decisions: Sequence[Decision], opts: ScriptOptions,
                extra: dict[str, Any]) -> str:
    """What identifies a restore: the archive (its header), every entry and what is
    restored of it, and the options that change the statements."""
    h = hashlib.sha256()
    h.update(repr((header.dbname, header.created_tm, header.dump_version, header.toc_count,
                   header.vmaj, header.vmin, header.vrev)).encode())
    for d in decisions:
        h.update(f"{d.entry.dump_id}:{int(d.reqs)};".encode())
    fields = {k: v for k, v in vars(opts).items() if k != "restrict_key"}
    h.update(json.dumps({**fields, **extra}, sort_keys=True, default=str).encode())
    return h.hexdigest()


@dataclass
class Found:
    """The state found in a target: whose it is, what is done, and what --with-deps left
    out when it started."""

    fingerprint: str
    done: set[tuple[int, str]] = field(default_factory=set)
    left_out: list[int] = field(default_factory=list)
    started: str = ""


def find(conn: psycopg.Connection[Any]) -> Found | None:
    """The state in the database of ``conn``, if there is one."""
    row = conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL AND "
                       "pg_catalog.to_regclass(%s) IS NOT NULL", (STATE, META)).fetchone()
    if not row or not row[0]:
        return None
    meta = conn.execute(f"SELECT fingerprint, left_out, started::text FROM {META} "
                        "LIMIT 1").fetchone()
    if meta is None:
        return None
    done = {(int(i), str(p)) for i, p in conn.execute(f"SELECT dump_id, phase FROM {STATE}")}
    return Found(str(meta[0]), done, [int(x) for x in meta[1] or []], str(meta[2]))


def create_statements(fp: str, left_out: Sequence[int]) -> list[str]:
    """The statements that make the state tables (IF NOT EXISTS: a resume finds them)."""
    ids = ",".join(str(int(i)) for i in left_out)
    return [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        f"CREATE TABLE IF NOT EXISTS {META} (fingerprint text NOT NULL, "
        "left_out integer[] NOT NULL, started timestamptz NOT NULL DEFAULT now())",
        f"CREATE TABLE IF NOT EXISTS {STATE} (dump_id integer NOT NULL, phase text NOT NULL, "
        "done timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (dump_id, phase))",
        # steps may run as their owners (SET SESSION AUTHORIZATION, --role): each records
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO PUBLIC",
        f"GRANT SELECT, INSERT ON {STATE} TO PUBLIC",
        f"INSERT INTO {META} (fingerprint, left_out) SELECT '{fp}', "
        f"'{{{ids}}}'::integer[] WHERE NOT EXISTS (SELECT 1 FROM {META})",
    ]


def record_statement(dump_id: int, phase: str) -> str:
    """The INSERT that records a finished step of an entry (in the entry's own transaction)."""
    return f"INSERT INTO {STATE} (dump_id, phase) VALUES ({int(dump_id)}, '{phase}')"


def is_recorded_statement(dump_id: int, phase: str) -> str:
    """The SELECT that asks whether a step of an entry was recorded as finished."""
    return (f"SELECT 1 FROM {STATE} WHERE dump_id = {int(dump_id)} AND phase = '{phase}'")


DROP_STATEMENT = f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
