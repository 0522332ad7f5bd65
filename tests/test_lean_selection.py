"""ls with a selection runs it on the TOC's columns, filled by one pass over the TOC, and
takes the chosen entries from another pass (issue 12: a million entries in < 200 MB).  It
must print what the path that holds every entry prints: on every archive of the corpus,
on generated archives, and with every selection switch."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgarchive
from helpers import archive_path, corpus, plain_module
from pgarchive import toclist
from pgarchive.containers.base import Container
from pgarchive.errors import UsageError
from pgarchive.format.constants import ArchiveFormat, Compression, OffsetFlag, Section
from pgarchive.format.model import Header, TocEntry
from pgarchive.format.writer import build_custom
from pgarchive.selection import RestoreOptions, Selection, chosen, select, select_table
from pgarchive.toclist import ListRequest
from pgarchive.toctable import TocTable

FORMATS = ("list", "table", "json", "csv")


@pytest.fixture(autouse=True)
def passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passes over the TOC even for the small TOCs here (held below 20,000 entries)."""
    monkeypatch.setattr(toclist, "HOLD_ENTRIES", 0)


def both(path: str, sel: Selection | None, fmt: str = "list", safe: bool = False
         ) -> tuple[tuple[bytes, list[str]] | str, tuple[bytes, list[str]] | str]:
    """(output, warnings) -- or the error -- of the lean path and of the one that holds
    every entry, for the same request."""
    def make() -> ListRequest:
        return ListRequest(path, fmt, (lambda entries: sel) if sel is not None else None,
                           safe=safe)

    def held(warn: Callable[[str], None]) -> bytes:
        return toclist._selected(make(), warn)

    def lean(warn: Callable[[str], None]) -> bytes:
        return b"".join(toclist._lean(make(), warn))

    out = []
    for fn in (lean, held):
        warnings: list[str] = []
        try:
            out.append((fn(warnings.append), warnings))
        except UsageError as e:
            out.append(f"error: {e}")
    return out[0], out[1]


def selections(entries: list[TocEntry]) -> Iterator[Selection]:
    """Every kind of switch, with names the archive has."""
    tables = [e for e in entries if e.desc == "TABLE"]
    t = (tables[len(tables) // 2].tag,) if tables else ("nosuch",)
    schema = next((e.namespace for e in tables if e.namespace), "public")
    ids = [e.dump_id for e in entries]
    r = RestoreOptions
    yield Selection(r(tables=t, sel_table=True))
    yield Selection(r(tables=t, sel_table=True), with_deps=True)
    yield Selection(r(tables=t, sel_table=True), with_deps=True, with_fks=True)
    yield Selection(r(tables=("*",), sel_table=True), with_deps=True, with_fks=True,
                    exclude_table_data=("*a*",))
    yield Selection(r(schemas=(schema,)), with_deps=True)
    yield Selection(r(exclude_schemas=(schema,), functions=("*",), sel_function=True,
                      indexes=("*",), sel_index=True, triggers=("*",), sel_trigger=True))
    yield Selection(r(sections=frozenset({Section.PRE_DATA}), no_acl=True, no_comments=True))
    yield Selection(r(data_only=True, tables=("*",), sel_table=True, strict_names=True))
    yield Selection(r(create=True, statistics_only=True, no_policies=True,
                      no_publications=True, no_subscriptions=True, no_security_labels=True))
    yield Selection(r(use_list=tuple(reversed(ids[::3]))), with_deps=True)
    yield Selection(r(tables=("NoSuch", t[0].upper()), sel_table=True, strict_names=True))


@pytest.mark.parametrize("item", corpus())
def test_lean_ls_equals_the_held_path_on_the_corpus(item: dict[str, Any]) -> None:
    path = archive_path(item)
    with pgarchive.open(path) as a:
        entries = a.entries
    with pgarchive.open(path, read_toc=False) as a:
        table = a.scan_entries(TocTable.of)
    for sel in selections(entries):
        lean, held = both(path, sel)
        assert lean == held, sel
        try:
            got = [id(entries[row]) for row in select_table(table, sel).chosen_rows()]
        except UsageError as e:
            got = [str(e)]
        try:
            want = [id(d.entry) for d in chosen(select(entries, sel))]
        except UsageError as e:
            want = [str(e)]
        assert got == want, sel


@pytest.mark.parametrize("archive", ["pg18/custom.dump", "pg18/dir", "pg18/tar.tar"])
def test_lean_ls_equals_the_held_path_in_every_format(archive: str) -> None:
    from helpers import TESTDATA

    path = str(TESTDATA / archive)
    with pgarchive.open(path) as a:
        entries = a.entries
    for sel in selections(entries):
        for fmt in FORMATS:
            lean, held = both(path, sel, fmt)
            assert lean == held, (sel, fmt)
    lean, held = both(path, None, "list", safe=True)
    assert lean == held


# --- generated archives ----------------------------------------------------------------

DESCS = ["TABLE", "TABLE DATA", "SEQUENCE", "SEQUENCE SET", "SEQUENCE OWNED BY",
         "FK CONSTRAINT", "TABLE ATTACH", "INDEX", "INDEX ATTACH", "COMMENT", "ACL", "VIEW",
         "FUNCTION", "SCHEMA", "DOMAIN", "CONSTRAINT", "DEFAULT", "TRIGGER",
         "STATISTICS DATA", "ENCODING", "DATABASE", "SECURITY LABEL", "POLICY"]


def _header(count: int) -> Header:
    return Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, Compression.NONE, None,
                  (0, 0, 12, 1, 0, 126, 0), "db", "18.0", "18.0", count, 0)


def _entry(dump_id: int, desc: str, tag: str, ns: str, deps: Iterable[int], section: int,
           defn: str) -> TocEntry:
    return TocEntry(dump_id, desc in ("TABLE DATA", "SEQUENCE SET"), 0, 16000 + dump_id,
                    tag, desc, Section(section), defn, "", None, ns, "", "", 0, "o", False,
                    tuple(deps), OffsetFlag.NO_DATA, 0)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(DESCS), st.lists(st.integers(1, 16), max_size=4),
                          st.sampled_from(["t", "u", "v w", "DATABASE x", "LARGE OBJECT 1"]),
                          st.sampled_from(["public", "s"]), st.integers(1, 4),
                          st.sampled_from(["X;", "", "CREATE TABLE x () PARTITION BY LIST (a);",
                                           "-- load via partition root x"]),
                          st.integers(0, 6)),
                min_size=1, max_size=16),
       st.sampled_from(["t", "u*", "*", "nosuch"]), st.booleans(), st.booleans(),
       st.sampled_from([None, "public"]), st.booleans(),
       st.sampled_from(["list", "table", "json", "csv"]))
