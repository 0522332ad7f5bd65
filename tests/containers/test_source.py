"""Byte sources: a memory-mapped file and bytes in memory read alike, through one
interface (view, read at an offset, sequential stream, a file object for tarfile)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pgarchive.containers.source import ByteSource, FileSource, MemorySource

DATA = bytes(range(256)) * 40  # 10240 bytes


def _sources(tmp_path: Path) -> list[ByteSource]:
    p = tmp_path / "f.bin"
    p.write_bytes(DATA)
    return [FileSource(str(p)), MemorySource(DATA, "mem")]


@pytest.mark.parametrize("mapped", [False, True])
def test_sources_read_alike(tmp_path: Path, mapped: bool) -> None:
    for s in _sources(tmp_path):
        with s:
            if mapped:
                assert bytes(s.view()) == DATA
            assert s.size == len(DATA)
            assert s.read_at(100, 50) == DATA[100:150]
            assert s.read_at(len(DATA) - 5, 50) == DATA[-5:]
            pieces = list(s.stream(7, 5000, piece=1000))
            assert [len(x) for x in pieces] == [1000] * 4 + [993]
            assert b"".join(bytes(x) for x in pieces) == DATA[7:5000]
            assert b"".join(bytes(x) for x in s.stream(piece=4096)) == DATA
            with s.file() as f:
                f.seek(-10, io.SEEK_END)
                assert f.read() == DATA[-10:]
                f.seek(3)
                assert f.read(4) == DATA[3:7] and f.tell() == 7
            assert s.read_at(0, 1) == DATA[:1]  # closing the file object left it open


def test_empty_file_has_an_empty_view(tmp_path: Path) -> None:
    p = tmp_path / "empty"
    p.write_bytes(b"")
    with FileSource(str(p)) as s:
        assert s.size == 0 and s.view() == b"" and list(s.stream()) == []
