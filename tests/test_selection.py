"""With only pg_restore's own options, pgarchive selects exactly the entries that the real
pg_restore 18 lists with the same options, on every archive of the corpus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pgarchive
from helpers import TESTDATA, archive_path, corpus
from pgarchive.cli import cli

sys.path.insert(0, str(TESTDATA))
import pgenv

OPTION_SETS: list[list[str]] = [
    ["-t", "orders"],
    ["-t", "customers", "-t", "Order Lines", "-t", "events"],
    ["-n", "app"],
    ["-n", "shop", "-t", "orders"],
    ["-N", "app"],
    ["-n", "Mixed Case Schema"],
    ["-a"],
    ["-s"],
    ["--section=data"],
    ["--section=pre-data", "--section=post-data"],
    ["-I", "orders_customer_idx", "-I", "customers_name_idx"],
    ["-P", "double_it(integer)", "-P", "touch()"],
    ["-T", "orders orders_touch"],
    ["-C"],
    ["-x", "--no-comments"],
    ["-n", "app", "--no-policies", "-x"],
]


@pytest.fixture(scope="module")
def pg_restore() -> str:
    return str(pgenv.bindir(18) / "pg_restore")


def _ours(path: str, args: list[str]) -> bytes:
    res = CliRunner().invoke(cli, ["ls", "-F", "list", path, *args])
    assert res.exit_code == 0, res.output
    return res.stdout_bytes


def _theirs(pg_restore: str, path: str, args: list[str]) -> bytes:
    res = subprocess.run([pg_restore, "-l", path, *args], capture_output=True,
                         env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("item", corpus("", lambda i: not i["archive"].startswith(
    ("samples/b18_dir", "pg1") ) or i["archive"].endswith(("custom.dump", "dir", "tar.tar"))))
def test_options_select_what_pg_restore_lists(item: dict[str, Any], pg_restore: str) -> None:
    path = archive_path(item)
    for args in OPTION_SETS:
        assert _ours(path, args) == _theirs(pg_restore, path, args), args


def _list_file(path: str, tmp: Path) -> Path:
    """A list that reorders, repeats, comments out and garbles lines, as people edit them."""
    with pgarchive.open(path) as a:
        ids = [e.dump_id for e in a.entries if e.desc not in ("ENCODING", "STDSTRINGS")]
    lines = [f"{i}; whatever" for i in reversed(ids[::3])]
    lines += [";" + str(ids[1]), "", "   \t", f"{ids[4]}abc trailing", f"+{ids[5]}",
              f"{ids[0]}", f"{ids[0]}", "0", "-3", "nonsense", f" {max(ids) + 50}"]
    p = tmp / "edited.list"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("item", corpus("pg1", lambda i: i["archive"].endswith(
    ("custom.dump", "dir", "tar.tar"))))
def test_use_list_order_and_parsing(item: dict[str, Any], pg_restore: str,
                                    tmp_path: Path) -> None:
    path = archive_path(item)
    listing = str(_list_file(path, tmp_path))
    for extra in ([], ["--section=post-data"], ["-n", "app"]):
        args = ["-L", listing, *extra]
        assert _ours(path, args) == _theirs(pg_restore, path, args), args


def test_list_with_unknown_id_is_refused_like_pg_restore(tmp_path: Path,
                                                         pg_restore: str) -> None:
    path = str(TESTDATA / "pg18" / "custom.dump")
    with pgarchive.open(path) as a:
        known = {e.dump_id for e in a.entries}
    missing = next(i for i in range(1, max(known)) if i not in known)
    p = tmp_path / "x.list"
    p.write_text(f"{missing}\n")
    theirs = subprocess.run([pg_restore, "-l", "-L", str(p), path], capture_output=True)
    ours = subprocess.run([sys.executable, "-m", "pgarchive", "ls", "-F", "list", "-L", str(p),
                           path], capture_output=True)
    assert theirs.returncode != 0 and ours.returncode != 0
    assert f"could not find entry for ID {missing}".encode() in theirs.stderr
    assert f"could not find entry for ID {missing}".encode() in ours.stderr


@pytest.mark.parametrize("item", corpus("pg1", lambda i: i["group"] in ("pg17", "pg18")
                                        and i["archive"].endswith("custom.dump")))
def test_filter_file_like_pg_restore(item: dict[str, Any], pg_restore: str,
                                     tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("# tables to restore\ninclude table orders\ninclude table customers\n"
                 "include index orders_customer_idx\nexclude schema public\n")
    path = archive_path(item)
    args = [f"--filter={f}"]
    assert _ours(path, args) == _theirs(pg_restore, path, args)
