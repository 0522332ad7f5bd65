"""verify --jobs 2 on one large custom data block: decoded in a child process
(childdecode.py), hashed and checked here.  Its report is --jobs 1's, damaged or not;
without fork it falls back to the read-ahead thread; a child that dies or is stopped
early is reaped, and the stream read again here."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

import pgarchive
import pgarchive.verify as verify_mod
from helpers import TESTDATA, one_table_archive
from pgarchive import childdecode
from pgarchive.format.blocks import BlockReader
from pgarchive.format.constants import Compression
from pgarchive.verify import verify


def _facts(report: Any) -> list[tuple[Any, ...]]:
    return [(e.dump_id, e.status, e.rows, e.raw_bytes, e.stored_bytes, e.large_objects,
             e.checksum, [(p.message, p.offset) for p in e.problems]) for e in report.entries]


def _no_children() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every data block large or small goes to a child; the list counts the children."""
    made: list[int] = []
    real = childdecode.ChildStream.__init__

    def init(self: Any, *args: Any, **kw: Any) -> None:
        made.append(1)
        real(self, *args, **kw)

    monkeypatch.setattr(childdecode.ChildStream, "__init__", init)
    monkeypatch.setattr(verify_mod, "CHILD_MIN", 0)
    return made


def _large(tmp: Path, method: Compression) -> Path:
    """A custom archive of one table of ~600 kB of COPY text (several ring slots of
    128 kB), compressed with ``method`` by the project's writer as pg_dump frames it."""
    rows = b"".join(b"%d\tname %d\t%s\t2024-01-01 00:00:%02d+00\n"
                    % (i, i * 7, b"x" * (i % 40), i % 60) for i in range(14000))
    return one_table_archive(tmp / f"large_{method.name}.dump",
                             [("a", "int"), ("b", "text"), ("c", "text"), ("d", "text")],
                             rows, method, chunk=40 << 10)


def _same_as_one_job(path: Path, dump_id: int) -> tuple[Any, Any]:
    one = verify(str(path), only={dump_id})
    two = verify(str(path), jobs=2, only={dump_id})
    assert _facts(two) == _facts(one)
    assert [(p.message, p.offset) for p in two.problems] == [
        (p.message, p.offset) for p in one.problems]
    return one, two


@pytest.mark.parametrize("name", ["custom_z0.dump", "custom.dump", "custom_lz4.dump",
                                  "custom_zstd.dump"])
