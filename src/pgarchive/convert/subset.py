"""A subset of an archive: the entries a selection chooses, and their dependencies rewritten
as pg_dump writes them for objects it did not dump.

The entries kept are exactly those ``pg_restore -L`` restores for the same selection (the
ones ``pgarchive ls -F list`` prints), in that order, plus the ENCODING, STDSTRINGS and
SEARCHPATH entries pg_restore always applies.  So restoring the subset does what restoring
the original with that list does.

pg_dump's BuildArchiveDependencies records, for an object that depends on one it does not
dump, the dependencies of that object instead, recursively (findDumpableDependencies):
restoring in parallel still orders what is left correctly.  Dependencies on ids that are
not entries of the archive (pg_dump's section boundaries) stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..format.model import TocEntry
from ..selection import Req, Selection, select

KEPT = Req.SCHEMA | Req.DATA | Req.STATS | Req.SPECIAL


def chosen_entries(entries: Sequence[TocEntry], sel: Selection) -> list[TocEntry]:
    """The entries ``sel`` chooses, in the order pg_restore would take them (a -L list's
    order), and the special entries pg_restore always applies."""
    return [d.entry for d in select(entries, sel) if d.reqs & KEPT]


def rewrite_dependencies(kept: Sequence[TocEntry],
                         everything: Sequence[TocEntry]) -> list[TocEntry]:
    """``kept`` with each dependency on an entry left out replaced by that entry's own
    dependencies, recursively, as pg_dump does for objects it does not dump.  Entries whose
    dependencies are all kept are returned unchanged (duplicates and all)."""
    by_id = {e.dump_id: e for e in everything}
    kept_ids = {e.dump_id for e in kept}
    memo: dict[int, tuple[int, ...]] = {}

    def expand(dep: int, stack: set[int]) -> tuple[int, ...]:
        if dep in kept_ids or dep not in by_id:
            return (dep,)
        if dep in memo:
            return memo[dep]
        if dep in stack:  # a cycle: pg_dump's sort has broken them; be safe anyway
            return ()
        stack.add(dep)
        found: list[int] = []
        for d in by_id[dep].dependencies:
            found.extend(expand(d, stack))
        stack.discard(dep)
        memo[dep] = tuple(dict.fromkeys(found))
        return memo[dep]

    out = []
    for e in kept:
        if all(d in kept_ids or d not in by_id for d in e.dependencies):
            out.append(e)
            continue
        deps: list[int] = []
        for d in e.dependencies:
            deps.extend(expand(d, set()))
        out.append(e._replace(dependencies=tuple(dict.fromkeys(deps))))
    return out


def subset(entries: Sequence[TocEntry], sel: Selection) -> list[TocEntry]:
    """The chosen entries with their dependencies rewritten."""
    return rewrite_dependencies(chosen_entries(entries, sel), entries)