def test_lean_ls_equals_the_held_path_on_generated_archives(
        tmp_path: Path, spec: list[tuple[str, list[int], str, str, int, str, int]],
        table_name: str, with_deps: bool, with_fks: bool, schema: str | None, listed: bool,
        fmt: str) -> None:
    """Random graphs, sections (SECTION_NONE too), schemas, definitions and repeated dump
    ids, with random switches: the same output, warnings and errors on both paths."""
    entries = [_entry(i - repeat if repeat and i > repeat else i, desc, tag, ns, deps,
                      section, defn)
               for i, (desc, deps, tag, ns, section, defn, repeat) in enumerate(spec, 1)]
    p = tmp_path / "g.dump"
    p.write_bytes(build_custom(_header(len(entries)), entries, {}))
    ids = [e.dump_id for e in entries]
    sel = Selection(RestoreOptions(tables=(table_name,), sel_table=True,
                                   schemas=(schema,) if schema else (),
                                   use_list=tuple(reversed(ids[::2])) if listed else None),
                    with_deps=with_deps, with_fks=with_deps and with_fks,
                    exclude_table_data=("u*",))
    lean, held = both(str(p), sel, fmt)
    assert lean == held


# --- what the lean path holds ----------------------------------------------------------

def _chain(tmp: Path, n: int) -> Path:
    """n tables, each depending on the one before (as bench_hostile's toc_1m)."""
    p = tmp / f"{n}.dump"
    entries = [_entry(i, "TABLE", f"t{i}", "public", (i - 1,) if i > 1 else (), 2,
                      f"CREATE TABLE public.t{i} (a integer);\n") for i in range(1, n + 1)]
    p.write_bytes(build_custom(_header(n), entries, {}))
    return p


