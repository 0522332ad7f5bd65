"""`pgarchive ls --format list` is byte-identical to PostgreSQL 18's `pg_restore -l`."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import pgarchive
from helpers import INDEX, TESTDATA, archive_path, corpus, entry_in_child
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


SPELLINGS = ((["-F", "list"], []), (["--format=list"], []), (["-Flist"], []),
             ([], ["--format", "list"]))


@pytest.mark.parametrize("item", corpus("pg1"))
def test_quick_ls_list_is_pg_restore_l_without_click(item: dict[str, Any]) -> None:
    """Issue 10 (start-up): `ls ARCHIVE -F list` is answered before click and the commands
    load, in every spelling of the format (one per archive, in turn), with pg_restore -l's
    bytes, for every container."""
    before, after = SPELLINGS[INDEX.index(item) % len(SPELLINGS)]
    args = ["ls", *before, archive_path(item), *after]
    assert entry_in_child(*args)[:3] == (0, False, (TESTDATA / item["list"]).read_bytes()), args


@pytest.mark.parametrize("kind", ["custom.dump", "dir"])
def test_quick_ls_loads_no_decompressor_nor_dataclasses(kind: str) -> None:
    """Issue 10 (start-up): listing a custom or directory archive reads no data, so it
    imports no decompressor, and the records it builds are no dataclasses: importing
    dataclasses (with inspect) and building one cost more than the whole listing."""
    import subprocess
    import sys

    probe = ("import sys\nfrom pgarchive.cli import main\n"
             "sys.argv = ['pgarchive', 'ls', sys.argv[1], '-F', 'list']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write(repr(sorted(m for m in ('click', 'dataclasses', 'inspect', "
             "'pgarchive.compression', 'zlib', 'lz4', 'zstandard') if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe, str(TESTDATA / "pg18" / kind)],
                         capture_output=True, check=True)
    assert out.stdout and out.stderr.decode() == "[]"


def test_quick_ls_leaves_everything_else_to_the_full_command(tmp_path: Any) -> None:
    """Another option, a damaged archive or a missing file: the full command line answers
    (with its own error line), and nothing was written by the quick path first."""
    from pgarchive.cli.quick import list_args

    small = str(TESTDATA / "pg18" / "custom.dump")
    assert list_args([small, "-F", "list"]) == small
    assert list_args([small]) is None  # a table, not the list
    assert list_args([small, "-F", "list", "-t", "x"]) is None
    assert list_args([small, "-F", "json"]) is None
    assert list_args(["-", "-F", "list"]) is None  # standard input is read once
    assert list_args([str(tmp_path / "none"), "-F", "list"]) is None
    code, loaded, out, err = entry_in_child("ls", small, "-F", "list", "-t", "nosuch")
    assert (code, loaded) == (0, True)
    cut = tmp_path / "cut.dump"
    cut.write_bytes((TESTDATA / "pg18" / "custom.dump").read_bytes()[:300])
    code, loaded, out, err = entry_in_child("ls", str(cut), "-F", "list")
    assert (code, loaded, out) == (2, True, b"")
    assert err.startswith(f"pgarchive: error: {cut}") and err.count("\n") == 1, err
