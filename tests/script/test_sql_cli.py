"""``pgarchive sql`` as a command: pg_restore's refusals, restrict keys, output files,
pipes; and the quoting rules against PostgreSQL's own keyword list."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import TESTDATA, entry_in_child
from pgarchive.cli import cli
from pgarchive.script.clean import if_exists_statement
from pgarchive.script.keywords import QUOTED_KEYWORDS
from pgarchive.script.quoting import fmt_id, psql_connect, string_literal

ARCHIVE = str(TESTDATA / "pg18" / "custom.dump")

REFUSED = [
    ["-s", "-a"], ["-s", "--statistics-only"], ["-a", "--statistics-only"],
    ["-a", "--no-data"], ["-s", "--no-schema"], ["--statistics-only", "--no-statistics"],
    ["--statistics", "--no-statistics"], ["-a", "--statistics"], ["-s", "--statistics"],
    ["-c", "-a"], ["-1", "--transaction-size", "5"], ["-C", "-1"], ["--if-exists"],
    ["--restrict-key", "not-alnum"], ["--restrict-key", "bad key", "-s", "-a"],
]


@pytest.fixture(scope="module")
def pg_restore() -> str:
    import pgenv

    return str(pgenv.bindir(18) / "pg_restore")


@pytest.mark.parametrize("args", REFUSED, ids=" ".join)
def test_refused_like_pg_restore(args: list[str], pg_restore: str) -> None:
    theirs = subprocess.run([pg_restore, "-f", os.devnull, *args, ARCHIVE],
                            capture_output=True, text=True)
    ours = subprocess.run([sys.executable, "-m", "pgarchive", "sql", "-f", os.devnull,
                           *args, ARCHIVE], capture_output=True, text=True)
    assert theirs.returncode != 0
    assert ours.returncode == 2, ours.stderr
    # pg_restore's words, on one line, perhaps followed by why in a parenthesis of our own
    message = f"pgarchive: error: {theirs.stderr.strip().removeprefix('pg_restore: error: ')}"
    line = ours.stderr.strip()
    assert "\n" not in line
    assert line == message or (line.startswith(f"{message} (") and line.endswith(")")), line


def test_random_restrict_key_as_pg_restore_makes_it() -> None:
    keys = []
    for _ in range(2):
        out = CliRunner().invoke(cli, ["sql", ARCHIVE, "-s"]).stdout
        found = re.findall(r"^\\(un)?restrict (\S+)$", out, re.M)
        assert [k for _, k in found] == [found[0][1]] * 2
        keys.append(found[0][1])
    assert keys[0] != keys[1]
    assert all(re.fullmatch(r"[A-Za-z0-9]{63}", k) for k in keys)


def test_file_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.sql"
    target.write_text("previous\n")
    res = CliRunner().invoke(cli, ["sql", ARCHIVE, "-f", str(target), "--restrict-key", "k"])
    assert res.exit_code == 0
    assert target.read_text().startswith("--\n-- PostgreSQL database dump\n")
    # A damaged archive: the error comes mid-way, and the old file stays as it was.
    bad = tmp_path / "bad.dump"
    data = Path(ARCHIVE).read_bytes()
    bad.write_bytes(data[: len(data) - 3000])
    target.write_text("previous\n")
    res = CliRunner().invoke(cli, ["sql", str(bad), "-f", str(target)])
    assert res.exit_code != 0
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.dump", "out.sql"]


@pytest.mark.parametrize("command", [["sql", ARCHIVE, "-f"],
                                     ["ls", ARCHIVE, "-F", "list", "-s", "-o"]])
def test_links_and_devices_are_written_through(command: list[str], tmp_path: Path) -> None:
    """A symlink (like a device: /dev/null, which ``ls -o /dev/null`` once replaced with a
    regular file) is written through, not replaced; tested on a link, never on a device."""
    real = tmp_path / "real.sql"
    real.write_text("")
    link = tmp_path / "link.sql"
    link.symlink_to(real)
    res = CliRunner().invoke(cli, [*command, str(link)])
    assert res.exit_code == 0, res.output
    assert link.is_symlink()
    assert real.read_text().startswith(("--\n-- PostgreSQL", ";\n; Archive"))


def test_closed_pipe_ends_quietly() -> None:
    proc = subprocess.run(f"{sys.executable} -m pgarchive sql {ARCHIVE} | head -c 100",
                          shell=True, capture_output=True)
    assert len(proc.stdout) == 100
    assert proc.stderr == b""


def test_keywords_are_postgresql_18s() -> None:
    """The embedded list is what kwlist.h of the installed PostgreSQL 18 says."""
    import pgenv

    kwlist = next(pgenv.bindir(18).parent.glob("include/server/parser/kwlist.h"))
    found = re.findall(r'^PG_KEYWORD\("(\w+)", \w+, (\w+), \w+\)', kwlist.read_text(), re.M)
    assert len(found) > 400
    assert {w for w, cat in found if cat != "UNRESERVED_KEYWORD"} == QUOTED_KEYWORDS


@pytest.mark.parametrize(("name", "quoted"), [
    ("orders", "orders"), ("order", '"order"'), ("user", '"user"'), ("Order", '"Order"'),
    ("_x9", "_x9"), ("9x", '"9x"'), ("a b", '"a b"'), ('say "hi"', '"say ""hi"""'),
    ("", '""'), ("zoë", '"zoë"'), ("abort", "abort"), ("bad\udce9", '"bad\udcc0 "'),
])
def test_fmt_id(name: str, quoted: str) -> None:
    assert fmt_id(name) == quoted


