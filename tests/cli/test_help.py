"""Help and messages, as text: every option says what it does, every command ends its help
with examples, the top-level help shows whole descriptions, usage errors show the usage."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from helpers import TESTDATA
from pgarchive.cli import cli

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help(name: str) -> None:
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help and param.help.strip().endswith((".", ")")), \
                (name, param.opts)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_ends_with_examples(name: str) -> None:
    res = CliRunner().invoke(cli, [name, "-h"])
    assert res.exit_code == 0
    text = res.output
    assert text.count("Examples:\n") == 1, text
    # The examples block ends at the first blank line or at the options; an example's
    # second line is indented further than the examples themselves.
    block = text.split("Examples:\n", 1)[1].split("\n\n", 1)[0].split("\nOptions:", 1)[0]
    indent = len(block) - len(block.lstrip(" "))
    lines = [x.strip() for x in block.splitlines() if len(x) - len(x.lstrip(" ")) == indent]
    assert 1 <= len(lines) <= 6, lines
    assert all(x.startswith(f"pgarchive {name} ") for x in lines), lines


def test_top_level_help_shows_whole_descriptions() -> None:
    res = CliRunner().invoke(cli, ["--help"])
    commands = res.output.split("Commands:", 1)[1]
    text = " ".join(res.output.split())
    assert "..." not in commands and "…" not in commands
    assert ("restore Restore the archive, or the selected part, with pg_restore or natively: "
            "checked before, watched while it runs, row counts compared after.") in text
    assert "Run 'pgarchive COMMAND -h' for a command's options and examples." in text


@pytest.mark.parametrize("name", COMMANDS)
def test_missing_archive_shows_the_usage(name: str) -> None:
    res = subprocess.run([sys.executable, "-m", "pgarchive", name], capture_output=True,
                         text=True)
    assert res.returncode == 2
    first = next(p for p in cli.commands[name].params if isinstance(p, click.Argument))
    arg = first.human_readable_name  # ARCHIVE; SRC for convert
    lines = res.stderr.splitlines()
    assert lines[0].startswith(f"Usage: pgarchive {name} [OPTIONS] {arg}")
    assert lines[1] == f"Try 'pgarchive {name} -h' for help."
    assert lines[-1] == f"pgarchive: error: Missing argument '{arg}'."


def test_ls_warns_about_names_that_match_nothing() -> None:
    res = CliRunner().invoke(cli, ["ls", str(TESTDATA / "pg18" / "custom.dump"), "-t",
                                   "Orders", "-F", "list"])
    assert res.exit_code == 0
    assert ("pgarchive: warning: -t Orders matched nothing (did you mean orders? names are "
            "case-sensitive)") in res.stderr
    assert "pgarchive: warning: the selection matches no entry" in res.stderr


def test_connection_error_is_sentences() -> None:
    from pgarchive.restore.preflight import connection_error

    text = ('connection failed: connection to server at "127.0.0.1", port 1 failed: '
            'Connection refused\n\tIs the server running on that host and accepting TCP/IP '
            'connections?')
    assert connection_error(text) == (
        'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection '
        'refused. Is the server running on that host and accepting TCP/IP connections?')


def test_start_up_loads_no_reader() -> None:
    """Issue 10: `pgarchive --version` and `--help` load the command line only; the readers,
    decompressors, database driver and package metadata come when a command needs them
    (benchmarks/bench_startup.py measures the time)."""
    heavy = ["pgarchive.archive", "pgarchive.compression", "pgarchive.containers",
             "pgarchive.fileio", "construct", "zstandard", "lz4", "psycopg",
             "importlib.metadata", "tempfile"]
    code = ("import sys, pgarchive.cli\n"
            "pgarchive.cli.cli.main(['--version'], 'pgarchive', standalone_mode=False)\n"
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.startswith("pgarchive, version ")
    assert out.stdout.splitlines()[-1] == "[]", out.stdout
    # the entry point answers --version before click and the commands are imported
    code = ("import sys\nfrom pgarchive.cli import main\nsys.argv = ['pgarchive', '--version']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print(code, [m for m in ['click', 'pgarchive.cli.entry'] if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    import pgarchive

    assert out.stdout == f"pgarchive, version {pgarchive.__version__}\n0 []\n", out.stdout
    # and the lazy names of the package still resolve

    assert pgarchive.open and pgarchive.TocEntry and pgarchive.ArchiveError
