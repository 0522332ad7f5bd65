"""--with-fks: the referential closure of the selected tables, on small synthetic TOCs and
on the real corpus (ls, --explain, verify).  Restores are in tests/restore/."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from helpers import TESTDATA, toc_entry
from pgarchive.cli import cli
from pgarchive.format.constants import Section
from pgarchive.format.model import TocEntry
from pgarchive.selection import RestoreOptions, Selection, chosen, select

ARCHIVE = str(TESTDATA / "pg18" / "custom.dump")


def entry(dump_id: int, desc: str, tag: str, deps: tuple[int, ...] = (),
          section: Section = Section.PRE_DATA) -> TocEntry:
    e: TocEntry = toc_entry(dump_id, desc, tag, deps, section)
    return e


def toc() -> list[TocEntry]:
    """s.a -> s.b -> s.c through FKs; s.d -> s.a; s.e -> s.e (self); s.f alone."""
    es = [entry(1, "SCHEMA", "s")]
    for i, name in enumerate("abcdef", start=10):
        es.append(entry(i, "TABLE", name, (1,)))
    for i, name in enumerate("abcdef", start=20):
        es.append(entry(i, "TABLE DATA", name, (i - 10,), Section.DATA))
    for i, name in enumerate("abcdef", start=30):
        es.append(entry(i, "CONSTRAINT", f"{name} {name}_pkey", (i - 20,), Section.POST_DATA))
    fks = [(40, "a", 10, "b", 11), (41, "b", 11, "c", 12), (42, "d", 13, "a", 10),
           (43, "e", 14, "e", 14)]
    for dump_id, name, table, ref, ref_table in fks:
        es.append(entry(dump_id, "FK CONSTRAINT", f"{name} {name}_{ref}_fkey",
                        (table, ref_table, ref_table + 20), Section.POST_DATA))
    return es


def picked(tables: tuple[str, ...], fks: bool) -> dict[int, str]:
    sel = Selection(RestoreOptions(tables=tables, sel_table=True), with_deps=True,
                    with_fks=fks)
    return {d.entry.dump_id: d.reason for d in chosen(select(toc(), sel))}


def test_referenced_tables_come_whole_and_transitively() -> None:
    got = picked(("a",), True)
    assert {10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41} <= set(got)
    assert not {13, 23, 42} & set(got)  # d references a: not brought, nor its FK
    assert got[11] == "referenced by foreign key a_b_fkey of s.a (--with-fks)"
    assert got[12] == "referenced by foreign key b_c_fkey of s.b (--with-fks)"
    assert got[40] == "foreign key of s.a (--with-fks)"


def test_without_with_fks_a_foreign_key_needs_both_tables() -> None:
    alone = picked(("a",), False)
    assert not {11, 21, 40, 42} & set(alone)
    both = picked(("a", "b"), False)
    assert 40 in both and 41 not in both and 12 not in both


def test_self_reference_and_unreferenced() -> None:
    assert {14, 24, 43} <= set(picked(("e",), True))
    assert set(picked(("f",), True)) == {1, 15, 25, 35}


def ls_json(*args: str) -> list[dict[str, object]]:
    res = CliRunner().invoke(cli, ["ls", ARCHIVE, "--json", "--explain", *args])
    assert res.exit_code == 0, res.output
    rows: list[dict[str, object]] = json.loads(res.stdout)
    return rows


def test_corpus_order_lines_brings_orders_then_customers() -> None:
    rows = ls_json("-t", "Order Lines", "--with-deps", "--with-fks")
    data = {r["tag"] for r in rows if r["desc"] == "TABLE DATA"}
    assert data == {"Order Lines", "orders", "customers"}
    reasons = {(r["desc"], r["tag"]): r["reason"] for r in rows}
    assert reasons[("TABLE", "orders")] == ("referenced by foreign key Order Lines_order_id_"
                                           "fkey of Mixed Case Schema.Order Lines (--with-fks)")
    assert reasons[("TABLE", "customers")] == ("referenced by foreign key orders_customer_id_"
                                              "fkey of app.orders (--with-fks)")
    assert sum(1 for r in rows if r["desc"] == "FK CONSTRAINT") == 2


def test_corpus_referenced_table_brings_no_foreign_key_of_others() -> None:
    """customers is referenced by orders: selecting customers brings neither."""
    rows = ls_json("-t", "customers", "--with-deps", "--with-fks")
    assert not [r for r in rows if r["desc"] == "FK CONSTRAINT" or r["tag"] == "orders"]


def test_verify_takes_the_same_closure() -> None:
    res = CliRunner().invoke(cli, ["verify", ARCHIVE, "--json", "-t", "Order Lines",
                                   "--with-deps", "--with-fks"])
    assert res.exit_code == 0, res.output
    checked = {e["tag"] for e in json.loads(res.stdout)["entries"]}
    assert {"Order Lines", "orders", "customers"} <= checked


def test_with_fks_without_with_deps_is_an_error() -> None:
    for command in ("ls", "verify"):
        res = subprocess.run([sys.executable, "-m", "pgarchive", command, ARCHIVE, "-t",
                              "orders", "--with-fks"], capture_output=True, text=True)
        assert res.returncode == 2
        assert "pgarchive: error: --with-fks needs --with-deps" in res.stderr