def test_literals_and_connect() -> None:
    assert string_literal("it's a\\b", "UTF8", True) == "'it''s a\\b'"
    assert string_literal("it's a\\b", "UTF8", False) == "'it''s a\\\\b'"
    assert psql_connect("corpus") == "\\connect corpus\n"
    assert psql_connect("my db") == ("\\encoding SQL_ASCII\n\\connect -reuse-previous=on "
                                     "\"dbname='my db'\"\n")


@pytest.mark.parametrize(("desc", "drop", "want", "warns"), [
    ("TABLE", "DROP TABLE app.t;\n", "DROP TABLE IF EXISTS app.t;\n", False),
    ("CONSTRAINT", "ALTER TABLE ONLY app.t DROP CONSTRAINT t_pkey;\n",
     "ALTER TABLE IF EXISTS ONLY app.t DROP CONSTRAINT IF EXISTS t_pkey;\n", False),
    ("DEFAULT", "ALTER TABLE app.t ALTER COLUMN id DROP DEFAULT;\n",
     "ALTER TABLE IF EXISTS app.t ALTER COLUMN id DROP DEFAULT;\n", False),
    ("RULE", "CREATE OR REPLACE VIEW v AS SELECT 1;\n",
     "CREATE OR REPLACE VIEW v AS SELECT 1;\n", False),
    ("PUBLICATION TABLE", "ALTER PUBLICATION p DROP TABLE ONLY t;\n",
     "ALTER PUBLICATION p DROP TABLE ONLY t;\n", True),
])
def test_if_exists_rewriting(desc: str, drop: str, want: str, warns: bool) -> None:
    text, warning = if_exists_statement(desc, drop)
    assert text == want
    assert (warning is not None) == warns



STRICT = [["-t", "nosuch"], ["-t", "orders", "-t", "nosuch", "-n", "nope"], ["-n", "app"],
          ["-I", "orders_customer_idx", "-I", "zzz"], ["-P", "nothere(integer)"],
          ["-T", "orders orders_touch"], ["-n", "app", "-t", "customers", "--section", "data"],
          ["-N", "app", "-t", "orders"], ["-t", "orders", "--section", "post-data"]]


@pytest.mark.parametrize("args", STRICT, ids=" ".join)
def test_strict_names_like_pg_restore(args: list[str], pg_restore: str) -> None:
    theirs = subprocess.run([pg_restore, "-l", "--strict-names", *args, ARCHIVE],
                            capture_output=True, text=True)
    ours = CliRunner().invoke(cli, ["sql", "--strict-names", *args, ARCHIVE, "-f",
                                    os.devnull])
    assert (ours.exit_code == 0) == (theirs.returncode == 0), (ours.output, theirs.stderr)
    if theirs.returncode:
        assert theirs.stderr.strip().removeprefix("pg_restore: error: ") in str(ours.exception)


@pytest.mark.parametrize("args", [
    ["-s", "--restrict-key", "k"], ["--restrict-key", "k"], ["--restrict-key", "k", "-s"],
    ["--schema-only", "--restrict-key", "k", "-f", "-"]])
@pytest.mark.parametrize("archive", ["custom.dump", "dir", "tar.tar", "custom_stats.dump"])
def test_quick_sql_writes_the_full_commands_script_without_click(
        args: list[str], archive: str, tmp_path: Path) -> None:
    """`sql ARCHIVE [-s] [--restrict-key K] [-f FILE]` is answered before click and the
    commands load (issue 15), with the bytes the full command writes, to stdout or a
    file."""
    path = str(TESTDATA / "pg18" / archive)
    full = CliRunner().invoke(cli, ["sql", path, *args])
    assert full.exit_code == 0
    assert entry_in_child("sql", path, *args) == (0, False, full.stdout_bytes, "")
    if "-f" not in args:
        out = tmp_path / "x.sql"
        assert entry_in_child("sql", *args, "-f", str(out), path)[:3] == (0, False, b"")
        assert out.read_bytes() == full.stdout_bytes


def test_quick_sql_leaves_everything_else_to_the_full_command(tmp_path: Path) -> None:
    """Another option, standard input, an option's value that looks like an option: the
    full command line answers; a failure ends with the full command's line and status."""
    from pgarchive.cli.quick import sql_args

    assert sql_args([ARCHIVE]) == (ARCHIVE, False, None, None)
    assert sql_args(["-s", ARCHIVE, "-f", "o", "--restrict-key", "k"]) == \
        (ARCHIVE, True, "k", "o")
    for args in (["-c", ARCHIVE], ["-", "-s"], [ARCHIVE, "-s", "-s"], [ARCHIVE, "x"],
                 [ARCHIVE, "--restrict-key", "-s"], [ARCHIVE, "-f"], [],
                 [ARCHIVE, "--restrict-key=k"], [ARCHIVE, "-t", "x"]):
        assert sql_args(args) is None, args
    cut = tmp_path / "cut.dump"
    cut.write_bytes(Path(ARCHIVE).read_bytes()[:300])
    for args in ([str(cut), "-s"], [str(tmp_path / "none")], [ARCHIVE, "--restrict-key", "a-b"]):
        quick = entry_in_child("sql", *args, "-f", str(tmp_path / "q.sql"))
        full = entry_in_child("sql", *args, "-O", "-f", str(tmp_path / "f.sql"))  # (-O: click's)
        assert (quick[1], full[1]) == (False, True), args
        assert quick[0] == full[0] == 2, args
        assert quick[3] == full[3] and quick[3].startswith("pgarchive: error: "), args
        assert quick[3].count("\n") == 1, args
        assert not (tmp_path / "q.sql").exists()
