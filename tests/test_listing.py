"""`pgarchive ls --format list` is byte-identical to PostgreSQL 18's `pg_restore -l`."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import pgarchive
from helpers import TESTDATA, archive_path, corpus
from pgarchive.cli import cli
from pgarchive.listing import render_list
from pgarchive.selection import RestoreOptions, listed, required


@pytest.mark.parametrize("item", corpus())
def test_list_matches_pg_restore_18(item: dict[str, Any]) -> None:
    expected = (TESTDATA / item["list"]).read_bytes()
    with pgarchive.open(archive_path(item)) as a:
        text = render_list(a.header, a.format_name, listed(required(a.entries,
                                                                     RestoreOptions())))
        assert text.encode(a.encoding, "surrogateescape") == expected


@pytest.mark.parametrize("item", corpus("pg1"))
def test_cli_ls_list_output(item: dict[str, Any]) -> None:
    res = CliRunner().invoke(cli, ["ls", archive_path(item), "--format", "list"])
    assert res.exit_code == 0, res.output
    assert res.stdout_bytes == (TESTDATA / item["list"]).read_bytes()


@pytest.mark.parametrize("item", corpus())
def test_fast_default_list_equals_general_path(item: dict[str, Any]) -> None:
    """The LIST walk (raw bytes, no entries) agrees with entries + selection + rendering."""
    expected = (TESTDATA / item["list"]).read_bytes()
    assert pgarchive.archive.default_list(archive_path(item)) == expected
    with pgarchive.open(archive_path(item)) as a:
        no_stats = render_list(a.header, a.format_name, listed(required(
            a.entries, RestoreOptions(statistics=False))))
    assert pgarchive.archive.default_list(archive_path(item), statistics=False) == \
        no_stats.encode(a.encoding, "surrogateescape")


def _pg_restore_18(*args: str) -> bytes:
    import subprocess

    import pgenv

    return subprocess.run([str(pgenv.bindir(18) / "pg_restore"), *args], capture_output=True,
                          check=True, env={"TZ": "UTC", "PATH": "/usr/bin:/bin",
                                           "LC_ALL": "C"}).stdout


@pytest.mark.parametrize("item", corpus())
def test_ls_verbose_list_matches_pg_restore_18(item: dict[str, Any]) -> None:
    """``ls -v --format list`` is ``pg_restore -l -v``: every entry with its dependencies
    (the real pg_restore 18 is run as the oracle)."""
    res = CliRunner().invoke(cli, ["ls", "-v", archive_path(item), "--format", "list"])
    assert res.exit_code == 0, res.output
    assert res.stdout_bytes == _pg_restore_18("-l", "-v", archive_path(item))


SAMPLES_EXPECTED = TESTDATA.parent.parent / "shared" / "docs" / "archive-format-samples" / \
    "expected"


@pytest.mark.parametrize("item", corpus("samples"))
def test_ls_verbose_equals_shared_golden(item: dict[str, Any]) -> None:
    """The recorded ``pg_restore -l -v`` goldens of the format samples (pg_restore 18.6)."""
    name = item["archive"].split("/", 1)[1]
    golden = SAMPLES_EXPECTED / f"{name}.r18.list-verbose"
    if not golden.exists():
        pytest.fail(f"no recorded golden {golden}")
    res = CliRunner().invoke(cli, ["ls", "-v", archive_path(item), "--format", "list"])
    assert res.stdout_bytes == golden.read_bytes()
