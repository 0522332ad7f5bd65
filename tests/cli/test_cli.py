"""The command line: output formats, and one-line errors with a non-zero status."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import pgenv
from helpers import TESTDATA

PG18 = TESTDATA / "pg18"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, TZ="UTC")
    return subprocess.run([sys.executable, "-m", "pgarchive", *args], capture_output=True,
                          env=env, cwd=cwd)


ERROR_LINE = re.compile(r"^pgarchive: error: (?!internal error)\S[^\n]*\n$")


def assert_one_line_error(res: subprocess.CompletedProcess[bytes], *words: str) -> None:
    """The promise for bad input: exit status 2 and one line ``pgarchive: error: ...``
    (never an internal error, whose status is 70)."""
    err = res.stderr.decode()
    assert res.returncode == 2, (res.returncode, err)
    assert "Traceback" not in err
    assert ERROR_LINE.match(err), err
    for w in words:
        assert w in err, err


def test_info_json_facts() -> None:
    res = run("info", str(PG18 / "custom.dump"), "--json")
    assert res.returncode == 0
    facts = json.loads(res.stdout)
    assert facts["format"] == "custom"
    assert facts["archive_version"] == "1.16.0"
    assert facts["compression"] == "gzip"
    assert facts["dbname"] == "corpus"
    assert facts["pg_dump_version"] == "18.6"
    assert facts["toc_entries"] == sum(facts["types"].values())
    # one TABLE DATA per table of the corpus (tables.json: what the server has)
    tables = json.loads((PG18 / "tables.json").read_text())["tables"]
    assert facts["types"]["TABLE DATA"] == len(tables)
    size = (PG18 / "custom.dump").stat().st_size
    assert 0 < facts["stored_data_bytes"] < size


def test_info_table_mentions_counts() -> None:
    res = run("info", str(PG18 / "dir_zstd"))
    assert res.returncode == 0
    out = res.stdout.decode()
    assert "compression:" in out and "zstd" in out and "TABLE DATA" in out


def test_ls_json_has_every_field_and_sizes() -> None:
    res = run("ls", str(PG18 / "custom.dump"), "--json")
    rows = json.loads(res.stdout)
    data = [r for r in rows if r["desc"] == "TABLE DATA"]
    assert data and all(r["stored_size"] > 0 for r in data)
    assert {"defn", "copy_stmt", "dependencies", "tableam", "relkind"} <= set(rows[0])
    t = next(r for r in rows if r["desc"] == "TABLE" and r["tag"] == "customers")
    assert t["relkind"] == "r" and t["tableam"] == "heap"


def test_ls_csv_round_trips_names_with_newlines() -> None:
    res = run("ls", str(PG18 / "dir"), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout.decode())))
    assert any(r["tag"] == 'odd "quoted"\nname' for r in rows)


def test_ls_table_keeps_one_line_per_entry() -> None:
    res = run("ls", str(PG18 / "tar.tar"))
    lines = res.stdout.decode().splitlines()
    listed = run("ls", str(PG18 / "tar.tar"), "--json")
    assert len(lines) == 1 + len(json.loads(listed.stdout))
    assert any('odd "quoted"\\nname' in line for line in lines)


def test_ls_output_file(tmp_path: Path) -> None:
    out = tmp_path / "x.list"
    res = run("ls", str(PG18 / "custom.dump"), "-F", "list", "-o", str(out))
    assert res.returncode == 0 and res.stdout == b""
    assert out.read_bytes() == (PG18 / "expected" / "custom.dump.list").read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["x.list"]


@pytest.mark.parametrize("name, content, words", [
    ("missing.dump", None, ["missing.dump", "No such file"]),
    ("empty.dump", b"", ["empty"]),
    ("", None, ["no toc.dat"]),
    ("t.sql", b"--\n-- PostgreSQL database dump\n--\n\nSET x;\n", ["text format dump"]),
    ("junk", bytes(range(256)) * 8, ["not appear"]),
])
def test_bad_inputs_give_one_line(tmp_path: Path, name: str, content: bytes | None,
                                  words: list[str]) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    for cmd in ("info", "ls"):
        assert_one_line_error(run(cmd, str(path)), *words)


def test_unknown_option_is_one_line() -> None:
    assert_one_line_error(run("ls", str(PG18 / "custom.dump"), "--bogus"), "--bogus")


def test_newer_archive_version_is_named(tmp_path: Path) -> None:
    raw = bytearray((PG18 / "custom.dump").read_bytes())
    raw[6] = 17  # 1.17
    p = tmp_path / "future.dump"
    p.write_bytes(raw)
    assert_one_line_error(run("ls", str(p)), "1.17", "unsupported")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """No read permission (simulated: the tests may run as root, who reads everything)."""
    import builtins

    from pgarchive.cli import main

    p = tmp_path / "x.dump"
    p.write_bytes(b"PGDMP")
    real_open = builtins.open

    def deny(file: object, *a: object, **k: object) -> object:
        if str(file) == str(p):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(file, *a, **k)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(SystemExit) as exc:
        main(["ls", str(p)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == f"pgarchive: error: {p}: Permission denied\n"


def test_output_closed_early_is_quiet() -> None:
    cmd = f"{sys.executable} -m pgarchive ls --all {PG18 / 'custom.dump'} | head -1"
    res = subprocess.run(cmd, shell=True, capture_output=True)
    assert b"Traceback" not in res.stderr and res.stderr == b""


def test_ctrl_c_is_one_line(monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    import pgarchive.verify
    from pgarchive.cli import main

    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pgarchive.verify, "verify", interrupted)
    monkeypatch.setattr("os._exit", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(PG18 / "custom.dump")])
    assert exc.value.code == 130
    # click ends the ^C line first; then our one line
    assert capsys.readouterr().err.lstrip("\n") == "pgarchive: error: interrupted\n"


def test_folder_where_a_file_is_expected(tmp_path: Path) -> None:
    assert_one_line_error(run("ls", str(PG18 / "custom.dump"), "-L", str(tmp_path)),
                          "is a directory")
    assert_one_line_error(run("ls", str(PG18 / "custom.dump"), "-F", "list", "-o",
                              str(tmp_path)), "is a directory")


def test_tar_without_toc(tmp_path: Path) -> None:
    import io
    import tarfile

    p = tmp_path / "x.tar"
    with tarfile.open(p, "w", format=tarfile.USTAR_FORMAT) as tf:
        info = tarfile.TarInfo("3392.dat")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"\\.\n\n"))
    assert_one_line_error(run("ls", str(p)), "no toc.dat")


@pytest.mark.parametrize("name", ["custom.dump", "tar.tar", "dir"])
def test_header_naming_another_format_is_refused_as_pg_restore_does(tmp_path: Path,
                                                                    name: str) -> None:
    """The expectation is the real pg_restore 18's answer on the same damaged archive."""
    src = TESTDATA / "pg18" / name
    if src.is_dir():
        target = tmp_path / name
        shutil.copytree(src, target)
        toc = target / "toc.dat"
        start = 0
    else:
        target = toc = tmp_path / name
        shutil.copy(src, target)
        start = 0 if name != "tar.tar" else _tar_member_offset(target, "toc.dat")
    raw = bytearray(toc.read_bytes())
    raw[start + 10] = 2 if raw[start + 10] != 2 else 1  # the format byte (version >= 1.7)
    toc.write_bytes(bytes(raw))
    theirs = subprocess.run([str(pgenv.bindir(18) / "pg_restore"), "-l", str(target)],
                            capture_output=True)
    assert theirs.returncode != 0 and b"differs from format found in file" in theirs.stderr
    res = run("ls", "-F", "list", str(target))
    assert_one_line_error(res, "differs from format found in file")


def _tar_member_offset(path: Path, member: str) -> int:
    with tarfile.open(path) as t:
        return t.getmember(member).offset_data
