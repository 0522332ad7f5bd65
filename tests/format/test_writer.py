"""The writer's pieces: the TOC entry builder compiled from the construct fields builds what
construct builds, for every version and both kinds of entry; tar member headers and chunk
framing are pg_dump's own bytes."""

from __future__ import annotations

import random
import tarfile
from typing import Any

import pytest

import pgarchive
from helpers import archive_path, corpus
from pgarchive.format.constants import K_VERS_1_3, Compression, TocExtra, version
from pgarchive.format.structs import ArchiveStructs, PgInt, _int_encoder
from pgarchive.format.writer import (
    BlockFramer,
    build_toc_file,
    entry_values,
    spec_toc_file,
    tar_header,
)


@pytest.mark.parametrize("item", corpus("", lambda i: i["archive"] in (
    "pg10/custom.dump", "pg14/dir", "pg18/custom.dump", "pg18/custom_stats.dump",
    "samples/bigoid18.dump")))
def test_entry_builder_builds_what_construct_builds(item: dict[str, Any]) -> None:
    """Every entry, written at every version 1.10-1.16 and with both kinds of extra field:
    the compiled builder equals construct's build.  (Every archive of the corpus is
    rebuilt byte for byte by test_structs.)"""
    with pgarchive.open(archive_path(item)) as a:
        h = a.header
        values = [entry_values(e, a.encoding) for e in a.entries]
        for minor in range(10, 17):
            for extra in ("offset", "filename"):
                s = ArchiveStructs(version(1, minor), h.int_size, h.off_size, extra)
                build = s.entry_builder()
                for v in values:
                    assert build(v) == s.toc_entry.build(v), (minor, extra, v["dump_id"])


@pytest.mark.parametrize("item", corpus("pg18"))
def test_fast_and_spec_toc_files_agree(item: dict[str, Any]) -> None:
    with pgarchive.open(archive_path(item)) as a:
        extra = TocExtra.OFFSET if a.kind == "custom" else TocExtra.FILENAME
        assert build_toc_file(a.header, a.entries, extra, a.encoding) == \
            spec_toc_file(a.header, a.entries, extra, a.encoding)


@pytest.mark.parametrize("int_size", [1, 2, 4, 8, 16])
def test_int_encoder_is_pgint(int_size: int) -> None:
    enc, spec = _int_encoder(int_size), PgInt(int_size)
    top = (1 << (8 * min(int_size, 4))) - 1
    for value in (0, 1, -1, 255, -255, top, -top):
        assert enc(value) == spec.build(value)


@pytest.mark.parametrize("group", ["pg10", "pg15", "pg18"])
def test_tar_member_headers_are_pg_dumps(group: str) -> None:
    """tarCreateHeader's bytes: same name, size and mtime give the same 512 bytes."""
    path = archive_path({"archive": f"{group}/tar.tar"})
    with open(path, "rb") as f:
        raw = f.read()
    with tarfile.open(path) as tf:
        for m in tf.getmembers():
            assert tar_header(m.name, m.size, int(m.mtime)) == raw[m.offset:m.offset + 512]


def test_tar_sizes_past_8_gib_use_base_256() -> None:
    h = tar_header("1.dat", 9 << 30, 0)
    info = tarfile.TarInfo.frombuf(h, "utf-8", "strict")
    assert info.size == 9 << 30 and h[124] == 0x80


def test_tar_names_longer_than_99_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="longer than 99"):
        tar_header("x" * 100, 1, 0)


def test_gzip_chunks_are_cut_at_4096_however_pieces_come() -> None:
    framer = BlockFramer(version(1, 16), 4)
    data = random.Random(1).randbytes(50_000)
    for cuts in ([4096] * 12, [1, 10_000, 7, 30_000], [50_000]):
        pieces, pos = [], 0
        for n in cuts:
            pieces.append(data[pos:pos + n])
            pos += n
        pieces.append(data[pos:])
        framed = b"".join(framer.chunks(pieces, 4096))
        sizes, p, payload = [], 0, b""
        while p < len(framed):
            n = int.from_bytes(framed[p + 1:p + 5], "little")
            sizes.append(n)
            payload += framed[p + 5:p + 5 + n]
            p += 5 + n
        assert payload == data
        assert sizes == [4096] * 12 + [50_000 - 12 * 4096]


def test_other_chunks_are_the_pieces_cut_at_a_mebibyte() -> None:
    framer = BlockFramer(K_VERS_1_3, 4)
    out = b"".join(framer.chunks([b"", b"ab", bytes(3 << 20)]))
    sizes, p = [], 0
    while p < len(out):
        sizes.append(int.from_bytes(out[p + 1:p + 5], "little"))
        p += 5 + sizes[-1]
    assert sizes == [2, 1 << 20, 1 << 20, 1 << 20]
    assert framer.block_header(Compression.GZIP, 7)[0] == 1  # type byte from 1.3 on
    assert BlockFramer(version(1, 2), 4).block_header(Compression.GZIP, 7) == \
        _int_encoder(4)(7)


def test_large_object_oids_are_written_as_c_ints() -> None:
    framer = BlockFramer(version(1, 16), 4)
    assert framer.oid(3_000_000_000) == bytes([1]) + (2**32 - 3_000_000_000).to_bytes(4,
                                                                                       "little")
    assert framer.oid(70001) == bytes([0]) + (70001).to_bytes(4, "little")
