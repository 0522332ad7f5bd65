"""A subset archive restores exactly what ``pg_restore -L`` restores from the original with
the same selection: the list comes from ``pgarchive ls -F list`` with the selection, and the
real pg_restore 18 prints both scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pgarchive
from convert_helpers import listing, script
from helpers import TESTDATA
from pgarchive.convert.subset import rewrite_dependencies
from pgarchive.format.constants import Section
from pgarchive.format.model import TocEntry

PG18 = "pg18/custom.dump"
#: (archive, selection, extra pg_restore switches given to both restores)
SELECTIONS = [
    (PG18, ["-t", "orders"], []),
    (PG18, ["-n", "app"], []),
    (PG18, ["-N", "app"], []),
    (PG18, ["-t", "orders", "-t", "customers", "--with-deps"], []),
    (PG18, ["-t", "orders", "--with-deps", "--with-fks"], []),
    (PG18, ["--section", "pre-data"], []),
    (PG18, ["--section", "data"], []),
    (PG18, ["-s"], []),
    (PG18, ["-a"], []),
    (PG18, ["-x", "--no-comments", "--no-policies"], []),
    (PG18, ["--exclude-table-data", "app.orders", "-n", "app"], []),
    (PG18, ["-I", "orders_customer_idx", "-T", "orders orders_audit", "-P", "double_it(integer)"],
     []),
    (PG18, ["-C", "-t", "customers"], ["-C"]),
    ("pg15/dir", ["-t", "customers", "--with-deps"], []),
    ("pg15/dir", ["--section", "data"], []),
    ("pg10/tar.tar", ["-n", "shop"], []),
    ("samples/bigoid18.dump", ["-a"], []),
]


def pgarchive_cli(*args: str) -> None:
    """The command line, run in this process (the same parsing, no interpreter start)."""
    from click.testing import CliRunner

    from pgarchive.cli import cli

    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, (res.output, res.exception)


def _ls(src: Path, sel: list[str], out: Path) -> None:
    pgarchive_cli("ls", str(src), "-F", "list", "-o", str(out), *sel)


@pytest.mark.parametrize(("name", "sel", "extra"), SELECTIONS,
                         ids=[f"{n}:{' '.join(s)}" for n, s, _e in SELECTIONS])
def test_subset_restores_what_the_same_list_restores(name: str, sel: list[str],
                                                     extra: list[str], tmp_path: Path) -> None:
    src = TESTDATA / name
    lst = tmp_path / "selection.list"
    _ls(src, sel, lst)
    dst = tmp_path / "subset.dump"
    pgarchive_cli("convert", str(src), str(dst), "-F", "custom", *sel)
    assert script(dst, *extra) == script(src, "-L", str(lst), *extra)
    # and pg_restore -l of the subset lists the entries of the list, in its order
    listed = [line for line in lst.read_text("utf-8", "surrogateescape").split("\n")
              if line and not line.startswith(";")]
    assert [line for line in listing(dst, *extra)[1] if line] == listed
    with pgarchive.open(str(dst)) as a:
        specials = [e.desc for e in a.entries if e.desc in ("ENCODING", "STDSTRINGS",
                                                             "SEARCHPATH")]
    with pgarchive.open(str(src)) as a:
        assert specials == [e.desc for e in a.entries if e.desc in ("ENCODING", "STDSTRINGS",
                                                                      "SEARCHPATH")]


def test_reordered_list_gives_a_subset_in_the_lists_order(tmp_path: Path) -> None:
    """-L: pg_restore takes the entries in the list's order; so does the subset."""
    src = TESTDATA / PG18
    full = tmp_path / "full.list"
    _ls(src, [], full)
    lines = [line for line in full.read_text().split("\n") if line and not line.startswith(";")]
    data = [line for line in lines if " TABLE DATA " in line]
    chosen = tmp_path / "chosen.list"
    chosen.write_text("\n".join([*lines[:20], *reversed(data)]) + "\n")
    dst = tmp_path / "subset.dump"
    res = subprocess.run([sys.executable, "-m", "pgarchive", "convert", str(src), str(dst),
                          "-L", str(chosen)], capture_output=True)  # the real command line
    assert res.returncode == 0, res.stderr.decode()
    assert script(dst) == script(src, "-L", str(chosen))
    assert [line for line in listing(dst)[1] if line] == [*lines[:20], *reversed(data)]


def _e(dump_id: int, deps: tuple[int, ...]) -> TocEntry:
    return TocEntry(dump_id, False, 0, 0, f"t{dump_id}", "TABLE", Section.PRE_DATA, "x", None,
                    None, None, None, None, 0, None, False, deps)


def test_dependencies_on_left_out_entries_are_replaced_by_theirs() -> None:
    """As pg_dump's findDumpableDependencies: through entries left out, recursively; ids
    that are not entries (section boundaries) stay; untouched lists keep duplicates."""
    everything = [_e(1, ()), _e(2, (1,)), _e(3, (2, 900)), _e(4, (3, 3, 1)), _e(5, (5, 4)),
                  _e(6, (1, 1))]
    kept = [everything[0], everything[3], everything[5]]
    got = {e.dump_id: e.dependencies for e in rewrite_dependencies(kept, everything)}
    assert got == {1: (), 4: (1, 900), 6: (1, 1)}
    cyclic = [_e(1, (2,)), _e(2, (3,)), _e(3, (2, 1)), _e(4, (2,))]
    got = {e.dump_id: e.dependencies for e in rewrite_dependencies([cyclic[0], cyclic[3]],
                                                                   cyclic)}
    assert got == {1: (1,), 4: (1,)}