def test_lean_ls_holds_no_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ls with a selection never reads the TOC whole (Container.entries), and its memory
    grows by far less than an entry's ~1.5 kB per entry: 1M entries took 774 MiB.  The TOC
    is read in small windows here, so that the entries of one window do not count."""
    from pgarchive.format import toc

    monkeypatch.setattr(toc, "WINDOW", 16 << 10)

    def refused(self: Container) -> list[TocEntry]:
        raise AssertionError("the TOC was held")

    monkeypatch.setattr(Container, "entries", property(refused))
    sel = Selection(RestoreOptions(tables=("t1",), sel_table=True), with_deps=True)
    peaks = {}
    for n in (1_000, 10_000):
        p = _chain(tmp_path, n)
        for fmt in ("list", "table"):
            req = ListRequest(str(p), fmt, lambda entries: sel)

            def run(req: ListRequest = req) -> None:
                for _ in toclist.list_toc(req, print):
                    pass

            tracemalloc.start()
            try:
                run()
            finally:
                _, peaks[fmt, n] = tracemalloc.get_traced_memory()
                tracemalloc.stop()
    for fmt in ("list", "table"):
        per_entry = (peaks[fmt, 10_000] - peaks[fmt, 1_000]) / 9_000
        assert per_entry < 200, (fmt, per_entry, peaks)


@pytest.mark.parametrize("first", [True, False])
def test_lean_ls_decodes_in_the_archive_encoding(tmp_path: Path, first: bool) -> None:
    """A LATIN1 archive: its names are decoded in LATIN1 on both passes, whether the
    ENCODING entry comes first (as pg_dump writes it) or after names it decodes."""
    enc = _entry(9, "ENCODING", "ENCODING", "", (), 1, "SET client_encoding = 'LATIN1';\n")
    tables = [_entry(i, "TABLE", tag, "public", (), 2, f"CREATE TABLE {tag} ();")
              for i, tag in ((1, "tä"), (2, "ü"))]
    entries = [enc, *tables] if first else [*tables, enc]
    p = tmp_path / "latin1.dump"
    p.write_bytes(build_custom(_header(3), entries, {}, codec="latin-1"))
    sel = Selection(RestoreOptions(tables=("tä",), sel_table=True), with_deps=True)
    for fmt in FORMATS:
        lean, held = both(str(p), sel, fmt)
        assert lean == held and isinstance(lean, tuple) and not lean[1], fmt
        assert "tä".encode("latin-1" if fmt == "list" else "utf-8") in lean[0]


#: Option sets the rule decides entry by entry (select's one-pass path), and one it does not.
EACH: list[RestoreOptions] = [
    RestoreOptions(), RestoreOptions(schema_only=True), RestoreOptions(data_only=True),
    RestoreOptions(create=True, no_acl=True, no_comments=True),
    RestoreOptions(sections=frozenset({Section.DATA})),
    RestoreOptions(statistics_only=True), RestoreOptions(statistics=False),
    RestoreOptions(no_policies=True, no_publications=True, no_subscriptions=True,
                   no_security_labels=True, with_statistics=True),
]


@pytest.mark.parametrize("item", corpus())
def test_one_pass_selection_equals_the_columns(item: dict[str, Any]) -> None:
    """select() decides entry by entry when no option ties an entry to another; its
    Decisions are those of the general path over the TOC's columns."""
    from pgarchive import selection

    with pgarchive.open(archive_path(item)) as a:
        entries = a.entries
    for o in EACH:
        sel = Selection(o)
        assert selection.independent(sel)
        fast = select(entries, sel)
        general = select_table(TocTable.of(entries), sel, track=True).decisions(entries)
        assert fast == general, o
    assert not selection.independent(Selection(RestoreOptions(schemas=("app",))))


PLAIN_RULE = plain_module("pgarchive.rule")
#: Name options, whose rule looks at an entry's parents (the general path).
NAMED: list[RestoreOptions] = [
    RestoreOptions(tables=("orders", "events"), sel_table=True),
    RestoreOptions(schemas=("app",), no_acl=True),
    RestoreOptions(exclude_schemas=("app",), schema_only=True),
    RestoreOptions(indexes=("orders_customer_idx",), sel_index=True, sel_table=True),
    RestoreOptions(functions=("double_it(integer)",), sel_function=True,
                   triggers=("orders orders_touch",), sel_trigger=True, create=True),
]


@pytest.mark.parametrize("item", corpus())
def test_plain_and_compiled_rule_decide_alike(item: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The selection decides the same with the compiled rule and with its plain source."""
    from pgarchive import rule, selection

    with pgarchive.open(archive_path(item)) as a:
        entries = a.entries
    for o in EACH:
        assert (PLAIN_RULE.each(entries, PLAIN_RULE.Switches(o)) ==
                rule.each(entries, rule.Switches(o))), o
    compiled = [select(entries, Selection(o)) for o in NAMED]
    monkeypatch.setattr(selection, "rule", PLAIN_RULE.rule)
    monkeypatch.setattr(selection, "Switches", PLAIN_RULE.Switches)
    for o, want in zip(NAMED, compiled, strict=True):
        assert select(entries, Selection(o)) == want, o
    assert any(d.reqs for d in compiled[0]) and not all(d.reqs for d in compiled[0])
