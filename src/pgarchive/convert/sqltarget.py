"""``convert --target-version MAJOR``: the rules of ``pgarchive sql --target-version``
(:mod:`pgarchive.script.target`) applied to the SQL the entries carry, so that the archive
restores on an older server.

Each rule reads the definition of the entries of its kind, as it reads the statements of
the script.  An adapted definition starts with the same ``-- pgarchive --target-version N:
...`` comment the script gets; an entry a rule leaves out keeps its place, dump id and
dependencies, its definition commented out and its drop statement emptied, so pg_restore
prints it as comments and creates (and alters, and drops) nothing.  A partitioned table's
access method, which pg_restore 17+ sets from the entry's ``tableam`` field (archive
version 1.16), is cleared below 17.
Pure: entries in, entries out.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..format.model import TocEntry
from ..script.options import TARGETS
from ..script.target import ANY, Rule, _commented, _leave_out, rules
from .model import OutEntry

#: The first major that takes a partitioned table's access method.
PARTITIONED_AM_SINCE = 17
#: The first pg_restore that sends ``SET transaction_timeout`` (PostgreSQL 17+) itself.
TRANSACTION_TIMEOUT_SINCE = 17


def check(target: int) -> None:
    """Refuse a major the rules are not tested for."""
    if target not in TARGETS:
        raise UsageError(f"--target-version {target} is not supported: use one of "
                         f"{', '.join(str(t) for t in TARGETS)}")


def mark(target: int, note: str) -> str:
    """The comment saying what a rule did, as the script has it."""
    return f"-- pgarchive --target-version {target}: {note}\n"


def adapt(items: Sequence[OutEntry], target: int, notes: list[str]) -> list[OutEntry]:
    """The entries with their SQL adapted to PostgreSQL ``target``; ``notes`` says what
    was adapted, rule by rule, with how many entries."""
    check(target)
    by_desc: dict[str, list[Rule]] = {}
    for r in rules(target):
        for d in r.descs:
            by_desc.setdefault(d, []).append(r)
    used: dict[str, int] = {}
    gone_triggers: set[str] = set()
    out = []
    for item in items:
        e = item.entry
        new = _adapt_entry(e, target, by_desc.get(e.desc, []), gone_triggers, used)
        out.append(item if new is e else OutEntry(new, item.sources))
    for note, n in used.items():
        notes.append(f"--target-version {target}: {note} ({n} "
                     f"{'entry' if n == 1 else 'entries'})")
    if target < TRANSACTION_TIMEOUT_SINCE:
        notes.append(f"--target-version {target}: pg_restore 17 and later send SET "
                     f"transaction_timeout, which PostgreSQL {target} rejects: restore with "
                     f"the pg_restore of PostgreSQL {target} (--archive-version to let it "
                     "read the archive)")
    return out


def _adapt_entry(e: TocEntry, target: int, todo: list[Rule], gone_triggers: set[str],
                 used: dict[str, int]) -> TocEntry:
    if e.desc in ("COMMENT", "SECURITY LABEL") and e.tag.startswith("EVENT TRIGGER ") and \
            e.tag[14:] in gone_triggers:
        todo = [Rule(0, "", ANY, _leave_out(r"."),
                     "left out: it names an event trigger left out above", whole_entry=True)]
    if target < PARTITIONED_AM_SINCE and e.relkind == ord("p") and e.tableam:
        note = "left out the access method of a partitioned table (PostgreSQL 17+)"
        used[note] = used.get(note, 0) + 1
        e = e._replace(tableam=None)
    if not todo or e.defn is None:
        return e
    whole = next((r for r in todo if r.whole_entry and r.apply(e.defn) is not None), None)
    if whole is not None:
        if whole.name == "login event triggers":
            gone_triggers.add(e.tag)
        used[whole.note] = used.get(whole.note, 0) + 1
        # no drop statement: nothing to drop, and pg_restore takes an entry without one
        # for no ownable object (no ALTER ... OWNER TO for what was never created)
        return e._replace(defn=mark(target, whole.note) + _commented(e.defn),
                          drop_stmt="" if e.drop_stmt is not None else None)
    text, marks = e.defn, []
    for r in todo:
        new = r.apply(text)
        if new is not None and new != text:
            text = new
            marks.append(mark(target, r.note))
            used[r.note] = used.get(r.note, 0) + 1
    return e._replace(defn="".join(marks) + text) if marks else e
