"""The fast TOC reader agrees with the construct specification, which can also rebuild
every real archive's header and TOC byte for byte."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import TESTDATA, archive_path, corpus, plain_module
from pgarchive.format.constants import TocExtra
from pgarchive.format.structs import PROLOGUE, ArchiveStructs
from pgarchive.format.writer import build_toc_file, entry_values, header_values


def _toc_bytes(a: pgarchive.Archive) -> bytes:
    c: Any = a.container
    if a.kind == "custom":
        return bytes(c.buf[:c.data_start])
    if a.kind == "tar":
        m = c.members["toc.dat"]
        return bytes(c.buf[m.offset:m.offset + m.size])
    with open(c.toc_path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("item", corpus())
def test_construct_parse_equals_fast_reader(item: dict[str, Any]) -> None:
    with pgarchive.open(archive_path(item)) as a:
        raw = _toc_bytes(a)
        h = a.header
        extra = TocExtra.OFFSET if a.kind == "custom" else TocExtra.FILENAME
        s = ArchiveStructs(h.version, h.int_size, h.off_size, extra)
        pro = PROLOGUE.parse(raw)
        assert (pro.vmaj, pro.vmin, pro.int_size) == (h.vmaj, h.vmin, h.int_size)
        rest_at = 5 + 3 + 2 + 1
        rest = s.header_rest.parse(raw[rest_at:])
        assert header_values(h, a.encoding)["rest"] == {k: v for k, v in rest.items()
                                                        if not k.startswith("_")}
        base = a.container.members["toc.dat"].offset if a.kind == "tar" else 0
        toc = s.toc.parse(raw[h.toc_offset - base - s.Int.sizeof():])
        assert toc.count == len(a.entries)
        for fast, spec in zip(a.entries, toc.entries, strict=True):
            want = entry_values(fast, a.encoding)
            got = {k: v for k, v in spec.items() if not k.startswith("_")}
            if extra == "offset":
                want.pop("filename")
                got["offset"] = {"flag": got["offset"]["flag"],
                                 "position": got["offset"]["position"]}
            else:
                want.pop("offset")
            for k in got:
                assert got[k] == want[k], (fast.dump_id, k)


@pytest.mark.parametrize("item", corpus())
def test_spec_rebuilds_header_and_toc_exactly(item: dict[str, Any]) -> None:
    with pgarchive.open(archive_path(item)) as a:
        extra = TocExtra.OFFSET if a.kind == "custom" else TocExtra.FILENAME
        assert build_toc_file(a.header, a.entries, extra, a.encoding) == _toc_bytes(a)


PURE = plain_module("pgarchive.format.tocscan")


@pytest.mark.parametrize("item", corpus())
def test_pure_python_walker_equals_installed_one(item: dict[str, Any]) -> None:
    """The compiled walker (if built) and its plain-Python source give the same results."""
    from pgarchive.format import tocscan

    with pgarchive.open(archive_path(item)) as a:
        raw = _toc_bytes(a)
        h = a.header
        base = a.container.members["toc.dat"].offset if a.kind == "tar" else 0
        extra = a.kind == "custom"
        for mode in (tocscan.ROWS, tocscan.LIST):
            args = (raw, base, h.toc_offset - base, h.toc_count, h.version, h.int_size,
                    h.off_size, extra, mode, a.encoding, True)
            mine = tocscan.walk(*args, tocscan.Limits(1 << 20, 64 << 20))
            pure = PURE.walk(*args, PURE.Limits(1 << 20, 64 << 20))
            assert (mine.rows, mine.lines, mine.done, mine.pos, mine.max_offset) == \
                (pure.rows, pure.lines, pure.done, pure.pos, pure.max_offset)


def test_walker_rows_of_odd_fields_round_trip() -> None:
    """Fields the corpus barely has, written by the specification's builder and read back
    by the compiled walker and its plain source alike: WITH OIDS true, NULL and empty
    names, a name repeated then changed (the walker reuses a field's name when its bytes
    repeat), non-ASCII and undecodable names, several and no dependencies."""
    from pgarchive.format import tocscan
    from pgarchive.format.toc import parse_header, parse_toc

    with pgarchive.open(str(TESTDATA / "pg18" / "custom.dump")) as a:
        h, first = a.header, a.entries[0]
    names = ["postgres", "postgres", "postgrex", "", None, "ünï", "post", "postgres\udcff"]
    entries = [first._replace(dump_id=i + 1, with_oids=i % 2 == 0, owner=o, namespace=o,
                              tablespace=names[(i + 3) % len(names)],
                              tableam=names[(i + 5) % len(names)],
                              dependencies=tuple(range(i % 3)), toc_position=0)
               for i, o in enumerate(names)]
    raw = build_toc_file(h._replace(toc_count=len(entries)), entries, TocExtra.OFFSET)
    head = parse_header(raw)
    got, _end = parse_toc(raw, head, TocExtra.OFFSET)
    assert [e._replace(toc_position=0) for e in got] == entries
    args = (raw, 0, head.toc_offset, head.toc_count, head.version, head.int_size,
            head.off_size, True, tocscan.ROWS, "utf-8", True)
    assert (tocscan.walk(*args, tocscan.Limits(1 << 20, 1 << 20)).rows ==
            PURE.walk(*args, PURE.Limits(1 << 20, 1 << 20)).rows)


@pytest.mark.parametrize("text", [b"", b"0", b"42", b" \t\n\v\f\r5x", b"+7", b"+-7", b"-7",
                                  b"4294967295", b"4294967296", b"4294967297",
                                  b"999999999999999999", b"1234567890123456789",
                                  b"18446744073709551615", b"18446744073709551616",
                                  b"99999999999999999999", b"1" * 21, b"\xff12", b"12\xff"])
def test_oid_text_parses_alike_compiled_and_plain(text: bytes) -> None:
    """uint_text counts in machine integers when compiled (up to 18 digits) and in
    Python ints past that: both builds give strtoul's 32-bit value (saturated past 20
    digits or 64 bits) on each side of those bounds."""
    from pgarchive.format import tocscan

    digits = text.lstrip(b" \t\n\v\f\r").removeprefix(b"+")
    digits = digits[:len(digits) - len(digits.lstrip(b"0123456789"))]
    value = int(digits) if digits else 0
    want = 0xFFFFFFFF if len(digits) > 20 or value >= 1 << 64 else value & 0xFFFFFFFF
    assert tocscan.uint_text(text) == PURE.uint_text(text) == want


@pytest.mark.parametrize("item", corpus("", lambda i: i["archive"].endswith("z0.dump")))
def test_pure_python_gatherer_equals_installed_one(item: dict[str, Any]) -> None:
    """Uncompressed blocks gathered by the compiled loop and by its source agree, for every
    target size and window cut, and join to exactly the row-by-row chunks."""
    from pgarchive.format import chunkscan

    pure = plain_module("pgarchive.format.chunkscan")
    with pgarchive.open(archive_path(item)) as a:
        c: Any = a.container
        for e in a.entries:
            if e.desc != "TABLE DATA" or not e.has_data:
                continue
            hdr = c.block_of(e)
            whole = b"".join(c.blocks.chunks(hdr.body))
            for target in (1, 100, 1 << 20):
                for window in (64, 1000, 4 << 20):
                    got = b"".join(c.blocks.gathered(hdr.body, target, window=window))
                    assert got == whole
            raw = bytes(c.buf[hdr.body:c.size])
            for target in (1, 500):
                a_out: list[bytes] = []
                b_out: list[bytes] = []
                assert chunkscan.gather(raw, 0, 4, target, a_out) == \
                    pure.gather(raw, 0, 4, target, b_out)
                assert a_out == b_out


@pytest.mark.parametrize("item", corpus("", lambda i: i["archive"].endswith(
    ("custom_lz4.dump", "custom_zstd.dump", "pg18/custom.dump"))))
def test_pure_python_payload_spans_equal_installed_ones(item: dict[str, Any]) -> None:
    """The payload spans of the compiled loop and of its source agree at every window cut,
    and the payloads they mark are exactly the chunks (convert's bulk copy of lz4 and zstd
    chunks into directory files writes what they mark)."""
    from pgarchive.format import chunkscan

    pure = plain_module("pgarchive.format.chunkscan")
    with pgarchive.open(archive_path(item)) as a:
        c: Any = a.container
        for e in a.entries:
            if e.desc != "TABLE DATA" or not e.has_data:
                continue
            body = c.block_of(e).body
            # (chunks() may cut a chunk where its read window ends: compare the bytes)
            whole = b"".join(c.blocks.chunks(body))
            end = c.size if e is a.entries[-1] else body + (a.stored_size(e) or c.size)
            for cut in (7, 5000, end - body):
                raw = bytes(c.buf[body:body + cut])
                mine: list[int] = []
                theirs: list[int] = []
                got = chunkscan.spans(raw, 0, 4, mine)
                assert got == pure.spans(raw, 0, 4, theirs) and mine == theirs
                assert got[1] in (chunkscan.WINDOW_END, chunkscan.LIST_END)
                marked = b"".join(raw[mine[i]:mine[i + 1]] for i in range(0, len(mine), 2))
                assert marked == whole[:len(marked)]
                if got[1] == chunkscan.LIST_END:
                    assert len(marked) == len(whole)


@pytest.mark.parametrize("item", corpus("", lambda i: i["archive"].endswith(
    ("custom_lz4.dump", "custom_zstd.dump", "pg18/custom.dump"))))
def test_pure_python_hop_equals_installed_one(item: dict[str, Any]) -> None:
    """The end of each table's chunk list found by reading its lengths alone, compiled and
    from source, is the reader's, and both give up alike (-1) where the limit cuts the
    list or a length is made negative."""
    from pgarchive.format import chunkscan

    pure = plain_module("pgarchive.format.chunkscan")
    raw = bytearray(Path(archive_path(item)).read_bytes())
    with pgarchive.open(archive_path(item)) as a:
        c: Any = a.container
        ends = {e.dump_id: (c.block_of(e).body, c.blocks.skip_block(c.block_of(e)))
                for e in a.entries if e.desc == "TABLE DATA" and e.has_data}
    with tempfile.TemporaryFile() as f:
        f.write(raw)
        f.flush()
        for body, end in ends.values():
            for limit in (end, len(raw), end - 1, body + 3):
                want = end if limit >= end else -1
                assert chunkscan.hop(f.fileno(), body, limit, 4) == want
                assert pure.hop(f.fileno(), body, limit, 4) == want
        body, end = max(ends.values(), key=lambda be: be[1] - be[0])
        raw[body] = 1  # the first length negative
        f.seek(0)
        f.write(raw)
        f.flush()
        assert chunkscan.hop(f.fileno(), body, end, 4) == pure.hop(f.fileno(), body, end, 4) \
            == -1


@pytest.mark.skipif(os.environ.get("PGARCHIVE_PURE_PYTHON") == "1",
                    reason="PGARCHIVE_PURE_PYTHON=1 asks for the plain-Python walkers")
def test_compiled_walkers_are_loaded_where_a_c_compiler_exists() -> None:
    """setup.py never fails an install for want of mypyc, so a silent build failure would
    leave the agreement tests above comparing the source with itself: where a C compiler
    exists (as in CI), the installed walkers must be the compiled ones."""
    from pgarchive.format import chunkscan, tocscan

    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.fail("no C compiler: the compiled walkers cannot be checked here")
    for mod in (tocscan, chunkscan):
        assert mod.__file__ is not None and not mod.__file__.endswith(".py"), mod.__file__
