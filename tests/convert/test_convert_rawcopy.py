"""Data kept as it is, copied file to file (convert/rawcopy.py): a custom archive's blocks
whole, with their chunk lengths walked beside the copy; lz4 and zstd table data into a
directory archive's files chunk by chunk.  Each fast path must be the one taken, give
pg_dump's bytes, and still give them where the kernel's copy is unavailable."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import TESTDATA
from pgarchive.convert import ConvertOptions, convert, rawcopy
from pgarchive.errors import ArchiveError

PG18 = TESTDATA / "pg18"


def _no_kernel_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: Any) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refuse)


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """What each table's bulk copy of chunk payloads returned (the end of its chunk list;
    None where it gave up)."""
    from pgarchive.convert import directory

    calls: list[int | None] = []
    real = rawcopy.copy_payloads

    def copy_payloads(*args: Any) -> int | None:
        calls.append(real(*args))
        return calls[-1]

    monkeypatch.setattr(directory, "copy_payloads", copy_payloads)
    return calls


def _same_as_pg_dump(out: Path, method: str) -> None:
    theirs = PG18 / f"dir_{method}"
    assert sorted(os.listdir(out)) == sorted(os.listdir(theirs))
    for name in os.listdir(theirs):
        if name != "toc.dat":
            assert (out / name).read_bytes() == (theirs / name).read_bytes(), name


@pytest.mark.parametrize("kernel", [True, False], ids=["copy_file_range", "read-write"])
@pytest.mark.parametrize("method", ["lz4", "zstd"])
def test_custom_to_directory_copies_lz4_and_zstd_chunks(method: str, kernel: bool,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table's file is pg_dump's own (the corpus's directory archive of the same
    dump), written by the bulk copy of the chunks' payloads; large objects go the stream
    way."""
    if not kernel:
        _no_kernel_copy(monkeypatch)
    calls = _spied(monkeypatch)
    out = tmp_path / "d"
    report = convert(str(PG18 / f"custom_{method}.dump"), str(out),
                     ConvertOptions(kind="directory"))
    assert report.recompressed == report.rewrapped == 0
    _same_as_pg_dump(out, method)
    tables = sum(1 for n in os.listdir(PG18 / f"dir_{method}") if n[0].isdigit())
    assert len(calls) == tables and None not in calls


