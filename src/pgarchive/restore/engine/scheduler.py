"""pg_restore's parallel restore plan, pure: which entry may run now, on which no other.

This follows PostgreSQL's ``pg_backup_archiver.c``: the leader restores the pre-data
entries of the main pass first, alone and in TOC order (``restore_toc_entries_prefork``);
then every other entry is dispatched to the workers once all it depends on is done, pass
by pass (main, ACLs, post-ACL), biggest first, never beside a running entry it conflicts
with (``restore_toc_entries_parallel``); what is left, if anything (a dependency cycle),
the leader restores at the end (``restore_toc_entries_postfork``).  Dependencies are
fixed as ``fix_dependencies`` fixes them: a post-data entry that depends on a table
depends on its data instead (no index is built while the table loads), and takes that
data's size as its priority; a post-data entry other than an index is taken to lock each
table it depends on exclusively (``identify_locking_dependencies``), so it never runs
beside another entry that uses one of them (``has_lock_conflicts``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ...format.constants import K_VERS_1_11, Section
from ...format.model import TocEntry
from ...script.renderer import PASS_ACL, PASS_MAIN, PASS_POST_ACL, restore_pass
from ...selection import Decision, Req

_WANTED = int(Req.SCHEMA | Req.DATA | Req.STATS)


@dataclass(eq=False, slots=True)
class Job:
    """One TOC entry in the plan."""

    decision: Decision
    deps: list[int]
    data_length: int
    restore_pass: int
    dep_count: int = 0
    rev: list[Job] = field(default_factory=list)
    lock_deps: frozenset[int] = frozenset()
    dep_set: frozenset[int] = frozenset()
    pending: bool = False

    @property
    def entry(self) -> TocEntry:
        """The TOC entry this job restores."""
        return self.decision.entry

    @property
    def dump_id(self) -> int:
        """The dump id of the job's entry."""
        return self.decision.entry.dump_id

    @property
    def wanted(self) -> bool:
        """Something of it is restored (an unwanted entry only passes its dependencies on)."""
        return bool(int(self.decision.reqs) & _WANTED)

    def conflicts(self, other: Job) -> bool:
        """has_lock_conflicts() both ways: one needs an exclusive lock on what the other
        uses."""
        return bool(self.lock_deps & other.dep_set or other.lock_deps & self.dep_set)


