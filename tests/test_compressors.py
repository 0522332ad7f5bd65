"""The compressors write pg_dump's exact streams, and a deflate stream changes wrapper (zlib
in custom archives, gzip files in directory archives) with its bytes kept: checked against
the streams the real pg_dump 10-18 wrote into the corpus."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

import pgarchive
from helpers import TESTDATA
from pgarchive.compression import (
    CompressionSpec,
    compressed,
    decompress,
    gzip_to_zlib,
    recut,
    zlib_to_gzip,
)
from pgarchive.errors import CompressionError, TruncatedError
from pgarchive.format.constants import Compression

Key = tuple[Any, ...]


def raw_data(path: str) -> dict[Key, bytes]:
    """Each stream's decompressed bytes, by table or large object."""
    out: dict[Key, bytes] = {}
    with pgarchive.open(path) as a:
        for e in a.entries:
            if e.desc == "TABLE DATA" and e.has_data:
                out[(e.namespace, e.tag)] = b"".join(a.data(e))
            elif e.desc == "BLOBS" and e.has_data:
                for lo in a.large_objects(e):
                    out[("lo", lo.oid)] = b"".join(lo.chunks)
    return out


def stored(path: str) -> dict[Key, list[bytes]]:
    """Each stream as the archive stores it (compressed, unframed)."""
    out: dict[Key, list[bytes]] = {}
    with pgarchive.open(path) as a:
        for e in a.entries:
            if e.has_data:
                for oid, s in a.stored_streams(e):
                    key = ("lo", oid) if oid is not None else (e.namespace, e.tag)
                    out[key] = [bytes(c) for c in s.chunks]
    return out


def _rows(data: bytes) -> list[bytes]:
    """The pieces pg_dump hands its compressor: one COPY row at a time."""
    return data.splitlines(keepends=True) or [data]


GZIP_GROUPS = ["pg10", "pg11", "pg12", "pg14", "pg15", "pg16", "pg17", "pg18"]


@pytest.mark.parametrize("group", GZIP_GROUPS)
def test_gzip_is_pg_dumps_own_bytes(group: str) -> None:
    """Custom archives: a zlib stream; directory archives: a gzip file -- byte for byte
    what pg_dump wrote for the same data at its default level."""
    plain = raw_data(str(TESTDATA / group / "custom_z0.dump"))
    custom = stored(str(TESTDATA / group / "custom.dump"))
    folder = stored(str(TESTDATA / group / "dir"))
    spec = CompressionSpec(Compression.GZIP)
    assert custom.keys() == plain.keys() == folder.keys()
    for key, data in plain.items():
        assert b"".join(compressed(spec, _rows(data))) == b"".join(custom[key]), key
        assert b"".join(compressed(spec, [data], gzip_file=True)) == b"".join(folder[key]), key


@pytest.mark.parametrize("group", ["pg16", "pg17", "pg18"])
@pytest.mark.parametrize("kind", ["custom_{}.dump", "dir_{}"])
def test_lz4_is_pg_dumps_own_bytes(group: str, kind: str) -> None:
    plain = raw_data(str(TESTDATA / group / "custom_z0.dump"))
    frames = stored(str(TESTDATA / group / kind.format("lz4")))
    for key, data in plain.items():
        out = list(compressed(CompressionSpec(Compression.LZ4), _rows(data)))
        assert b"".join(out) == b"".join(frames[key]), key
        if kind.startswith("custom"):  # the frame header is a chunk of its own, as there
            assert out[0] == frames[key][0] and len(out[0]) == 7


@pytest.mark.parametrize("group", ["pg16", "pg18"])
def test_zstd_frames_have_pg_dumps_form(group: str) -> None:
    """zstd's output differs between library versions, so the bytes are not compared;
    the frame header is (no checksum, no content size, level 3's window) and the data
    round-trips."""
    plain = raw_data(str(TESTDATA / group / "custom_z0.dump"))
    frames = stored(str(TESTDATA / group / "custom_zstd.dump"))
    for key, data in plain.items():
        mine = b"".join(compressed(CompressionSpec(Compression.ZSTD), _rows(data)))
        theirs = b"".join(frames[key])
        assert mine[:6] == theirs[:6], key
        assert b"".join(decompress(Compression.ZSTD, [mine])) == data


