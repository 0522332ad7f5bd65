"""The parallel plan of the native engine, without a server: pg_restore's rules
(pg_backup_archiver.c) on a small TOC of two tables, their data, indexes, a foreign key,
comments and ACLs, and on random completion orders."""

from __future__ import annotations

import random

from pgarchive.format.constants import K_VERS_1_16, Section
from pgarchive.format.model import TocEntry
from pgarchive.restore.engine.scheduler import Job, Plan
from pgarchive.script.renderer import PASS_ACL, PASS_MAIN
from pgarchive.selection import Decision, Req

PRE, DATA, POST, NONE = Section.PRE_DATA, Section.DATA, Section.POST_DATA, Section.NONE


def _entry(dump_id: int, desc: str, tag: str, section: Section, *deps: int) -> TocEntry:
    return TocEntry(dump_id, desc == "TABLE DATA", 0, 0, tag, desc, section, "", "", None,
                    "public", None, None, 0, "postgres", False, tuple(deps))


#: dump id -> entry; sizes of the two tables' data: big 1000, small 10
TOC = [
    _entry(1, "SCHEMA", "s", PRE),
    _entry(2, "TABLE", "big", PRE, 1),
    _entry(3, "TABLE", "small", PRE, 1),
    _entry(4, "COMMENT", "TABLE big", NONE, 2),
    _entry(5, "TABLE DATA", "big", DATA, 2),
    _entry(6, "TABLE DATA", "small", DATA, 3),
    _entry(7, "INDEX", "big_idx", POST, 2),
    _entry(8, "CONSTRAINT", "small_pkey", POST, 3),
    _entry(9, "FK CONSTRAINT", "big_fk", POST, 2, 3),
    _entry(10, "INDEX", "big_idx2", POST, 2),
    _entry(11, "ACL", "TABLE big", NONE, 2),
]
SIZES = {5: 1000, 6: 10}


def _plan(toc: list[TocEntry] = TOC) -> Plan:
    return Plan([Decision(e, Req.SCHEMA | Req.DATA) for e in toc],
                lambda e: SIZES.get(e.dump_id, 0), K_VERS_1_16)


def _ids(jobs: list[Job]) -> list[int]:
    return [j.dump_id for j in jobs]


def test_prefork_is_pre_data_in_toc_order() -> None:
    plan = _plan()
    # the comment (no section) comes before any data entry: the leader restores it too
    assert _ids(plan.prefork()) == [1, 2, 3, 4]


def test_index_waits_for_its_tables_data_and_biggest_goes_first() -> None:
    plan = _plan()
    plan.prefork()
    plan.start()
    first = plan.pop([])
    assert first is not None and first.dump_id == 5  # the biggest data first
    second = plan.pop([first])
    assert second is not None and second.dump_id == 6
    assert plan.pop([first, second]) is None  # no index while its table loads
    plan.finished(second)
    pkey = plan.pop([first])
    assert pkey is not None and pkey.dump_id == 8
    assert plan.pop([first, pkey]) is None  # big_idx and big_fk wait for big's data
    plan.finished(first)
    ready = []
    while (j := plan.pop([pkey])) is not None:
        ready.append(j)
    # the foreign key locks small exclusively: it conflicts with small_pkey, which runs
    assert sorted(_ids(ready)) == [7, 10]
    for j in ready:
        plan.finished(j)
    plan.finished(pkey)
    fk = plan.pop([])
    assert fk is not None and fk.dump_id == 9


def test_lock_conflicts_both_ways() -> None:
    plan = _plan()
    by = {j.dump_id: j for j in plan.jobs}
    assert by[9].lock_deps == frozenset({5, 6})  # repointed to the tables' data
    assert by[9].conflicts(by[8]) and by[8].conflicts(by[9])
    assert not by[7].conflicts(by[10])  # two indexes on one table: no exclusive lock
    assert by[7].conflicts(by[9])


def test_acl_pass_after_the_main_pass() -> None:
    plan = _plan()
    plan.prefork()
    plan.start()
    seen: list[int] = []
    while True:
        j = plan.pop([])
        if j is None:
            if not plan.advance():
                break
            continue
        seen.append(j.dump_id)
        plan.finished(j)
    assert seen[-1] == 11 and sorted(seen) == [5, 6, 7, 8, 9, 10, 11]
    assert plan.leftovers() == []


def test_random_completion_orders_respect_every_rule() -> None:
    """Three workers finishing in random order: every job runs once, after everything it
    depends on (post-data: its tables' data), beside no job it conflicts with, pass by
    pass."""
    rng = random.Random(16)
    for _ in range(200):
        plan = _plan()
        done = set(_ids(plan.prefork()))
        plan.start()
        running: list[Job] = []
        order: list[int] = []
        while True:
            while len(running) < 3 and (j := plan.pop(running)) is not None:
                assert not any(j.conflicts(r) for r in running)
                deps = {5 if d == 2 else 6 if d == 3 else d for d in j.deps} \
                    if j.entry.section == POST else set(j.deps)
                assert deps <= done, (j.dump_id, deps, done)
                if j.restore_pass == PASS_ACL:
                    assert all(jj.dump_id in done for jj in plan.jobs
                               if jj.restore_pass == PASS_MAIN)
                running.append(j)
                order.append(j.dump_id)
            if running:
                j = running.pop(rng.randrange(len(running)))
                done.add(j.dump_id)
                plan.finished(j)
            elif not plan.advance():
                break
        assert sorted(order) == list(range(5, 12))
        assert plan.leftovers() == []