@pytest.mark.parametrize("window", [100, 3000, 1 << 18])
@pytest.mark.parametrize("method", ["lz4", "zstd"])
def test_payloads_are_copied_across_window_cuts(method: str, window: int, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows that cut chunks (the next starts at the cut one) and chunks larger than a
    window (copied on their own) give pg_dump's files all the same."""
    monkeypatch.setattr(rawcopy, "WINDOW", window)
    calls = _spied(monkeypatch)
    out = tmp_path / "d"
    convert(str(PG18 / f"custom_{method}.dump"), str(out), ConvertOptions(kind="directory"))
    _same_as_pg_dump(out, method)
    assert calls and None not in calls


def test_a_bulk_copy_given_up_is_undone(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the bulk copy gives up after writing (all of) a table's file and more, what
    it wrote is cut off before the chunk-by-chunk copy writes the file again."""
    from pgarchive.convert import directory

    real = rawcopy.copy_payloads

    def gives_up(ranges: rawcopy.Ranges, *args: Any) -> int | None:
        real(ranges, *args)
        os.write(ranges.dst, b"not pg_dump's" * 1000)
        return None

    monkeypatch.setattr(directory, "copy_payloads", gives_up)
    out = tmp_path / "d"
    convert(str(PG18 / "custom_lz4.dump"), str(out), ConvertOptions(kind="directory"))
    _same_as_pg_dump(out, "lz4")


@pytest.mark.parametrize("kernel", [True, False], ids=["copy_file_range", "read-write"])
@pytest.mark.parametrize("src", ["custom.dump", "custom_lz4.dump", "custom_zstd.dump"])
def test_copied_blocks_drop_bytes_after_the_last_block(src: str, kernel: bool, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy of the last block starts before its end is walked, up to the end of the
    file: what follows the block (not its own) is cut off again."""
    if not kernel:
        _no_kernel_copy(monkeypatch)
    raw = (PG18 / src).read_bytes()
    padded = tmp_path / "padded.dump"
    padded.write_bytes(raw + b"\xff" * 100_000)
    out = tmp_path / "out.dump"
    report = convert(str(padded), str(out))
    assert report.copied > 0 and report.recompressed == report.rewrapped == 0
    assert out.read_bytes() == raw


def test_a_block_longer_than_the_toc_says_is_copied_whole(tmp_path: Path) -> None:
    """The walked end wins over the one the offsets suggest, in both directions."""
    data = bytes(range(256)) * 64
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(data)
    for guess, end in ((100, 5000), (9000, 5000), (None, 5000)):
        with open(src, "rb") as s, open(dst, "wb") as d:
            d.write(b"head")
            d.flush()
            ranges = rawcopy.Ranges(s.fileno(), d.fileno(), str(src))
            assert rawcopy.copy_walked(ranges, 10, guess, lambda _wait, e=end: e) == end
        assert dst.read_bytes() == b"head" + data[10:end]


def test_a_failed_walk_stops_the_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(bytes(1 << 20))

    def walk(_wait: Any) -> int:
        raise ArchiveError("archive is truncated", offset=7)

    with open(src, "rb") as s, open(dst, "wb") as d, pytest.raises(ArchiveError):
        rawcopy.copy_walked(rawcopy.Ranges(s.fileno(), d.fileno(), str(src)), 0, 1 << 20,
                            walk)


@pytest.mark.parametrize("kind", ["custom", "directory"])
def test_truncated_lz4_chunks_name_entry_and_offset(kind: str, tmp_path: Path) -> None:
    """Cut inside a table's chunks: the copy stops with the file, the entry and where."""
    raw = (PG18 / "custom_lz4.dump").read_bytes()
    with pgarchive.open(str(PG18 / "custom_lz4.dump")) as a:
        e = max((e for e in a.entries if e.desc == "TABLE DATA"),
                key=lambda e: a.stored_size(e) or 0)
        cut = (e.data_offset or 0) + (a.stored_size(e) or 0) // 2
    src = tmp_path / "cut.dump"
    src.write_bytes(raw[:cut])
    with pytest.raises(ArchiveError) as err:
        convert(str(src), str(tmp_path / "out"), ConvertOptions(kind=kind))
    assert err.value.path == str(src) and err.value.offset is not None
    assert err.value.entry and str(e.dump_id) in err.value.entry
    assert "truncated" in str(err.value)
    assert sorted(os.listdir(tmp_path)) == ["cut.dump"]


@pytest.mark.parametrize("window", [3000, 9000, 1 << 18])
@pytest.mark.parametrize("src", ["pg18/custom.dump", "pg12/custom.dump", "pg10/custom.dump"])
def test_small_chunks_are_walked_a_window_at_a_time(src: str, window: int, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """gzip's 4 kB chunks: beside the copy, each window is read and stepped over (chunks
    larger than a window stepped over unread), which finds each block's end; the archive
    comes out byte for byte."""
    monkeypatch.setattr(rawcopy, "WINDOW", window)
    ends: list[int | None] = []
    real = rawcopy.walk_dense

    def spy(*args: Any) -> int | None:
        ends.append(real(*args))
        return ends[-1]

    from pgarchive.convert import custom

    monkeypatch.setattr(custom, "walk_dense", spy)
    out = tmp_path / "out.dump"
    convert(str(TESTDATA / src), str(out))
    assert out.read_bytes() == (TESTDATA / src).read_bytes()
    assert ends and None not in ends


def _damaged_mid_block(tmp_path: Path, sign: bool,
                       src: str = "custom.dump") -> tuple[Path, int]:
    """pg18's gzip (or ``src``) archive with the second chunk length of its longest
    table's block made negative (``sign``) or too long for the block: (the file, the
    entry's dump id)."""
    raw = bytearray((PG18 / src).read_bytes())
    with pgarchive.open(str(PG18 / src)) as a:
        e = max((e for e in a.entries if e.desc == "TABLE DATA"),
                key=lambda e: a.stored_size(e) or 0)
        spans = a.stored_ranges(e)
        assert spans is not None
        (s0, n0), _ = next(spans), next(spans)
    second = s0 + n0  # the second chunk's length
    if sign:
        raw[second] = 1
    else:
        raw[second + 1:second + 5] = (60_000).to_bytes(4, "little")
    path = tmp_path / "damaged.dump"
    path.write_bytes(bytes(raw))
    return path, e.dump_id


@pytest.mark.parametrize("sign", [True, False], ids=["negative", "too-long"])
def test_damage_inside_small_chunks_fails_as_the_walk_says(sign: bool, tmp_path: Path) -> None:
    """The windowed walk gives up at damage; the walk by lengths then names it, as
    before, and nothing is left behind."""
    path, dump_id = _damaged_mid_block(tmp_path, sign)
    with pgarchive.open(str(path)) as a, pytest.raises(ArchiveError) as want:
        a.stored_extent(a.entry(dump_id))
    with pytest.raises(ArchiveError) as err:
        convert(str(path), str(tmp_path / "out.dump"))
    assert (err.value.message, err.value.offset, err.value.entry) == \
        (want.value.message, want.value.offset, want.value.entry)
    assert sorted(os.listdir(tmp_path)) == ["damaged.dump"]


@pytest.mark.parametrize("sign", [True, False], ids=["negative", "too-long"])
def test_damage_inside_lz4_chunks_fails_a_directory_as_the_walk_says(
        sign: bool, tmp_path: Path) -> None:
    """The bulk copy of payloads gives up at damage; the chunk-by-chunk walk then names
    it (file, entry, offset), and no partial directory is left."""
    path, dump_id = _damaged_mid_block(tmp_path, sign, "custom_lz4.dump")
    with pgarchive.open(str(path)) as a, pytest.raises(ArchiveError) as want:
        for _span in a.stored_ranges(a.entry(dump_id)) or ():
            pass
    with pytest.raises(ArchiveError) as err:
        convert(str(path), str(tmp_path / "out"), ConvertOptions(kind="directory"))
    assert (err.value.message, err.value.offset, err.value.entry, err.value.path) == \
        (want.value.message, want.value.offset, want.value.entry, str(path))
    assert sorted(os.listdir(tmp_path)) == ["damaged.dump"]


def test_a_windowed_walk_given_up_is_walked_again(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the windowed walk gives up, the block is walked again by its lengths, whose
    end the copy keeps."""
    from pgarchive.convert import custom

    real = rawcopy.walk_dense
    calls: list[int | None] = []

    def gives_up(*args: Any) -> int | None:
        calls.append(real(*args))
        return None

    monkeypatch.setattr(custom, "walk_dense", gives_up)
    out = tmp_path / "out.dump"
    convert(str(PG18 / "custom.dump"), str(out))
    assert out.read_bytes() == (PG18 / "custom.dump").read_bytes()
    assert calls and None not in calls


def test_a_small_first_chunk_alone_does_not_make_a_block_dense(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """lz4 blocks start with the frame header as a chunk of its own (7 bytes): the chunks
    after it say whether the block's chunks are large (here: 20 bytes or more), so it is
    walked by its lengths alone, not read whole."""
    from pgarchive.convert import custom

    calls: list[int] = []
    real = rawcopy.walk_dense

    def spy(*args: Any) -> int | None:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(custom, "walk_dense", spy)
    monkeypatch.setattr(custom, "DENSE_CHUNK", 20)
    with pgarchive.open(str(PG18 / "custom_lz4.dump")) as a:
        firsts = [[n for _s, n in a.stored_ranges(e) or ()][:3]
                  for e in a.entries if e.desc == "TABLE DATA"]
    assert all(f[0] < 20 for f in firsts)  # the frame header
    out = tmp_path / "out.dump"
    convert(str(PG18 / "custom_lz4.dump"), str(out))
    assert out.read_bytes() == (PG18 / "custom_lz4.dump").read_bytes()
    assert len(calls) == sum(1 for f in firsts if max(f) < 20) < len(firsts)


def test_a_walk_reads_in_the_wake_of_the_copy(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Each window the windowed walk reads has been copied already (the copy reports
    every PACE bytes), so it comes from the cache the copy filled, and the walk follows
    the copy part way, not only once it has ended."""
    from pgarchive.convert import custom

    monkeypatch.setattr(rawcopy, "PACE", 5000)
    monkeypatch.setattr(rawcopy, "WINDOW", 1000)
    copied = [0]
    reads: list[tuple[int, int]] = []  # (end of a window the walk read, copied by then)
    walking: list[bool] = []
    real_copy, real_pread, real_walk = rawcopy.Ranges.copy, os.pread, rawcopy.walk_dense

    def copy(self: rawcopy.Ranges, start: int, end: int, stop: Any = None,
             reached: Any = None, step: int = rawcopy.STEP) -> None:
        def seen(pos: int) -> None:
            copied.append(pos)
            reached(pos)
            time.sleep(0.002)  # (a slow copy: the walk catches up with it)
        real_copy(self, start, end, stop, seen if reached else None, step)

    def pread(fd: int, n: int, pos: int) -> bytes:
        if walking:
            reads.append((pos + n, copied[-1]))
        return real_pread(fd, n, pos)

    blocks: list[int] = []

    def walk_dense(*args: Any) -> int | None:
        walking.append(True)
        blocks.append(1)
        try:
            return real_walk(*args)
        finally:
            walking.clear()

    monkeypatch.setattr(rawcopy.Ranges, "copy", copy)
    monkeypatch.setattr(os, "pread", pread)
    monkeypatch.setattr(custom, "walk_dense", walk_dense)
    out = tmp_path / "out.dump"
    convert(str(PG18 / "custom.dump"), str(out))
    assert out.read_bytes() == (PG18 / "custom.dump").read_bytes()
    assert len(reads) > 10 and all(end <= at for end, at in reads)
    # paced: within a block, the walk met the copy part way (not only once it had ended)
    assert len({at for _end, at in reads}) > len(blocks)


def test_a_failed_copy_does_not_leave_its_walk_waiting(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy fails (a read error): the walk waiting for it goes on, and the copy's
    error is raised."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(bytes(1 << 20))

    def fails(*_a: Any, **_k: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(rawcopy.Ranges, "copy", fails)
    waited: list[int] = []

    def walk(wait: Any) -> int:
        wait(1 << 20)
        waited.append(1)
        return 1 << 20

    with open(src, "rb") as s, open(dst, "wb") as d, pytest.raises(OSError):
        rawcopy.copy_walked(rawcopy.Ranges(s.fileno(), d.fileno(), str(src)), 0, 1 << 20,
                            walk)
    assert waited == [1]


def _rechunked(tmp_path: Path, piece: int) -> tuple[Path, int, list[tuple[int, int]]]:
    """pg18's lz4 archive with its largest table's data cut into chunks of ``piece``
    bytes (the same frame: a directory archive's file is unchanged), the TOC's offsets
    set again: (the file, the table's dump id, (start, length) of its chunks' payloads)."""
    from pgarchive.format.constants import OffsetFlag, TocExtra
    from pgarchive.format.writer import build_toc_file

    raw = (PG18 / "custom_lz4.dump").read_bytes()
    with pgarchive.open(str(PG18 / "custom_lz4.dump")) as a:
        big = max((e for e in a.entries if e.desc == "TABLE DATA"),
                  key=lambda e: a.stored_size(e) or 0)
        blocks, entries, offsets = b"", list(a.entries), {}
        start = a.container.data_start  # type: ignore[attr-defined]
        for e in sorted((e for e in entries if e.has_data), key=lambda e: e.data_offset or 0):
            lo, hi = a.stored_extent(e) or (0, 0)
            offsets[e.dump_id] = start + len(blocks)
            if e.dump_id != big.dump_id:
                blocks += raw[lo:hi]
                continue
            spans = list(a.stored_ranges(e) or ())
            data = b"".join(raw[s:s + n] for s, n in spans)
            blocks += raw[lo:spans[0][0] - 5] + b"".join(
                b"\0" + len(c).to_bytes(4, "little") + c
                for c in (data[i:i + piece] for i in range(0, len(data), piece))) + bytes(5)
        toc = build_toc_file(a.header, [e._replace(data_offset=offsets[e.dump_id],
                                                   offset_flag=OffsetFlag.SET)
                                        if e.has_data else e for e in entries],
                             TocExtra.OFFSET, a.encoding)
    assert len(toc) == start
    path = tmp_path / "rechunked.dump"
    path.write_bytes(toc + blocks)
    with pgarchive.open(str(path)) as a:
        return path, big.dump_id, list(a.stored_ranges(a.entry(big.dump_id)) or ())


@pytest.mark.parametrize("sign", [True, False], ids=["negative", "too-long"])
@pytest.mark.parametrize("half", ["first", "second"])
def test_damage_in_either_half_fails_a_directory_as_the_walk_says(
        sign: bool, half: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Damage before the middle (the cut is not found) or after it (the thread copying
    the second half gives up): the chunk-by-chunk walk names it, and nothing is left."""
    monkeypatch.setattr(rawcopy, "SPLIT", 1000)
    path, dump_id, spans = _rechunked(tmp_path, 500)
    raw = bytearray(path.read_bytes())
    assert len(spans) > 40
    start, _n = spans[3] if half == "first" else spans[-3]
    at = start - 5  # that chunk's length
    if sign:
        raw[at] = 1
    else:
        raw[at + 1:at + 5] = (1 << 30).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pgarchive.open(str(path)) as a, pytest.raises(ArchiveError) as want:
        for _span in a.stored_ranges(a.entry(dump_id)) or ():
            pass
    with pytest.raises(ArchiveError) as err:
        convert(str(path), str(tmp_path / "out"), ConvertOptions(kind="directory"))
    assert (err.value.message, err.value.offset, err.value.entry) == \
        (want.value.message, want.value.offset, want.value.entry)
    assert sorted(os.listdir(tmp_path)) == ["rechunked.dump"]


@pytest.mark.parametrize("window", [3000, 1 << 18])
@pytest.mark.parametrize("source", ["lz4", "zstd", "lz4 of many chunks"])
def test_payloads_are_copied_in_two_halves_at_once(source: str, window: int, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk list longer than SPLIT is cut at a chunk near its middle, its second half
    copied by a thread at its own offset: pg_dump's files all the same, every table's
    list cut (pg18's tables are two chunks each, the frame header and the rest; a table
    cut into 300-byte chunks is cut well inside)."""
    monkeypatch.setattr(rawcopy, "SPLIT", 1000)
    monkeypatch.setattr(rawcopy, "WINDOW", window)
    method = source.split()[0]
    path, spans = PG18 / f"custom_{method}.dump", []
    if source.endswith("many chunks"):
        path, _dump_id, spans = _rechunked(tmp_path, 300)
    middles: list[tuple[int, int] | None] = []
    real = rawcopy._middle

    def spy(*args: Any) -> tuple[int, int] | None:
        middles.append(real(*args))
        return middles[-1]

    monkeypatch.setattr(rawcopy, "_middle", spy)
    calls = _spied(monkeypatch)
    out = tmp_path / "d"
    convert(str(path), str(out), ConvertOptions(kind="directory"))
    _same_as_pg_dump(out, method)
    assert calls and None not in calls
    assert middles and None not in middles
    if spans:
        assert len(spans) > 60
        assert any(m is not None and spans[10][0] < m[0] < spans[-10][0] for m in middles)


def test_large_chunks_are_walked_by_their_lengths_in_compiled_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """lz4 blocks copied whole: the end of each table of large chunks (pg18's zstd archive
    has none) is found by chunkscan.hop (a read of each length), and the archive comes
    out byte for byte."""
    from pgarchive.convert import custom

    ends: list[int] = []
    real = custom.chunkscan.hop

    def hop(*args: Any) -> int:
        ends.append(real(*args))
        return ends[-1]

    monkeypatch.setattr(custom.chunkscan, "hop", hop)
    walked: list[int] = []
    real_walked = custom._walked

    def reader_walk(a: Any, entry: Any) -> tuple[int, int]:
        if entry.desc == "TABLE DATA":  # (large objects are walked by the reader)
            walked.append(entry.dump_id)
        return real_walked(a, entry)

    monkeypatch.setattr(custom, "_walked", reader_walk)
    src = PG18 / "custom_lz4.dump"
    out = tmp_path / "out.dump"
    convert(str(src), str(out))
    assert out.read_bytes() == src.read_bytes()
    with pgarchive.open(str(src)) as a:
        firsts = [[n for _s, n in a.stored_ranges(e) or ()][:custom.SAMPLE]
                  for e in a.entries if e.desc == "TABLE DATA" and e.has_data]
    large = sum(1 for f in firsts if f and max(f) >= custom.DENSE_CHUNK)
    assert large and len(ends) == large and all(e > 0 for e in ends) and not walked


@pytest.mark.parametrize("sign", [True, False], ids=["negative", "too-long"])
def test_damage_inside_lz4_chunks_fails_a_custom_copy_as_the_walk_says(
        sign: bool, tmp_path: Path) -> None:
    """The compiled walk of the lengths gives up at damage; the reader's walk then names
    it (file, entry, offset), and nothing is left behind."""
    path, dump_id = _damaged_mid_block(tmp_path, sign, "custom_lz4.dump")
    with pgarchive.open(str(path)) as a, pytest.raises(ArchiveError) as want:
        a.stored_extent(a.entry(dump_id))
    with pytest.raises(ArchiveError) as err:
        convert(str(path), str(tmp_path / "out.dump"))
    assert (err.value.message, err.value.offset, err.value.entry, err.value.path) == \
        (want.value.message, want.value.offset, want.value.entry, str(path))
    assert sorted(os.listdir(tmp_path)) == ["damaged.dump"]