@pytest.mark.parametrize("group", ["pg10", "pg14", "pg18"])
def test_rewrap_gives_the_other_formats_bytes(group: str) -> None:
    """zlib (custom) <-> gzip file (directory) keeps the deflate bytes and gives exactly
    what pg_dump wrote in the other format, however the input is cut."""
    custom = stored(str(TESTDATA / group / "custom.dump"))
    folder = stored(str(TESTDATA / group / "dir"))
    for key, chunks in custom.items():
        file_bytes = b"".join(folder[key])
        assert b"".join(zlib_to_gzip(chunks)) == file_bytes, key
        assert b"".join(gzip_to_zlib(folder[key])) == b"".join(chunks), key
        one_by_one = [bytes([b]) for b in file_bytes]
        assert b"".join(gzip_to_zlib(one_by_one)) == b"".join(chunks), key


def test_rewrap_uses_the_known_level_for_the_header() -> None:
    data = b"row\t1\n" * 5000
    for level in (1, 5, 9):
        zstream = b"".join(compressed(CompressionSpec(Compression.GZIP, level), [data]))
        gfile = b"".join(compressed(CompressionSpec(Compression.GZIP, level), [data],
                                    gzip_file=True))
        assert b"".join(zlib_to_gzip([zstream], level)) == gfile
        assert b"".join(gzip_to_zlib([gfile], level)) == zstream


def _custom_stream() -> bytes:
    return b"".join(compressed(CompressionSpec(Compression.GZIP), [b"abc\tdef\n" * 3000]))


