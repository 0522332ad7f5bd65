"""Property tests: synthetic archives of every version, container and compression (odd names,
NULL fields, large-object oids above 2^31, several BLOBS entries) converted to any target
read back with the same entries and data; mutated archives convert or fail with an
ArchiveError, and leave nothing behind either way."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgarchive
from pgarchive.compression import CompressionSpec
from pgarchive.convert import ConvertOptions, convert
from pgarchive.errors import ArchiveError
from pgarchive.format.constants import (
    K_VERS_1_15,
    ArchiveFormat,
    Compression,
    OffsetFlag,
    Section,
    version,
)
from pgarchive.format.model import Header, TocEntry
from pgarchive.format.writer import build_custom, build_directory, build_tar

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=10)
maybe = st.none() | text
Archive = tuple[Header, list[TocEntry], dict[int, Any], str]


@st.composite
def archives(draw: st.DrawFn) -> Archive:
    minor = draw(st.integers(12, 16))
    fmt = draw(st.sampled_from(["custom", "directory", "tar"]))
    algos = [Compression.NONE, Compression.GZIP]
    if minor >= 15 and fmt != "tar":
        algos += [Compression.LZ4, Compression.ZSTD]
    algo = draw(st.sampled_from(algos)) if fmt != "tar" else Compression.NONE
    h = Header(1, minor, 0, 4, 8, ArchiveFormat.CUSTOM, algo,
               None if minor >= 15 else (0 if algo == Compression.NONE else -1),
               (1, 2, 3, 4, 5, 120, 0), draw(maybe), draw(maybe), draw(maybe), 0, 0)
    ids = draw(st.lists(st.integers(1, 500), min_size=1, max_size=10, unique=True))
    entries: list[TocEntry] = []
    data: dict[int, Any] = {}
    oids: set[int] = set()
    for i in ids:
        desc = draw(st.sampled_from(["TABLE", "COMMENT", "ACL", "TABLE DATA", "BLOBS"]))
        if desc == "BLOBS" and minor < 16 and any(e.desc == "BLOBS" for e in entries):
            desc = "TABLE DATA"
        had = desc in ("TABLE DATA", "BLOBS")
        entries.append(TocEntry(
            i, had, draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1)),
            draw(text), desc, Section.DATA if had else Section.PRE_DATA, draw(maybe),
            draw(maybe), "COPY t (a) FROM stdin;\n" if desc == "TABLE DATA" else None,
            draw(maybe), draw(maybe), draw(st.sampled_from([None, "heap"])) if minor >= 14
            else None, draw(st.integers(0, 127)) if minor >= 16 else 0, draw(maybe), False,
            tuple(draw(st.lists(st.integers(1, 600), max_size=3))), OffsetFlag.NO_DATA, 0,
            None, 0))
        if desc == "TABLE DATA":
            rows = draw(st.lists(st.text("ab", max_size=5), max_size=4))
            data[i] = ("".join(r + "\n" for r in rows) + "\\.\n\n\n").encode()
        elif desc == "BLOBS":
            new = draw(st.lists(st.integers(1, 2**32 - 1).filter(lambda o: o not in oids),
                                max_size=3, unique=True))
            oids.update(new)
            data[i] = [(oid, draw(st.binary(max_size=300))) for oid in new]
    return h, entries, data, fmt


def write(folder: Path, arch: Archive) -> Path:
    h, entries, data, fmt = arch
    if fmt == "custom":
        p = folder / "src.dump"
        p.write_bytes(build_custom(h, entries, data, with_offsets=bool(len(entries) % 2)))
    elif fmt == "tar":
        p = folder / "src.tar"
        p.write_bytes(build_tar(h, entries, data))
    else:
        p = folder / "src"
        p.mkdir()
        for name, raw in build_directory(h, entries, data).items():
            (p / name).write_bytes(raw)
    return p


TARGETS = st.tuples(st.sampled_from(["custom", "directory", "tar"]),
                    st.sampled_from(["none", "gzip", "gzip:1", "lz4", "zstd"]))
FAST = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _content(path: Path) -> tuple[list[Any], dict[int, Any]]:
    with pgarchive.open(str(path)) as a:
        rows = [(e.dump_id, e.tag, e.desc, e.defn, e.drop_stmt, e.namespace, e.owner,
                 e.dependencies, e.table_oid, e.oid) for e in a.entries]
        data: dict[int, Any] = {}
        for e in a.entries:
            if e.desc == "TABLE DATA" and e.has_data:
                data[e.dump_id] = b"".join(a.data(e))
            elif e.desc == "BLOBS" and e.has_data:
                data[e.dump_id] = list(a.read_large_objects(e))
        return rows, data


@FAST
@given(archives(), TARGETS)
def test_any_archive_converts_to_any_target(arch: Archive, target: tuple[str, str]) -> None:
    kind, method = target
    h = arch[0]
    if kind == "tar":
        method = "none"
    if method in ("lz4", "zstd") and h.version < K_VERS_1_15:
        method = "gzip"
    with tempfile.TemporaryDirectory() as d:
        src = write(Path(d), arch)
        dst = Path(d) / "dst"
        convert(str(src), str(dst), ConvertOptions(kind=kind,
                                                   compression=CompressionSpec.parse(method)))
        assert _content(dst) == _content(src)
        assert sorted(os.listdir(d)) == sorted([src.name, "dst"])


@FAST
@given(archives(), st.integers(12, 16), st.sampled_from(["custom", "directory", "tar"]))
def test_any_archive_goes_to_any_older_version(arch: Archive, minor: int, kind: str) -> None:
    h = arch[0]
    if version(1, minor) > h.version:
        minor = h.vmin
    with tempfile.TemporaryDirectory() as d:
        src = write(Path(d), arch)
        dst = Path(d) / "dst"
        try:
            convert(str(src), str(dst), ConvertOptions(kind=kind, version=version(1, minor)))
        except ArchiveError as e:  # a refusal, with its reason
            assert "cannot write archive version" in str(e) or "BLOB METADATA" in str(e)
            assert sorted(os.listdir(d)) == [src.name]
            return
        _rows, data = _content(dst)
        _, want = _content(src)
        with pgarchive.open(str(dst)) as a:
            assert a.header.vmin == minor
        los = sorted(lo for v in want.values() if isinstance(v, list) for lo in v)
        assert sorted(lo for v in data.values() if isinstance(v, list) for lo in v) == los
        assert {k: v for k, v in data.items() if isinstance(v, bytes)} == \
            {k: v for k, v in want.items() if isinstance(v, bytes)}


@FAST
@given(archives(), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1,
                            max_size=4), TARGETS)
def test_damaged_archives_convert_or_fail_cleanly(arch: Archive,
                                                  damage: list[tuple[float, int]],
                                                  target: tuple[str, str]) -> None:
    """A flipped byte or a cut: the result is an ArchiveError or an archive; never another
    exception, never something left behind on failure."""
    kind, method = target
    if kind == "tar":
        method = "none"
    if method in ("lz4", "zstd") and arch[0].version < K_VERS_1_15:
        method = "gzip"
    with tempfile.TemporaryDirectory() as d:
        src = write(Path(d), arch)
        files = sorted(src.iterdir()) if src.is_dir() else [src]
        rnd = random.Random(len(damage))
        for where, value in damage:
            f = rnd.choice(files)
            raw = bytearray(f.read_bytes())
            if not raw:
                continue
            pos = int(where * (len(raw) - 1))
            if value < 16:
                del raw[pos:]
            else:
                raw[pos] ^= value
            f.write_bytes(bytes(raw))
        dst = Path(d) / "dst"
        try:
            convert(str(src), str(dst), ConvertOptions(kind=kind,
                                                       compression=CompressionSpec.parse(method)))
        except ArchiveError:
            assert sorted(os.listdir(d)) == [src.name]
            return
        assert sorted(os.listdir(d)) == sorted([src.name, "dst"])
