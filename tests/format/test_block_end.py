"""BlockReader.block_end (the walk convert uses before copying a block whole) finds what
skip_block finds, and fails where it fails, on every custom archive of the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import archive_path, corpus
from pgarchive.errors import ArchiveError


def _ends(path: str) -> list[tuple[int, Any]]:
    out = []
    with pgarchive.open(path) as a:
        c: Any = a.container
        for e in a.entries:
            if not e.has_data:
                continue
            hdr = c.block_of(e)
            try:
                mine: Any = c.blocks.block_end(hdr)
            except ArchiveError as err:
                mine = (type(err), err.message, err.offset)
            try:
                theirs: Any = c.blocks.skip_block(hdr)
            except ArchiveError as err:
                theirs = (type(err), err.message, err.offset)
            out.append((e.dump_id, mine, theirs))
    return out


@pytest.mark.parametrize("item", corpus("", lambda i: i["archive"].endswith(".dump")))
def test_block_end_is_skip_block(item: dict[str, Any]) -> None:
    for dump_id, mine, theirs in _ends(archive_path(item)):
        assert mine == theirs, dump_id


@pytest.mark.parametrize("name", ["pg18/custom.dump", "pg18/custom_z0.dump",
                                  "pg18/custom_lz4.dump", "samples/bigoid18.dump"])
def test_block_end_fails_as_skip_block_on_truncation(name: str, tmp_path: Path) -> None:
    raw = Path(archive_path({"archive": name})).read_bytes()
    with pgarchive.open(archive_path({"archive": name})) as a:
        last = max(e.data_offset or 0 for e in a.entries)
    p = tmp_path / "cut.dump"
    for cut in range(last + 1, len(raw), max(1, (len(raw) - last) // 40)):
        p.write_bytes(raw[:cut])
        try:
            ends = _ends(str(p))
        except ArchiveError:
            continue
        for dump_id, mine, theirs in ends:
            assert mine == theirs, (cut, dump_id)


@pytest.mark.parametrize("name", ["pg18/custom.dump", "samples/bigoid18.dump"])
def test_block_end_fails_as_skip_block_on_a_negative_length(name: str, tmp_path: Path) -> None:
    raw = bytearray(Path(archive_path({"archive": name})).read_bytes())
    with pgarchive.open(archive_path({"archive": name})) as a:
        blocks = sorted((e.data_offset or 0, e.desc) for e in a.entries if e.has_data)
    p = tmp_path / "neg.dump"
    for start, desc in blocks:
        damaged = bytearray(raw)
        first = start + 1 + 5 + (5 if desc == "BLOBS" else 0)  # type, id, [oid], length
        damaged[first] = 1  # the sign byte
        p.write_bytes(damaged)
        ends = dict((d, (m, t)) for d, m, t in _ends(str(p)))
        assert all(m == t for m, t in ends.values())
        assert any(isinstance(m, tuple) and "negative" in m[1] for m, _t in ends.values())
