"""chunkscan.hop and hop_to: a chunk list walked by its lengths alone (convert's copies of
lz4 and zstd blocks, and the middle a long list is cut at), against the list as built."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgarchive.format import chunkscan

INT_SIZE = 4


def _chunks(sizes: list[int], negative_at: int | None = None) -> bytes:
    """A chunk list: each length (sign byte, little-endian magnitude), its payload; then
    the zero length that ends the list."""
    out = bytearray()
    for i, n in enumerate(sizes):
        out += bytes([1 if i == negative_at else 0]) + n.to_bytes(INT_SIZE, "little")
        out += bytes([0x41 + i % 26]) * n
    return bytes(out + b"\0" * (1 + INT_SIZE))


def _fd(tmp_path: Path, data: bytes) -> int:
    path = tmp_path / "chunks"
    path.write_bytes(b"xx" + data + b"trailing bytes past the list")
    return os.open(path, os.O_RDONLY)


SIZES = [100, 3000, 7, 40000, 1, 500]


def test_hop_finds_the_end_of_the_list(tmp_path: Path) -> None:
    data = _chunks(SIZES)
    fd = _fd(tmp_path, data)
    try:
        assert chunkscan.hop(fd, 2, 2 + len(data), INT_SIZE) == 2 + len(data)
        assert chunkscan.hop(fd, 2, 2 + len(data) + 50, INT_SIZE) == 2 + len(data)
        # the limit cuts the zero length, or the last chunk: not a whole list
        assert chunkscan.hop(fd, 2, 2 + len(data) - 1, INT_SIZE) == -1
        assert chunkscan.hop(fd, 2, 2 + len(data) - 10, INT_SIZE) == -1
        assert chunkscan.hop(fd, 3 + len(data), 2 + len(data), INT_SIZE) == -1
    finally:
        os.close(fd)


def test_hop_gives_up_at_a_negative_length(tmp_path: Path) -> None:
    data = _chunks(SIZES, negative_at=3)
    fd = _fd(tmp_path, data)
    try:
        assert chunkscan.hop(fd, 2, 2 + len(data), INT_SIZE) == -1
        # up to a stop before the damage, the walk is plain
        stop = 2 + sum(1 + INT_SIZE + n for n in SIZES[:3])
        assert chunkscan.hop_to(fd, 2, 2 + len(data), INT_SIZE, stop) == (
            stop, sum(SIZES[:3]), False)
    finally:
        os.close(fd)


@pytest.mark.parametrize("stop_in", range(len(SIZES) + 1))
def test_hop_to_stops_at_the_first_length_at_or_past_stop(stop_in: int,
                                                          tmp_path: Path) -> None:
    """A stop inside chunk k (or on its length) gives the first length at or after it,
    with the payload bytes of the chunks stepped over; the zero length, when it comes
    before the stop, ends the walk (ended)."""
    data = _chunks(SIZES)
    fd = _fd(tmp_path, data)
    starts = [2]
    for n in SIZES:
        starts.append(starts[-1] + 1 + INT_SIZE + n)
    try:
        limit = 2 + len(data)
        for stop in {starts[stop_in], starts[stop_in] + 1, starts[stop_in] - 1}:
            at, payload, ended = chunkscan.hop_to(fd, 2, limit, INT_SIZE, stop)
            if starts[-1] < stop:  # the zero length comes first
                assert (at, payload, ended) == (starts[-1], sum(SIZES), True)
            else:
                k = next(i for i, s in enumerate(starts) if s >= stop)
                assert (at, payload, ended) == (starts[k], sum(SIZES[:k]), False)
    finally:
        os.close(fd)