@pytest.mark.parametrize("damage", ["flip", "adler", "cut", "garbage", "header"])
def test_rewrap_refuses_damaged_streams(damage: str) -> None:
    z = bytearray(_custom_stream())
    g = bytearray(b"".join(zlib_to_gzip([bytes(z)])))
    if damage == "flip":
        z[len(z) // 2] ^= 0xFF
        g[len(g) // 2] ^= 0xFF
    elif damage == "adler":
        z[-1] ^= 1
        g[-5] ^= 1  # the CRC
    elif damage == "cut":
        del z[-3:]
        del g[-3:]
    elif damage == "garbage":
        z += b"x"
        g += b"x"
    else:
        z[0] = 0x79
        g[2] = 7
    with pytest.raises(CompressionError):
        b"".join(zlib_to_gzip([bytes(z)]))
    with pytest.raises(CompressionError):
        b"".join(gzip_to_zlib([bytes(g)]))


def test_rewrap_skips_optional_gzip_header_fields() -> None:
    import gzip
    import io

    data = b"x\ty\n" * 1000
    buf = io.BytesIO()
    with gzip.GzipFile(filename="name.dat", mode="wb", fileobj=buf, mtime=7) as f:
        f.write(data)
    z = b"".join(gzip_to_zlib([buf.getvalue()]))
    assert b"".join(decompress(Compression.GZIP, [z])) == data


@pytest.mark.parametrize(("text", "want"), [
    ("none", CompressionSpec(Compression.NONE)),
    ("0", CompressionSpec(Compression.NONE)),
    ("5", CompressionSpec(Compression.GZIP, 5)),
    ("gzip", CompressionSpec(Compression.GZIP)),
    ("gzip:9", CompressionSpec(Compression.GZIP, 9)),
    ("lz4:level=3", CompressionSpec(Compression.LZ4, 3)),
    ("zstd:level=-5,long", CompressionSpec(Compression.ZSTD, -5, True)),
    ("ZSTD:19", CompressionSpec(Compression.ZSTD, 19)),
])
def test_spec_parses_pg_dumps_syntax(text: str, want: CompressionSpec) -> None:
    assert CompressionSpec.parse(text) == want


@pytest.mark.parametrize(("text", "message"), [
    ("brotli", 'unrecognized compression algorithm: "brotli"'),
    ("gzip:10", 'compression algorithm "gzip" expects a compression level between 1 and 9'),
    ("lz4:13", "between 1 and 12"),
    ("gzip:long", "does not support long-distance mode"),
    ("zstd:level=x", "must be an integer"),
    ("zstd:fast", 'unrecognized compression option: "fast"'),
    ("none:3", "does not accept a compression level"),
])
def test_spec_refuses_what_pg_dump_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CompressionSpec.parse(text)


@pytest.mark.parametrize("spec", ["none", "gzip:1", "lz4:9", "zstd:1", "zstd:3,long"])
def test_every_compressor_round_trips(spec: str) -> None:
    s = CompressionSpec.parse(spec)
    data = bytes(range(256)) * 3000
    out = b"".join(compressed(s, [data[:1000], data[1000:]]))
    assert b"".join(decompress(s.algorithm, [out])) == data
    if s.algorithm == Compression.GZIP:
        g = b"".join(compressed(s, [data], gzip_file=True))
        assert b"".join(decompress(s.algorithm, [g], gzip_file=True)) == data


@pytest.mark.parametrize("out_size", [7, 4096, 256 << 10, 1 << 20])
def test_lz4_streams_decode_alike_whatever_the_piece_size(out_size: int) -> None:
    """pg_dump's lz4 chunks are joined before they are decoded (a quarter of the output
    size at a time): every stream still decodes to what the gzip archive of the same
    database holds, in pieces no larger than asked for."""
    want = raw_data(str(TESTDATA / "pg18" / "custom.dump"))
    for key, chunks in stored(str(TESTDATA / "pg18" / "custom_lz4.dump")).items():
        pieces = list(decompress(Compression.LZ4, chunks, out_size=out_size))
        assert b"".join(pieces) == want[key], key
        assert all(0 < len(p) <= out_size for p in pieces), key



def test_lz4_damage_before_a_read_error_is_reported_first() -> None:
    """Joining chunks before decoding keeps the order of what is found: a frame damaged
    in its first chunk, then a read that fails (a cut archive), gives the decoder's error,
    as decoding chunk by chunk does."""
    streams = stored(str(TESTDATA / "pg18" / "custom_lz4.dump"))
    chunks = max(streams.values(), key=lambda c: sum(map(len, c)))
    assert len(chunks) > 1

    def cut_short(first: bytes) -> Iterator[bytes]:
        yield first
        yield from chunks[1:-1]
        raise TruncatedError("archive is truncated")

    damaged = b"\0" + chunks[0][1:]  # the frame's magic number
    with pytest.raises(CompressionError, match="damaged lz4 frame"):
        b"".join(decompress(Compression.LZ4, cut_short(damaged), out_size=1 << 20))
    with pytest.raises(TruncatedError):  # without the damage: the read's error
        b"".join(decompress(Compression.LZ4, cut_short(chunks[0]), out_size=1 << 20))


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_lz4_decoding_stopped_early_is_quiet() -> None:
    """A consumer that stops early (verify at the first damaged row) closes the decoder
    and the chunk joining inside it without an error."""
    streams = stored(str(TESTDATA / "pg18" / "custom_lz4.dump"))
    chunks = max(streams.values(), key=lambda c: sum(map(len, c)))

    def read_then_fail() -> Iterator[bytes]:
        yield from chunks
        raise TruncatedError("archive is truncated")

    pieces = decompress(Compression.LZ4, read_then_fail(), out_size=64)
    assert len(next(pieces)) == 64
    pieces.close()  # GeneratorExit reaches the chunk joining: it must not hand on more
    gc.collect()


def test_recut_hands_large_enough_pieces_on_uncopied() -> None:
    """recut(least=...): a piece between ``least`` and the size, with nothing pending, is
    the very object that came (verify -j2 saves lz4's joins so); smaller ones are still
    joined, larger ones cut, and the bytes are the same in the same order."""
    big, small, huge = b"b" * 600, b"s" * 100, b"h" * 2500
    pieces = [big, small, small, big, huge, big]
    plain = list(recut(iter(pieces), 1000))
    kept = list(recut(iter(pieces), 1000, 250))
    assert b"".join(kept) == b"".join(plain) == b"".join(pieces)
    assert kept[0] is big and kept[-1] is big and all(len(p) <= 1000 for p in kept)
    assert [len(p) for p in kept] == [600, 800, 1000, 1000, 500, 600]
    assert plain[0] is not big  # (joined with the small ones after it)