class Plan:
    """The jobs of a parallel restore and their state (one thread uses it: the leader)."""

    def __init__(self, decisions: Sequence[Decision], data_length: Callable[[TocEntry], int],
                 version: int) -> None:
        self.jobs = [Job(d, list(d.entry.dependencies), data_length(d.entry),
                         restore_pass(d.entry)) for d in decisions]
        self.by_id: dict[int, Job] = {}
        for j in self.jobs:
            self.by_id.setdefault(j.dump_id, j)
        #: TABLE dump id -> its TABLE DATA job (tableDataId)
        self.table_data: dict[int, Job] = {}
        for j in self.jobs:
            if j.entry.desc == "TABLE DATA" and j.deps:
                self.table_data[j.deps[0]] = j
        self._fix_dependencies(version)
        self.current_pass = PASS_MAIN
        self._ready: list[tuple[int, int, Job]] = []  # (-size, dump id, job), sorted
        self._pending: list[Job] = []

    # -- fix_dependencies --------------------------------------------------------------

    def _fix_dependencies(self, version: int) -> None:
        for j in self.jobs:  # repoint_table_dependencies
            if j.entry.section != Section.POST_DATA:
                continue
            for i, dep in enumerate(j.deps):
                data = self.table_data.get(dep)
                if data is not None:
                    j.deps[i] = data.dump_id
                    j.data_length = max(j.data_length, data.data_length)
        if version < K_VERS_1_11:  # pre-8.4 pg_dump: BLOB COMMENTS lacks its dependency
            blobs = next((j for j in self.jobs if j.entry.desc == "BLOBS"), None)
            comments = next((j for j in self.jobs if j.entry.desc == "BLOB COMMENTS"), None)
            if blobs is not None and comments is not None and not comments.deps:
                comments.deps.append(blobs.dump_id)
        for j in self.jobs:
            j.dep_set = frozenset(j.deps)
            j.dep_count = 0
            for dep in j.deps:
                other = self.by_id.get(dep)
                if other is not None:  # a dependency not in the archive is no dependency
                    other.rev.append(j)
                    j.dep_count += 1
            j.lock_deps = self._lock_deps(j)

    def _lock_deps(self, j: Job) -> frozenset[int]:
        """identify_locking_dependencies(): the tables a post-data entry other than an
        index locks exclusively (ALTER TABLE and its kind)."""
        if j.entry.section != Section.POST_DATA or j.entry.desc == "INDEX":
            return frozenset()
        return frozenset(d for d in j.deps if d in self.by_id and
                         self.by_id[d].entry.desc in ("TABLE DATA", "TABLE"))

    # -- the three phases --------------------------------------------------------------

    def prefork(self) -> list[Job]:
        """The jobs the leader restores first, alone, in this order: pre-data entries of
        the main pass, and section-less ones (comments) until the first entry that waits.
        Everything else is pending.  Their dependents count them as done."""
        now: list[Job] = []
        skipped_some = False
        for j in self.jobs:
            do_now = True
            section = j.entry.section
            if section != Section.PRE_DATA:
                if section in (Section.DATA, Section.POST_DATA):
                    do_now = False
                    skipped_some = True
                elif skipped_some:
                    do_now = False
            if j.restore_pass != PASS_MAIN:
                do_now = False
            if do_now:
                now.append(j)
                self._reduce(j, into_ready=False)
            else:
                j.pending = True
                self._pending.append(j)
        return now

    def start(self) -> None:
        """restore_toc_entries_parallel's set-up: the main pass's ready jobs."""
        self.current_pass = PASS_MAIN
        self._move_to_ready()

    def pop(self, running: Iterable[Job]) -> Job | None:
        """pop_next_work_item(): the biggest ready job that conflicts with no running one
        (taken out of the ready set), or None."""
        busy = list(running)
        for i, (_, _, j) in enumerate(self._ready):
            if any(j.conflicts(r) for r in busy):
                continue
            del self._ready[i]
            return j
        return None

    def finished(self, j: Job) -> None:
        """A job is done (or skipped): its dependents may become ready."""
        self._reduce(j, into_ready=True)

    def advance(self) -> bool:
        """Nothing is ready and nothing runs: the next pass, or False after the last."""
        if self.current_pass >= PASS_POST_ACL:
            return False
        self.current_pass += 1
        self._move_to_ready()
        return True

    def leftovers(self) -> list[Job]:
        """restore_toc_entries_postfork(): what no pass could run (a dependency cycle), for
        the leader to restore anyway, in TOC order."""
        return [j for j in self._pending if j.pending]

    @property
    def has_ready(self) -> bool:
        """Whether a job can start now."""
        return bool(self._ready)

    def data_job_of(self, table: Job) -> Job | None:
        """The TABLE DATA job of a TABLE job (mark_create_done, inhibit_data_for_failed)."""
        return self.table_data.get(table.dump_id)

    # -- helpers -----------------------------------------------------------------------

    def _add_ready(self, j: Job) -> None:
        j.pending = False
        bisect.insort(self._ready, (-j.data_length, j.dump_id, j), key=lambda t: t[:2])

    def _move_to_ready(self) -> None:
        for j in self._pending:
            if j.pending and j.dep_count == 0 and j.restore_pass == self.current_pass:
                self._add_ready(j)

    def _reduce(self, j: Job, into_ready: bool) -> None:
        """reduce_dependencies()."""
        for other in j.rev:
            other.dep_count -= 1
            if (into_ready and other.dep_count == 0 and other.pending and
                    other.restore_pass == self.current_pass):
                self._add_ready(other)


__all__ = ["PASS_ACL", "PASS_MAIN", "PASS_POST_ACL", "Job", "Plan"]
