"""``pgarchive sql`` writes exactly what PostgreSQL 18's ``pg_restore -f`` writes, for every
archive of the corpus and every option set of make_sql_goldens.py (goldens made by the
real pg_restore 18: testdata/sql/)."""

from __future__ import annotations

import difflib
import functools
import json
import subprocess
import tarfile
from typing import Any

import pytest
import zstandard
from click.testing import CliRunner

from helpers import TESTDATA, archive_path, corpus
from pgarchive.cli import cli

GOLDENS: dict[str, Any] = json.loads((TESTDATA / "sql" / "goldens.json").read_text())
KEY = GOLDENS["restrict_key"]
OPTION_SETS: list[list[str]] = GOLDENS["option_sets"]


@functools.cache
def whole_scripts() -> dict[str, bytes]:
    raw = zstandard.ZstdDecompressor().stream_reader(
        (TESTDATA / "sql" / "scripts.tar.zst").open("rb"))
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=raw, mode="r|") as tf:
        for member in tf:
            f = tf.extractfile(member)
            assert f is not None
            out[member.name.removesuffix(".sql")] = f.read()
    return out


def _theirs(path: str, args: list[str], digest: str) -> bytes | None:
    """The golden script: stored whole, or made again by pg_restore 18 for the diff."""
    if digest in whole_scripts():
        return whole_scripts()[digest]
    try:
        import pgenv

        exe = pgenv.bindir(18) / "pg_restore"
    except Exception:
        return None
    res = subprocess.run([str(exe), "-f", "-", "--restrict-key", KEY, *args, path],
                         capture_output=True, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
    return res.stdout


def _diff(ours: bytes, theirs: bytes | None) -> str:
    if theirs is None:
        return "(no pg_restore 18 here to show a diff)"
    lines = difflib.unified_diff(theirs.decode("utf-8", "replace").splitlines(),
                                 ours.decode("utf-8", "replace").splitlines(),
                                 "pg_restore 18", "pgarchive sql", lineterm="", n=2)
    return "\n".join(list(lines)[:60])


def _ours(path: str, args: list[str]) -> Any:
    return CliRunner().invoke(cli, ["sql", path, "--restrict-key", KEY, *args])


@pytest.mark.parametrize("item", corpus())
def test_script_is_pg_restores(item: dict[str, Any]) -> None:
    import hashlib

    path = archive_path(item)
    goldens = GOLDENS["archives"][item["archive"]]
    assert len(goldens) == len(OPTION_SETS)
    for args, want in zip(OPTION_SETS, goldens, strict=True):
        res = _ours(path, args)
        if want["status"] != 0:
            assert res.exit_code != 0, args
            continue
        assert res.exit_code == 0, (args, res.output, res.exception)
        ours = res.stdout_bytes
        got = hashlib.sha256(ours).hexdigest()
        if got != want["sha256"]:
            pytest.fail(f"{' '.join(args) or '(default options)'}: script differs from "
                        f"pg_restore 18's\n{_diff(ours, _theirs(path, args, want['sha256']))}")
        warnings = sorted(line.removeprefix("pgarchive: ") for line in
                          res.stderr.splitlines() if line.startswith("pgarchive: warning"))
        assert warnings == sorted(want["stderr"].splitlines()), args


def test_goldens_cover_every_script_option() -> None:
    """The option sets use every pg_restore option that changes a script."""
    used = {a for args in OPTION_SETS for a in args if a.startswith("-")}
    for option in ["-c", "--if-exists", "-C", "-O", "-x", "--role", "-S",
                   "--use-set-session-authorization", "--disable-triggers",
                   "--enable-row-security", "-1", "--transaction-size", "--no-comments",
                   "--no-policies", "--no-publications", "--no-subscriptions",
                   "--no-security-labels", "--no-tablespaces", "--no-table-access-method",
                   "-s", "-a", "--no-data", "--no-schema", "--statistics",
                   "--statistics-only", "--section", "-t"]:
        assert option in used, option


def test_whole_scripts_are_what_goldens_record() -> None:
    stored = whole_scripts()
    assert len(stored) >= 16
    for digest, text in stored.items():
        import hashlib

        assert hashlib.sha256(text).hexdigest() == digest

