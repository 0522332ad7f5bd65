"""Statements the target's major does not know: the rules of ``pgarchive sql
--target-version`` (:mod:`pgarchive.script.target`), read the other way round.  Where a
rule would adapt or leave out a statement of an entry for that major, the server rejects
the statement as pg_dump wrote it, and with it the entry's whole definition (one query).

Rules that are not about an entry's definition are predicted elsewhere: ``SET
transaction_timeout`` is the known harmless error of a newer pg_restore (a session error,
:mod:`pgarchive.restore.compat`), a grant to a predefined role the target lacks is a
missing grantee (:mod:`.grants`), and a partitioned table's access method is a statement
of its own (:mod:`.placement`)."""

from __future__ import annotations

from functools import lru_cache

from ...format.model import TocEntry
from ...script import target as rules_of
from ...script.options import TARGETS
from .model import Problem

#: Rules of pgarchive sql --target-version predicted elsewhere (see the module doc).
ELSEWHERE = frozenset({"transaction_timeout", "predefined roles",
                       "partitioned table access method"})
#: The oldest major the rules are written for (older targets: at least these apply).
OLDEST = min(TARGETS)


@lru_cache(maxsize=8)
def _rules(major: int) -> dict[str, list[rules_of.Rule]]:
    by_desc: dict[str, list[rules_of.Rule]] = {}
    for r in rules_of.rules(max(major, OLDEST)):
        if r.name in ELSEWHERE:
            continue
        for d in r.descs:
            by_desc.setdefault(d, []).append(r)
    return by_desc


def unknown_statement(major: int, e: TocEntry) -> list[Problem]:
    """The entry's definition uses what PostgreSQL ``major`` does not know."""
    if major >= 18 or not e.defn:
        return []
    for r in _rules(major).get(e.desc, ()):
        if r.apply(e.defn) is not None:
            what = (f"{r.name} (PostgreSQL {r.since}+)" if r.since <= 18 else
                    f"some of its {r.name}")
            return [Problem("server_version", f"PostgreSQL {major} does not know {what}; "
                            f"pgarchive sql --target-version {major} adapts it")]
    return []


def predefined_since(major: int, role: str) -> int | None:
    """The major that introduced ``role`` when it is a predefined role PostgreSQL
    ``major`` lacks (a grant to it fails there, and no one can create it)."""
    since = rules_of.PREDEFINED_ROLES.get(role)
    return since if since is not None and major < since else None
