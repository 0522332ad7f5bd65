"""verify on intact and damaged real archives: every damaged entry named with its offset."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import TESTDATA, archive_path, corpus
from pgarchive import copytext
from pgarchive.errors import ArchiveError
from pgarchive.manifest import build_manifest, compare
from pgarchive.verify import verify


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pgarchive", *args], capture_output=True)


def _facts(report: Any) -> list[tuple[Any, ...]]:
    return [(e.dump_id, e.status, e.rows, e.raw_bytes, e.stored_bytes, e.large_objects,
             e.checksum, [(p.message, p.offset) for p in e.problems]) for e in report.entries]


@pytest.mark.parametrize("item", corpus())
def test_intact_archives_pass(item: dict[str, Any]) -> None:
    report = verify(archive_path(item))
    assert report.ok, [str(p) for p in report.all_problems()]
    with pgarchive.open(archive_path(item)) as a:
        assert len(report.entries) == sum(1 for e in a.entries if e.has_data)
    # Two jobs: worker processes, or (tar, piped custom) a read-ahead thread; same answer.
    assert _facts(verify(archive_path(item), jobs=2)) == _facts(report)


@pytest.mark.parametrize("item", corpus("pg1", lambda i: (
    (TESTDATA / i["group"] / "tables.json").exists()
    and not i["archive"].endswith("schema_only.dump"))))
def test_rows_match_server(item: dict[str, Any]) -> None:
    facts = json.loads((TESTDATA / item["group"] / "tables.json").read_text())
    report = verify(archive_path(item), jobs=2)
    for e in report.entries:
        if e.desc == "TABLE DATA":
            assert e.rows == facts["tables"][f"{e.namespace}.{e.tag}"]["rows"]
    los = sum(e.large_objects or 0 for e in report.entries if e.desc == "BLOBS")
    assert los == (len(facts["large_objects"]) if "data" in item["archive"] or
                   "schema" not in item["archive"] else 0)


def _data_span(path: str) -> tuple[int, int]:
    with pgarchive.open(path) as a:
        c: Any = a.container
        return c.data_start, c.size


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("name", ["custom.dump", "custom_z0.dump", "custom_lz4.dump",
                                  "custom_zstd.dump", "custom_pipe.dump"])
def test_truncation_inside_data(name: str, jobs: int, tmp_path: Path) -> None:
    src = str(TESTDATA / "pg18" / name)
    raw = Path(src).read_bytes()
    start, size = _data_span(src)
    p = tmp_path / name
    for cut in range(start + 1, size, max(1, (size - start) // 60)):
        p.write_bytes(raw[:cut])
        try:
            report = verify(str(p), jobs=jobs)
        except ArchiveError as e:  # offsets past the end are caught when opening
            assert "truncated" in str(e) and e.path == str(p)
            continue
        assert not report.ok, cut
        damaged = report.damaged
        assert damaged, cut
        first = damaged[0]
        assert first.problems[0].offset is not None or first.status == "missing"
        assert all(pr.entry for d in damaged for pr in d.problems)


@pytest.mark.parametrize("name", ["custom.dump", "custom_lz4.dump", "custom_zstd.dump"])
def test_flipped_compressed_bytes(name: str, tmp_path: Path) -> None:
    src = str(TESTDATA / "pg18" / name)
    raw = bytearray(Path(src).read_bytes())
    with pgarchive.open(src) as a:
        big = max((e for e in a.entries if e.desc == "TABLE DATA"),
                  key=lambda e: a.stored_size(e) or 0)
        start = big.data_offset or 0
        size = a.stored_size(big) or 0
    manifest = build_manifest(verify(src))
    direct = 0
    for i, where in enumerate(range(start + 30, start + size - 10, max(1, size // 12))):
        damaged = bytearray(raw)
        damaged[where] ^= 0x55
        p = tmp_path / f"flip{i}.dump"
        p.write_bytes(damaged)
        report = verify(str(p))
        bad = [e for e in report.damaged if e.dump_id == big.dump_id]
        if bad:
            direct += 1
            assert bad[0].problems[0].offset is not None
            assert start <= bad[0].problems[0].offset < start + size
        else:
            # lz4/zstd frames from pg_dump carry no checksum: the manifest must catch it
            assert report.notes and name != "custom.dump", (name, where)
            assert any(pr.dump_id == big.dump_id for pr in compare(report, manifest, "m"))
    assert direct > 0


def test_flipped_uncompressed_bytes_caught_by_manifest(tmp_path: Path) -> None:
    src = TESTDATA / "pg18" / "custom_z0.dump"
    report = verify(str(src))
    manifest = build_manifest(report)
    raw = bytearray(src.read_bytes())
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "customers")
    pos = raw.index(b"name 5", e.data_offset)
    raw[pos] = ord("N")  # a letter for a letter: COPY structure stays valid
    p = tmp_path / "z0.dump"
    p.write_bytes(raw)
    again = verify(str(p))
    assert again.ok  # the format itself cannot see it...
    problems = compare(again, manifest, "m.json")
    assert any(pr.dump_id == e.dump_id and "checksum" in pr.message for pr in problems)


def test_manifest_mismatch_belongs_to_the_entry(tmp_path: Path) -> None:
    """With --manifest, the entry whose checksum changed shows ``changed`` (table and
    JSON) and counts as damaged; the "only caught with --manifest" note is not printed."""
    src = TESTDATA / "pg18" / "custom_z0.dump"
    m = tmp_path / "m.json"
    assert cli("verify", str(src), "--write-manifest", str(m)).returncode == 0
    raw = bytearray(src.read_bytes())
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "customers")
    pos = raw.index(b"name 5", e.data_offset)
    raw[pos] = ord("N")
    p = tmp_path / "z0.dump"
    p.write_bytes(raw)
    res = cli("verify", str(p), "--manifest", str(m))
    out = res.stdout.decode()
    assert res.returncode == 1, out
    row = next(line for line in out.splitlines() if line.startswith(f"{e.dump_id} "))
    assert row.split()[-1] == "changed"
    assert "1 damaged, 1 problems" in out and "only caught with --manifest" not in out
    assert "note:" not in out
    js = json.loads(cli("verify", str(p), "--manifest", str(m), "-F", "json").stdout)
    entry = next(x for x in js["entries"] if x["dump_id"] == e.dump_id)
    assert entry["status"] == "changed" and "checksum changed" in entry["problems"][0]["message"]
    assert js["summary"]["damaged"] == 1 and js["notes"] == []
    assert all(x["status"] == "ok" for x in js["entries"] if x["dump_id"] != e.dump_id)


def test_copy_structure_damage_in_uncompressed_data(tmp_path: Path) -> None:
    src = TESTDATA / "pg18" / "custom_z0.dump"
    raw = bytearray(src.read_bytes())
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "orders")
    tab = raw.index(b"\t", e.data_offset + 20)
    raw[tab] = ord(" ")
    p = tmp_path / "z0.dump"
    p.write_bytes(raw)
    report = verify(str(p))
    (bad,) = report.damaged
    assert bad.dump_id == e.dump_id and "columns" in bad.problems[0].message


@pytest.mark.parametrize("name", ["custom_z0.dump", "custom_lz4.dump", "custom_zstd.dump"])
def test_one_table_damaged_same_report_with_the_read_ahead_thread(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: one compressed table with --jobs 2 is read by a thread ahead of the
    checks; a damaged byte anywhere in its data is reported exactly as --jobs 1 reports
    it, checksum included (and the thread really ran).  Uncompressed data is read by the
    checking thread itself, through the entry's own offsets rather than the walk of
    --jobs 1: a damaged chunk length that makes a chunk swallow the rows after it is
    reported both ways with the rows found wrong and, past them, the broken length the
    block's end is looked for through (at its offset, with its value).  The thread's
    share of the checks (each piece's whole rows, vectorised) changes nothing either."""
    import pgarchive.verify as verify_mod

    src = TESTDATA / "pg18" / name
    raw = Path(src).read_bytes()
    with pgarchive.open(str(src)) as a:
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "orders")
        start, size = e.data_offset or 0, a.stored_size(e) or 0
    pipelines: list[int] = []
    hints: list[int] = []
    real = verify_mod.read_ahead

    def spy(items: Any, **kw: Any) -> Any:
        """The read-ahead thread, taking its share of the checks on every piece (as if
        it were always ahead), not only when it happens to be."""
        pipelines.append(1)
        spare = kw.pop("spare")

        def shared(item: Any) -> Any:
            item = spare(item)
            hints.append(item[1] is not None)
            return item
        return real(map(shared, items), **kw)

    monkeypatch.setattr(verify_mod, "read_ahead", spy)
    monkeypatch.setattr(verify_mod, "PIECE", 1024)  # pieces of 1 kB (both ways alike):
    monkeypatch.setattr(verify_mod, "PIECE_AHEAD", 1024)  # reads go past the damage
    monkeypatch.setattr(copytext, "_VECTOR_MIN", 64)  # ranges of 1 kB pieces vectorised
    damaged = 0
    lengths: list[str] = []
    for i, where in enumerate(range(start + 12, start + size, max(1, size // 15))):
        bad = bytearray(raw)
        bad[where] = ord(" ") if bad[where] == 9 else 9  # a tab, or not one any more
        p = tmp_path / f"{i}.dump"
        p.write_bytes(bad)
        pipelines.clear()
        one = verify(str(p), only={e.dump_id})
        assert not pipelines
        two = verify(str(p), jobs=2, only={e.dump_id})
        assert bool(pipelines) == (name != "custom_z0.dump")
        assert _facts(two) == _facts(one), where
        # nor, where a block's end is lost, a layout finding (its own block "repeated")
        assert [(p.message, p.offset) for p in two.problems] == [
            (p.message, p.offset) for p in one.problems], where
        damaged += not one.ok
        lengths += [p.message for p in one.all_problems() if "chunk length" in p.message]
    assert damaged > 5
    assert (sum(hints) > 10) == (name != "custom_z0.dump")
    if name == "custom_z0.dump":  # one chunk a row: some of the damage is in a length
        assert lengths and all(re.fullmatch(r"negative chunk length -\d+", m) for m in lengths)


def test_flipped_toc_byte_caught_by_manifest(tmp_path: Path) -> None:
    src = TESTDATA / "pg18" / "custom.dump"
    manifest = build_manifest(verify(str(src)))
    raw = bytearray(src.read_bytes())
    pos = raw.index(b"CREATE TABLE app.orders")
    raw[pos + 7] = ord("t")
    p = tmp_path / "t.dump"
    p.write_bytes(raw)
    problems = compare(verify(str(p)), manifest, "m.json")
    assert any("changed" in pr.message for pr in problems)


def _copy_dir(name: str, tmp_path: Path) -> Path:
    d = tmp_path / name
    shutil.copytree(TESTDATA / "pg18" / name, d)
    return d


@pytest.mark.parametrize("name", ["dir", "dir_lz4", "dir_zstd", "dir_z0"])
def test_directory_file_deleted_added_truncated(name: str, tmp_path: Path) -> None:
    d = _copy_dir(name, tmp_path)
    manifest = build_manifest(verify(str(d)))
    data_files = sorted(p for p in d.iterdir() if p.name[0].isdigit())
    data_files[0].unlink()
    (d / "stray.dat").write_bytes(b"x")
    blob = next(p for p in d.iterdir() if p.name.startswith("blob_"))
    blob.write_bytes(blob.read_bytes()[:-3])
    report = verify(str(d), jobs=2)
    assert not report.ok
    statuses = {e.dump_id: e.status for e in report.damaged}
    missing_id = int(data_files[0].name.split(".")[0])
    assert statuses[missing_id] == "missing"
    if name == "dir_z0":  # raw LO bytes: no size or structure to check, the manifest sees it
        assert any("raw_bytes changed" in p.message for p in compare(report, manifest, "m"))
    else:
        assert any(e.desc == "BLOBS" for e in report.damaged)
    assert any("stray.dat" in n for n in report.notes)  # pg_restore ignores it: a note
    assert any("stray.dat" in p.message for p in verify(str(d), strict=True).problems)


def test_tar_member_cut_short(tmp_path: Path) -> None:
    src = TESTDATA / "pg18" / "tar.tar"
    raw = src.read_bytes()
    with pgarchive.open(str(src)) as a:
        c: Any = a.container
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "orders")
        m = c.members[e.filename]
    p = tmp_path / "t.tar"
    p.write_bytes(raw[:m.offset + m.size // 2])
    report = verify(str(p))
    bad = {r.dump_id: r for r in report.damaged}
    assert e.dump_id in bad
    assert bad[e.dump_id].problems[0].offset is not None


def test_cli_exit_status_and_json(tmp_path: Path) -> None:
    good = cli("verify", str(TESTDATA / "pg18" / "custom.dump"), "--json")
    assert good.returncode == 0
    doc = json.loads(good.stdout)
    assert doc["hash"] == "xxh3_128" and doc["summary"]["ok"]
    raw = (TESTDATA / "pg18" / "custom.dump").read_bytes()
    p = tmp_path / "cut.dump"
    p.write_bytes(raw[:-100])
    bad = cli("verify", str(p))
    assert bad.returncode == 1
    assert b"damage:" in bad.stdout and b"DAMAGED" in bad.stdout
    assert b"Traceback" not in bad.stderr and bad.stderr == b""  # no progress bar off a tty
    unreadable = cli("verify", str(tmp_path / "nope.dump"))
    assert unreadable.returncode == 2 and unreadable.stderr.startswith(b"pgarchive: error:")


def test_cli_manifest_round_trip(tmp_path: Path) -> None:
    m = tmp_path / "m.json"
    src = str(TESTDATA / "pg18" / "dir")
    assert cli("verify", src, "--write-manifest", str(m)).returncode == 0
    assert cli("verify", src, "--manifest", str(m)).returncode == 0
    other = cli("verify", str(TESTDATA / "pg17" / "dir"), "--manifest", str(m))
    assert other.returncode == 1  # a different dump: TOC checksums differ
    assert os.listdir(tmp_path) == ["m.json"]


def test_selection_reads_only_the_selected_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify -t: the other entries' data is never read (a directory archive's files
    stay closed), and the report is the one of the whole run, cut to the selection."""
    from pgarchive.containers import DirectoryContainer

    path = str(TESTDATA / "pg18" / "dir")
    whole = verify(path)
    pick = {whole.entries[0].dump_id, whole.entries[-1].dump_id}
    asked: list[int] = []
    real = DirectoryContainer.stored_streams

    def spy(self: DirectoryContainer, entry: Any) -> Any:
        asked.append(entry.dump_id)
        return real(self, entry)

    monkeypatch.setattr(DirectoryContainer, "stored_streams", spy)
    for jobs in (1, 2):
        asked.clear()
        part = verify(path, jobs=jobs, only=pick)
        assert _facts(part) == [f for f in _facts(whole) if f[0] in pick]
        if jobs == 1:  # (with -j2 the reading happens in the worker processes)
            assert sorted(asked) == sorted(pick)


def test_verify_compares_with_a_manifest(tmp_path: Path) -> None:
    """verify(manifest=...) reads the manifest first and puts the differences in the
    report, as the CLI's --manifest does."""
    src = TESTDATA / "pg18" / "custom_z0.dump"
    m = tmp_path / "m.json"
    m.write_text(json.dumps(build_manifest(verify(str(src)))))
    same = verify(str(src), manifest=str(m))
    assert same.ok and not any("only caught with --manifest" in n for n in same.notes)
    other = verify(str(TESTDATA / "pg17" / "custom_z0.dump"), manifest=str(m))
    assert not other.ok and other.problems
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ArchiveError, match="not a pgarchive manifest"):
        verify(str(src), manifest=str(tmp_path / "bad.json"))


@pytest.mark.parametrize("cut", [30, 500, 5000])
def test_damaged_custom_archive_same_report_with_one_or_two_jobs(tmp_path: Path,
                                                                  cut: int) -> None:
    """Issue 12, item 4 (and issue 10's cut archive that stays inspectable): --jobs 2 reads
    entries by their TOC offsets, which cannot tell a cut block from a stray one; on
    damage its report is the one pass's, the same as --jobs 1 (no invented framing
    problems, the same status for each entry)."""
    data = (TESTDATA / "pg18" / "custom.dump").read_bytes()
    path = tmp_path / "cut.dump"
    path.write_bytes(data[:-cut])

    def plain(jobs: int) -> dict[str, object]:
        d = verify(str(path), jobs=jobs).to_dict()
        for k in ("elapsed", "jobs"):
            d.pop(k, None)
        d["summary"].pop("elapsed")
        return d

    one, two = plain(1), plain(2)
    assert not one["summary"]["ok"]
    assert one == two


def test_tar_member_padding_changed_is_damage(tmp_path: Path) -> None:
    """Issue 10: a tar changed outside what pg_restore reads -- here a byte of the zero
    padding after restore.sql, pg_dump's last member -- is not what pg_dump wrote: damage,
    naming the member, saying pg_restore would not notice."""
    import io
    import tarfile

    raw = bytearray((TESTDATA / "pg18" / "tar.tar").read_bytes())
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tf:
        last = tf.getmembers()[-1]
    assert last.name == "restore.sql" and last.size % 512
    raw[last.offset_data + last.size] = ord("A")
    path = tmp_path / "a.tar"
    path.write_bytes(bytes(raw))
    report = verify(str(path))
    assert not report.ok
    assert [p.message for p in report.problems] == [
        "the padding after tar member 'restore.sql' holds data (tar writes zeros there) "
        "(pg_restore would not notice: it never reads there)"]


@pytest.mark.parametrize("name", ["custom_z0.dump", "custom.dump"])
def test_broken_block_framing_loses_only_that_entry(name: str, tmp_path: Path) -> None:
    """Issue 10: a data block whose chunk lengths are broken (its end is lost) damages that
    entry only.  With --jobs 1 the walk goes on at the next data offset the TOC gives, as
    --jobs 2 reads each entry at its own offset: the later tables are intact, not "no data
    block found", and both reports are the same."""
    src = TESTDATA / "pg18" / name
    raw = bytearray(src.read_bytes())
    with pgarchive.open(str(src)) as a:
        data = [e for e in a.entries if e.has_data and e.desc == "TABLE DATA"]
        first = data[0]
        int_size = a.header.int_size
    # the block: type byte, dump id, then the first chunk's length: its sign byte set
    raw[(first.data_offset or 0) + 1 + (1 + int_size)] = 1
    p = tmp_path / name
    p.write_bytes(raw)
    one = verify(str(p))
    bad = [e for e in one.entries if e.status != "ok"]
    assert [e.dump_id for e in bad] == [first.dump_id]
    assert any("negative chunk length" in pr.message for pr in bad[0].problems)
    assert sum(e.status == "ok" for e in one.entries) == len(one.entries) - 1 >= 3
    assert _facts(verify(str(p), jobs=2)) == _facts(one)
