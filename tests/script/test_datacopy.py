"""The fast paths of table data into the script (lz4 and zstd decoded in place, uncompressed
rows written by writev) write what the generic path writes, and fail as it fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pgarchive import nativedecode
from pgarchive.cli import cli
from pgarchive.format.constants import ArchiveFormat, Compression, OffsetFlag, Section
from pgarchive.format.model import Header, TocEntry
from pgarchive.format.writer import build_custom, compress_stream
from pgarchive.script import datacopy

ROWS = b"".join(b"%d\trow %d with some text to compress\n" % (i, i * 7) for i in range(60_000))


def _header(compression: Compression) -> Header:
    return Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, compression, None,
                  (0, 0, 12, 1, 0, 126, 0), "db", "18.0", "18.0", 0, 0)


def _entries() -> list[TocEntry]:
    common: dict[str, Any] = {
        "table_oid": 1259, "namespace": "public", "tablespace": "", "tableam": "heap",
        "owner": "alice", "with_oids": False, "drop_stmt": "", "data_offset": 0,
        "offset_flag": OffsetFlag.NO_DATA}
    table = TocEntry(dump_id=1, had_dumper=False, oid=16001, tag="t", desc="TABLE",
                     section=Section.PRE_DATA, defn="CREATE TABLE public.t (a int, b text);\n",
                     copy_stmt=None, relkind=ord("r"), dependencies=(), **common)
    data = TocEntry(dump_id=2, had_dumper=True, oid=16002, tag="t", desc="TABLE DATA",
                    section=Section.DATA, defn="", copy_stmt="COPY public.t (a, b) FROM stdin;\n",
                    relkind=0, dependencies=(1,), **common)
    return [table, data]


def _archive(tmp: Path, method: Compression, case: str) -> Path:
    """An archive whose data is ROWS, then changed by ``case``: as written, with its stored
    stream emptied, cut short, followed by bytes, or with a byte flipped; or the file cut."""
    chunk = 7 if method == Compression.NONE else 1000  # many chunks: windows, runs, spans
    raw = build_custom(_header(method), _entries(), {2: b""})  # the block is last: its end
    empty = compress_stream(b"", method)
    at = len(raw) - 5 - (5 + len(empty) if empty else 0)
    stream = compress_stream(ROWS, method)
    changed = {"intact": stream, "empty": b"", "short": stream[:-9],
               "trailing": stream + b"\x00garbage",
               "flipped": stream[:len(stream) // 2] + bytes([stream[len(stream) // 2] ^ 0x5A])
               + stream[len(stream) // 2 + 1:]}.get(case, stream)
    pieces = [changed[i:i + chunk] for i in range(0, len(changed), chunk)]
    body = b"".join(b"\0" + len(p).to_bytes(4, "little") + p for p in pieces)
    raw = raw[:at] + body + raw[-5:]
    if case == "cut":
        raw = raw[:len(raw) - len(raw[at:]) // 3]
    p = tmp / f"{method.name.lower()}_{case}.dump"
    p.write_bytes(raw)
    return p


def _sql(archive: Path, target: Path, stdout: bool) -> tuple[int, str, bytes | None]:
    """(exit status, error, script) of ``sql``, to a file or to standard output."""
    args = ["sql", "--restrict-key", "k", str(archive)]
    res = CliRunner().invoke(cli, args if stdout else [*args, "-f", str(target)])
    script = res.stdout_bytes if stdout else (target.read_bytes() if target.exists() else None)
    return res.exit_code, repr(res.exception), script


@pytest.mark.parametrize("stdout", [False, True], ids=["file", "stdout"])
@pytest.mark.parametrize("case", ["intact", "empty", "short", "trailing", "flipped", "cut"])
@pytest.mark.parametrize("method", [Compression.LZ4, Compression.ZSTD, Compression.NONE],
                         ids=lambda m: m.name.lower())
def test_fast_paths_write_and_fail_as_the_generic_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: Compression, case: str,
        stdout: bool) -> None:
    p = _archive(tmp_path, method, case)
    taken: list[bool] = []
    real = datacopy._copied_fast

    def spy(*args: Any) -> bool:
        taken.append(False)
        taken[-1] = real(*args)  # (a fast path that finds damage raises the generic error)
        return taken[-1]

    monkeypatch.setattr(datacopy, "_copied_fast", spy)
    fast = _sql(p, tmp_path / "fast.sql", stdout)
    # the fast path was taken (uncompressed data needs a file descriptor to writev to)
    assert taken == [not (stdout and method == Compression.NONE)] or fast[0] != 0
    monkeypatch.setattr(datacopy, "_copied_fast", lambda *a: False)
    generic = _sql(p, tmp_path / "generic.sql", stdout)
    if case == "intact":
        assert fast[0] == 0 and fast[2] is not None and ROWS in fast[2]
    if fast[0] != 0 and stdout:  # what came before the error: the same script, less data
        assert fast[:2] == generic[:2]
    else:
        assert fast == generic


def test_uncompressed_rows_through_a_pipe(tmp_path: Path) -> None:
    """writev to a pipe (the reader may take less than a run at a time)."""
    p = _archive(tmp_path, Compression.NONE, "intact")
    out = subprocess.run([sys.executable, "-m", "pgarchive", "sql", "--restrict-key", "k",
                          str(p)], capture_output=True, timeout=120, check=True).stdout
    assert _sql(p, tmp_path / "f.sql", False)[2] == out


def test_native_decoders_load_here() -> None:
    """The installed lz4 and zstandard packages (or the system's libraries) give them: the
    fast paths are what the tests above test."""
    assert nativedecode.lz4() is not None and nativedecode.zstd() is not None
