"""Issue 18 (performance): a conversion that copies its data is little more than ``cp``, so
what it imports counts.  Only the writer of the kind written is imported (tar's brings
tarfile), and a plain conversion is answered without click.  (The TOC is written through
construct, the format's one declarative description, whose import is most of what is left.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TESTDATA

PROBE = """\
import sys
from pgarchive.cli import main
sys.argv = ['pgarchive', 'convert', *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
sys.stderr.write(repr(sorted(m for m in ('tarfile', 'click')
                           if m in sys.modules)))
"""


@pytest.mark.parametrize(("kind", "loaded"), [("custom", []), ("directory", []),
                                              ("tar", ["tarfile"])])
def test_converting_imports_only_the_writer_it_needs(kind: str, loaded: list[str],
                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", PROBE, str(TESTDATA / "pg18" / "custom.dump"),
                           str(out), "-F", kind, "--no-sync"], capture_output=True, check=True)
    assert out.exists() and done.stderr.decode() == repr(loaded)


def _run(*args: str, cwd: Path) -> tuple[int, bool, str, str]:
    """(exit status, whether click was loaded, stdout with the time taken blanked,
    stderr) of ``pgarchive convert ARGS``."""
    probe = ("import sys\nfrom pgarchive.cli import main\n"
             "sys.argv = ['pgarchive', 'convert', *sys.argv[1:]]\n"
             "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
             "sys.stdout.flush()\nsys.stderr.write(f'\\n{code or 0} {\"click\" in sys.modules}')\n")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                          text=True, cwd=cwd)
    err, status = done.stderr.rsplit("\n", 1)
    code, click = status.split()
    out = re.sub(r"in \d+\.\d\d s|\"elapsed\": [0-9.e-]+", "TIME", done.stdout)
    return int(code), click == "True", out, err


@pytest.mark.parametrize("args", [[], ["-F", "d"], ["--format", "tar", "--json"],
                                  ["--no-sync", "--force", "-F", "custom"]])
def test_plain_conversions_skip_click_and_do_what_the_command_does(
        args: list[str], tmp_path: Path) -> None:
    """The quick path (no option but -F, --no-sync, --force, --json) writes the archive
    and the report the full command line writes (made to answer by -j 1).  (Tar from a
    tar: its members keep the source's time, where a new one would be stamped now.)"""
    src = str(TESTDATA / "pg18" / ("tar.tar" if "tar" in args else "custom_lz4.dump"))
    quick = _run(src, "quick", *args, cwd=tmp_path)
    full = _run(src, "full", *args, "-j", "1", cwd=tmp_path)
    assert (quick[0], quick[1], full[0], full[1]) == (0, False, 0, True)
    assert quick[2].replace("quick", "X") == full[2].replace("full", "X") and quick[2]
    assert quick[3] == full[3] == ""
    assert _files(tmp_path / "quick") == _files(tmp_path / "full")


def _files(path: Path) -> dict[str, bytes]:
    """An archive's files by name ("" for a single-file archive)."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir()}
    return {"": path.read_bytes()}


def test_failed_plain_conversions_end_as_the_command_does(tmp_path: Path) -> None:
    """A missing source, a DST that exists, a damaged archive: the quick path's error line
    and exit status are the full command's (still without click), and nothing is left
    behind."""
    raw = (TESTDATA / "pg18" / "custom.dump").read_bytes()
    (tmp_path / "cut.dump").write_bytes(raw[:len(raw) * 2 // 3])
    (tmp_path / "there.dump").write_bytes(b"x")
    for args in (["missing.dump", "out.dump"], ["cut.dump", "there.dump"],
                 ["cut.dump", "out.dump"], ["cut.dump", "out", "-F", "d"]):
        quick = _run(*args, cwd=tmp_path)
        full = _run(*args, "-j", "1", cwd=tmp_path)
        assert (quick[0], quick[1], full[1]) == (2, False, True), args
        assert quick[2:] == full[2:] and quick[3].startswith("pgarchive: error: "), args
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.dump", "there.dump"]


def test_anything_else_goes_to_the_full_command() -> None:
    from pgarchive.cli.quick import convert_args

    assert convert_args(["a", "b"]) == ("a", "b", None, set())
    assert convert_args(["-F", "t", "a", "--json", "b", "--force"]) == \
        ("a", "b", "tar", {"--json", "--force"})
    for args in (["a"], ["a", "b", "c"], ["a", "b", "-j", "2"], ["a", "b", "-Fd"],
                 ["a", "b", "-F", "x"], ["a", "-"], ["a", "b", "-t", "x"], ["a", "b", "-F"],
                 ["a", "b", "--verify"], ["--", "a", "b"], ["a", "b", "-h"]):
        assert convert_args(args) is None, args
