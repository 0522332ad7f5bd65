"""--with-deps: the dependency closure of a selection (selection._close), on small synthetic
TOCs whose closures are worked out by hand.  The corpus and pg_restore comparisons are in
test_selection.py and test_with_fks.py."""

from __future__ import annotations

from helpers import toc_entry
from pgarchive.format.constants import Section
from pgarchive.format.model import TocEntry
from pgarchive.selection import RestoreOptions, Selection, chosen, select

DATA, POST = Section.DATA, Section.POST_DATA


def toc() -> list[TocEntry]:
    """One schema ``s``; table t with what it owns and needs; table u, which t references;
    two functions that need each other (a cycle); a view whose dependencies name an id
    the TOC does not have."""
    e = toc_entry
    return [
        e(1, "SCHEMA", "s"),
        e(2, "TYPE", "mood", (1,)),
        e(3, "FUNCTION", "f()", (1, 2)),
        e(4, "TABLE", "t", (1, 2, 3)),
        e(5, "SEQUENCE", "t_id_seq", (1,)),
        e(6, "SEQUENCE OWNED BY", "t_id_seq", (5, 4)),
        e(7, "DEFAULT", "t id", (4, 5)),
        e(8, "TABLE DATA", "t", (4,), DATA),
        e(9, "SEQUENCE SET", "t_id_seq", (5,), DATA),
        e(10, "INDEX", "t_idx", (4,), POST),
        e(11, "TRIGGER", "t trg", (4, 17), POST),
        e(12, "COMMENT", "TABLE t", (4,)),
        e(13, "ACL", "TABLE t", (4,)),
        e(14, "TABLE", "u", (1,)),
        e(15, "TABLE DATA", "u", (14,), DATA),
        e(16, "FK CONSTRAINT", "t t_u_fkey", (4, 14), POST),
        e(17, "FUNCTION", "g()", (1, 18)),
        e(18, "FUNCTION", "h()", (1, 17)),
        e(19, "VIEW", "v", (1, 4, 999)),
        e(20, "TABLE", "lonely", (1,)),
    ]


def closure(*tables: str, with_deps: bool = True) -> dict[int, str]:
    """dump id -> reason of every entry ``-t TABLE ... [--with-deps]`` chooses."""
    sel = Selection(RestoreOptions(tables=tables, sel_table=True), with_deps=with_deps)
    return {d.entry.dump_id: d.reason for d in chosen(select(toc(), sel))}


def test_without_with_deps_only_the_table_its_data_comment_and_grant() -> None:
    """pg_restore -t: the table and its data, and its comment and ACL (which pg_restore
    keeps with their selected parent); nothing it needs, no index or trigger."""
    got = closure("t", with_deps=False)
    assert set(got) == {4, 8, 12, 13}
    assert got[12] == "pg_restore keeps it with its selected parent"


def test_a_table_brings_what_it_owns_and_what_it_needs() -> None:
    got = closure("t")
    # needs: schema, type, function (and the type again through the function); owns:
    # data, default (with its sequence and that sequence's value), owned-by, index,
    # trigger (with the functions it needs, a cycle), comment, grant
    assert set(got) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 18}
    assert got[4] == "matches t"
    assert got[3] == "needed by 4 TABLE s t"
    assert got[2] in ("needed by 4 TABLE s t", "needed by 3 FUNCTION s f()")
    assert got[10] == "belongs to 4 TABLE s t"
    assert got[5] == "needed by 7 DEFAULT s t id"
    assert got[9] == "belongs to 5 SEQUENCE s t_id_seq"
    assert got[6] == "ties selected tables (4 TABLE s t)"


def test_a_cycle_is_closed_once() -> None:
    """g() and h() need each other: both come, through the trigger that needs g()."""
    got = closure("t")
    assert got[17] == "needed by 11 TRIGGER s t trg"
    assert got[18] == "needed by 17 FUNCTION s g()"


def test_a_foreign_key_comes_only_with_both_tables() -> None:
    assert 16 not in closure("t")
    assert 16 not in closure("u")
    both = closure("t", "u")
    assert {4, 14, 15, 16} <= set(both)
    assert both[16] in ("ties selected tables (4 TABLE s t)",
                        "ties selected tables (14 TABLE s u)")


def test_a_missing_dependency_id_is_passed_over() -> None:
    """The view depends on id 999, which no entry has: the rest of its closure comes.
    What it needs comes without its belongings (t's data, index, trigger stay out), but
    with its comment and grant, which always come along."""
    got = closure("v")
    assert set(got) == {1, 2, 3, 4, 12, 13, 19}
    assert got[4] == "needed by 19 VIEW s v"
    assert got[12] == "belongs to 4 TABLE s t"


def test_a_table_that_needs_nothing_but_its_schema() -> None:
    assert set(closure("lonely")) == {1, 20}
    assert set(closure("nothing")) == set()