def test_damaged_table_same_report_from_the_child(name: str, tmp_path: Path,
                                                  children: list[int]) -> None:
    """A byte changed anywhere in the table's block (a tab, or a bit of compressed data):
    the report of the child's reading is the report of --jobs 1, checksum included."""
    src = TESTDATA / "pg18" / name
    raw = src.read_bytes()
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "customers")
        start, size = e.data_offset or 0, a.stored_size(e) or 0
    damaged = 0
    for i, where in enumerate(range(start + 12, start + size, max(1, size // 12))):
        for change in ("tab", "bits"):
            bad = bytearray(raw)
            if change == "tab":
                bad[where] = ord(" ") if bad[where] == 9 else 9
            else:
                bad[where] ^= 0x55
            p = tmp_path / f"{i}{change}.dump"
            p.write_bytes(bad)
            children.clear()
            one, _two = _same_as_one_job(p, e.dump_id)
            assert children
            damaged += not one.ok
    assert damaged > 5
    assert _no_children()


@pytest.mark.parametrize("method", [Compression.NONE, Compression.GZIP, Compression.LZ4,
                                    Compression.ZSTD], ids=lambda m: m.name.lower())
def test_large_table_through_many_slots(method: Compression, tmp_path: Path,
                                        children: list[int],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A table through slots of 128 kB, the child taking the vector pass of every piece:
    intact and damaged, the same report as --jobs 1; the block's end comes from the
    child (not walked again here)."""
    monkeypatch.setattr(childdecode, "SLOT", 128 << 10)
    monkeypatch.setattr(childdecode, "SHARE_FROM", 0)
    hints: list[bool] = []
    real_iter = childdecode.ChildStream.__iter__

    def iterate(self: Any) -> Any:
        for item in real_iter(self):
            hints.append(item[2] is not None)
            yield item

    monkeypatch.setattr(childdecode.ChildStream, "__iter__", iterate)
    walked: list[int] = []
    real_skip = BlockReader.skip_block

    def skip_block(self: Any, hdr: Any) -> int:
        walked.append(hdr.dump_id)
        return real_skip(self, hdr)

    monkeypatch.setattr(BlockReader, "skip_block", skip_block)
    p = _large(tmp_path, method)
    one, _two = _same_as_one_job(p, 3)
    assert one.ok and children and len(hints) >= 4 and sum(hints) >= 3
    walked.clear()
    verify(str(p), jobs=2, only={3})
    assert 3 not in walked
    raw = p.read_bytes()
    with pgarchive.open(str(p)) as a:
        e = a.entry(3)
        start, size = e.data_offset or 0, a.stored_size(e) or 0
    for i, where in enumerate(range(start + 20, start + size, size // 9)):
        bad = bytearray(raw)
        bad[where] ^= 0x24  # a tab becomes a minus, other bytes change too
        q = tmp_path / f"bad{i}.dump"
        q.write_bytes(bad)
        one, _two = _same_as_one_job(q, 3)
    assert _no_children()


def test_without_fork_the_thread_reads_ahead(children: list[int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no child can be forked, the read-ahead thread reads the stream, as before."""
    monkeypatch.setattr(childdecode, "available", lambda: False)
    pipelines: list[int] = []
    real = verify_mod.read_ahead

    def spy(items: Any, **kw: Any) -> Any:
        pipelines.append(1)
        return real(items, **kw)

    monkeypatch.setattr(verify_mod, "read_ahead", spy)
    src = TESTDATA / "pg18" / "custom_lz4.dump"
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "customers")
    _same_as_one_job(src, e.dump_id)
    assert pipelines and not children


@pytest.mark.parametrize("name", ["custom_z0.dump", "custom_lz4.dump"])
def test_a_child_that_dies_is_reaped_and_the_stream_read_here(
        name: str, tmp_path: Path, children: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The child killed after its first piece: the stream is read again here (the same
    report as --jobs 1, progress counting each stored byte once), no hang, no zombie."""
    real = verify_mod._producer

    def dying(*args: Any) -> Any:
        produce = real(*args)

        def run(ring: Any) -> Any:
            put, flush = ring.put, ring.flush

            def killed(*a: Any) -> None:
                os.kill(os.getpid(), signal.SIGKILL)

            ring.put = lambda data: (put(data), killed())
            ring.flush = lambda n: (flush(n), killed())
            return produce(ring)
        return run

    monkeypatch.setattr(verify_mod, "_producer", dying)
    monkeypatch.setattr(childdecode, "SLOT", 128 << 10)
    src = TESTDATA / "pg18" / name
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "customers")
    counted: dict[int, int] = {1: 0, 2: 0}
    for jobs in (1, 2):
        def progress(n: int, jobs: int = jobs) -> None:
            counted[jobs] += n
        verify(str(src), jobs=jobs, only={e.dump_id}, progress=progress)
    _same_as_one_job(src, e.dump_id)
    assert children and counted[2] == counted[1] > 0
    assert _no_children()


def test_damage_found_here_stops_the_child(tmp_path: Path, children: list[int],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Damage in the first row: the checks stop there, the child is stopped and reaped
    (it has more to read), and the report is --jobs 1's."""
    monkeypatch.setattr(childdecode, "SLOT", 128 << 10)
    closed: list[bool] = []
    real_close = childdecode.ChildStream.close

    def close(self: Any) -> None:
        closed.append(self.ended is None)  # stopped before the end of the stream
        real_close(self)

    monkeypatch.setattr(childdecode.ChildStream, "close", close)
    p = _large(tmp_path, Compression.NONE)
    raw = bytearray(p.read_bytes())
    with pgarchive.open(str(p)) as a:
        at = raw.index(b"\t", a.entry(3).data_offset or 0)
    raw[at] = ord(" ")
    p.write_bytes(raw)
    one, _two = _same_as_one_job(p, 3)
    assert not one.ok and "columns" in one.entries[0].problems[0].message
    assert children and closed == [True] and _no_children()


@pytest.mark.parametrize("method", [Compression.NONE, Compression.LZ4],
                         ids=lambda m: m.name.lower())
def test_command_line_with_a_child(method: Compression, tmp_path: Path) -> None:
    """The command (which lets SIGPIPE end it, for ``| head``) with the child reading
    the table in slots of 128 kB: slots handed back after the child is done and gone do
    not kill it; the JSON report is --jobs 1's."""
    import json
    import subprocess
    import sys

    code = ("import sys, time, pgarchive.verify as v, pgarchive.childdecode as c; "
            "v.CHILD_MIN = 0; c.SLOT = 128 << 10; feed = v.CopyChecker.feed; "  # checks lag:
            "v.CopyChecker.feed = lambda *a: (time.sleep(0.02), feed(*a))[1]; "  # child ends
            "from pgarchive.cli import main; sys.argv[0] = 'pgarchive'; main()")
    path = str(_large(tmp_path, method))

    def report(jobs: str) -> dict[str, Any]:
        res = subprocess.run([sys.executable, "-c", code, "verify", "-j", jobs, "-F", "json",
                              "--data-only", path], capture_output=True)
        assert res.returncode == 0, res
        out = json.loads(res.stdout)
        for k in ("elapsed", "jobs"):
            out.pop(k, None)
        out["summary"].pop("elapsed")
        return dict(out)

    assert report("2") == report("1")


def test_no_process_to_be_had(children: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """fork refused (a process limit): the stream is read here, the report is --jobs 1's,
    and nothing the child would have used is left open."""
    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    src = TESTDATA / "pg18" / "custom_lz4.dump"
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "customers")
    verify(str(src), jobs=2, only={e.dump_id})  # (the files verify itself keeps, opened)
    before = len(os.listdir("/proc/self/fd"))
    _same_as_one_job(src, e.dump_id)
    assert children and len(os.listdir("/proc/self/fd")) == before


def test_insert_statements_from_the_child(children: list[int], tmp_path: Path) -> None:
    """pg_dump --inserts data (statements, not COPY rows) read by the child: --jobs 1's
    report, intact and with a byte of each table's block changed."""
    src = next(TESTDATA.glob("*/inserts_custom.dump"))
    with pgarchive.open(str(src)) as a:
        data = [(e.dump_id, e.data_offset or 0, a.stored_size(e) or 0)
                for e in a.entries if e.desc == "TABLE DATA" and not e.copy_stmt]
    assert data
    raw = src.read_bytes()
    damaged = 0
    for dump_id, start, size in data:
        one, _two = _same_as_one_job(src, dump_id)
        assert one.ok
        for where in range(start + 12, start + size, max(1, size // 4)):
            bad = bytearray(raw)
            bad[where] ^= 0x21
            p = tmp_path / f"{dump_id}_{where}.dump"
            p.write_bytes(bad)
            one, _two = _same_as_one_job(p, dump_id)
            damaged += not one.ok
    assert children and damaged
