"""Property tests: synthetic archives of every version, format and compression, built with
the construct specification, read back exactly; mutated (truncated, flipped, spliced,
duplicated, length fields inflated) they give a correct result or an ArchiveError, never
another exception, within bounded time and memory."""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgarchive
from helpers import TESTDATA
from pgarchive.errors import ArchiveError
from pgarchive.format.constants import ArchiveFormat, Compression, OffsetFlag, Section
from pgarchive.format.model import Header, TocEntry
from pgarchive.format.writer import build_custom, build_directory, build_tar
from pgarchive.selection import RestoreOptions, Selection, chosen, select
from pgarchive.verify import verify

VERSIONS = [(1, m) for m in range(10, 17)]
DESCS = ["TABLE", "INDEX", "COMMENT", "ACL", "SEQUENCE", "FUNCTION", "CONSTRAINT",
         "FK CONSTRAINT", "SCHEMA", "VIEW", "TRIGGER", "DEFAULT"]
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=12)
maybe = st.none() | text


@st.composite
def archives(draw: st.DrawFn) -> tuple[Header, list[TocEntry], dict[int, object], str]:
    vmaj, vmin = draw(st.sampled_from(VERSIONS))
    fmt = draw(st.sampled_from(["custom", "directory", "tar"]))
    algos = [Compression.NONE, Compression.GZIP]
    if vmin >= 15:
        algos += [Compression.LZ4, Compression.ZSTD]
    algo = draw(st.sampled_from(algos))
    h = Header(vmaj, vmin, 0, 4, 8, ArchiveFormat.CUSTOM, algo,
               None if vmin >= 15 else (0 if algo == Compression.NONE else -1),
               (1, 2, 3, 4, 5, 120, 0), draw(maybe), draw(maybe), draw(maybe), 0, 0)
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n, unique=True))
    entries: list[TocEntry] = []
    data: dict[int, object] = {}
    used_oids: set[int] = set()
    for i in ids:
        desc = draw(st.sampled_from([*DESCS, "TABLE DATA", "BLOBS"]))
        if desc == "BLOBS" and vmin < 16 and any(x.desc == "BLOBS" for x in entries):
            desc = "TABLE DATA"  # before 1.16 pg_dump writes one BLOBS entry at most
        had = desc in ("TABLE DATA", "BLOBS")
        deps = tuple(draw(st.lists(st.integers(1, 70), max_size=4)))  # missing, repeated, cyclic
        cols = draw(st.integers(1, 4))
        sect = (Section.DATA if had else draw(st.sampled_from(list(Section)))) \
            if vmin >= 11 else (Section.DATA if had else Section.PRE_DATA)
        entries.append(TocEntry(
            i, had, draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1)),
            draw(text), desc, sect, draw(maybe), draw(maybe),
            "COPY t (" + ", ".join(f"c{k}" for k in range(cols)) + ") FROM stdin;\n"
            if desc == "TABLE DATA" else None,
            draw(maybe), draw(maybe) if vmin >= 10 else None,
            draw(maybe) if vmin >= 14 else None, draw(st.integers(0, 127)) if vmin >= 16 else 0,
            draw(maybe), False, deps if vmin >= 5 else (),
            OffsetFlag.NO_DATA, 0, None, 0))
        if desc == "TABLE DATA":
            rows = draw(st.lists(st.lists(st.text("ab\\\t\n", max_size=4).map(
                lambda s: s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")),
                min_size=cols, max_size=cols), max_size=5))
            data[i] = ("".join("\t".join(r) + "\n" for r in rows) + "\\.\n\n\n").encode()
        elif desc == "BLOBS":
            # oids are unique in a database (a directory archive names files after them)
            oids = draw(st.lists(st.integers(1, 2**32 - 1).filter(lambda o: o not in used_oids),
                                 max_size=3, unique=True))
            used_oids.update(oids)
            data[i] = [(oid, draw(st.binary(max_size=40))) for oid in oids]
    return h, entries, data, fmt


def write(tmp: Path, h: Header, entries: list[TocEntry], data: dict[int, object],
          fmt: str) -> Path:
    if fmt == "custom":
        p = tmp / "a.dump"
        p.write_bytes(build_custom(h, entries, data))  # type: ignore[arg-type]
    elif fmt == "tar":
        p = tmp / "a.tar"
        p.write_bytes(build_tar(h, entries, data))  # type: ignore[arg-type]
    else:
        p = tmp / "a_dir"
        p.mkdir(exist_ok=True)
        for f in p.iterdir():
            f.unlink()
        for name, raw in build_directory(h, entries, data).items():  # type: ignore[arg-type]
            (p / name).write_bytes(raw)
    return p


def exercise(path: str) -> None:
    """Everything a user can ask of an archive; ArchiveError is the only allowed failure."""
    with pgarchive.open(path) as a:
        sel = Selection(RestoreOptions(tables=("x",), sel_table=True), with_deps=True)
        chosen(select(a.entries, sel))
        for e in a.entries:
            if e.has_data and e.desc != "BLOBS":
                for _ in a.data(e):
                    pass
    verify(path)


FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(archives())
def test_round_trip(arch: tuple[Header, list[TocEntry], dict[int, object], str]) -> None:
    h, entries, data, fmt = arch
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d), h, entries, data, fmt)
        with pgarchive.open(str(p)) as a:
            assert [(e.dump_id, e.tag, e.desc, e.defn, e.owner, e.dependencies)
                    for e in a.entries] == [(e.dump_id, e.tag, e.desc, e.defn, e.owner,
                                             e.dependencies) for e in entries]
            for e in a.entries:
                if e.desc == "TABLE DATA" and e.has_data:
                    assert b"".join(a.data(e)) == data[e.dump_id]
                elif e.desc == "BLOBS" and e.has_data:
                    assert list(a.read_large_objects(e)) == data[e.dump_id]
        report = verify(str(p))
        assert report.ok, [str(x) for x in report.all_problems()]


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, float, int]]:
    return draw(st.lists(st.tuples(
        st.sampled_from(["truncate", "flip", "splice", "duplicate", "inflate"]),
        st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=3))


def mutate(raw: bytes, ops: list[tuple[str, float, int]]) -> bytes:
    b = bytearray(raw)
    for op, where, v in ops:
        if not b:
            break
        i = min(int(where * len(b)), len(b) - 1)
        if op == "truncate":
            del b[i:]
        elif op == "flip":
            b[i] ^= v or 1
        elif op == "splice":
            b[i:i] = b[max(0, i - v):i]
        elif op == "duplicate":
            b[i:i] = b[i:i + v] * 2
        else:  # inflate a length-like field: a sign byte 0 then a huge magnitude
            b[i:i + 5] = bytes([0, 0xFF, 0xFF, 0xFF, 0x7F])
    return bytes(b)


@FAST
@given(archives(), mutations())
def test_mutated_archives_fail_cleanly(
        arch: tuple[Header, list[TocEntry], dict[int, object], str],
        ops: list[tuple[str, float, int]]) -> None:
    h, entries, data, fmt = arch
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d), h, entries, data, fmt)
        targets = [p] if p.is_file() else [p / "toc.dat", *sorted(p.iterdir())[:2]]
        for t in targets:
            t.write_bytes(mutate(t.read_bytes(), ops))
        tracemalloc.start()
        start = time.perf_counter()
        try:
            exercise(str(p))
        except ArchiveError as e:
            assert str(e) and "\n" not in str(e)
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert time.perf_counter() - start < 5
        assert peak < 64 << 20


def test_inflated_counts_allocate_nothing(tmp_path: Path) -> None:
    """A TOC count of a billion and a string length of 2^31 in a small file: errors, fast."""
    src = (TESTDATA / "pg18" / "custom.dump").read_bytes()
    with pgarchive.open(str(TESTDATA / "pg18/custom.dump")) as a:
        count_at = a.header.toc_offset - 5
    for patch_at, value in ((count_at, bytes([0, 0, 0xCA, 0x9A, 0x3B])),
                            (count_at + 5 + 10 + 5 + 4, bytes([0, 0, 0, 0, 0x80]))):
        raw = bytearray(src[:1024])
        raw[patch_at:patch_at + 5] = value
        p = tmp_path / "x.dump"
        p.write_bytes(raw)
        tracemalloc.start()
        try:
            with pgarchive.open(str(p)):
                raise AssertionError("should not parse")
        except ArchiveError as e:
            assert "truncated" in str(e)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 1 << 20


def test_zip_bomb_block_is_bounded(tmp_path: Path) -> None:
    """A small gzip block that inflates to 200 MB is streamed in bounded pieces."""
    import zlib

    from pgarchive.compression import decompress

    bomb = zlib.compress(b"\0" * (200 << 20), 9)
    assert len(bomb) < 300_000
    tracemalloc.start()
    total = 0
    for piece in decompress(Compression.GZIP, [bomb[i:i + 4096]
                                               for i in range(0, len(bomb), 4096)]):
        assert len(piece) <= 1 << 20
        total += len(piece)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == 200 << 20 and peak < 16 << 20


def test_directory_names_cannot_leave_the_folder(tmp_path: Path) -> None:

    h = Header(1, 16, 0, 4, 8, ArchiveFormat.TAR, Compression.NONE, None, (0,) * 7,
               "db", "18", "18", 1, 0)
    e = TocEntry(5, True, 0, 1, "t", "TABLE DATA", Section.DATA, None, None,
                 "COPY t (a) FROM stdin;\n", "public", None, None, 0, "o", False, ())
    for name in ("../outside.dat", "/etc/passwd", "sub/x.dat"):
        from pgarchive.format.writer import build_toc_file

        d = tmp_path / f"d{abs(hash(name))}"
        d.mkdir()
        (d / "toc.dat").write_bytes(build_toc_file(h, [e._replace(filename=name)], "filename"))
        (tmp_path / "outside.dat").write_bytes(b"1\n\\.\n\n\n")
        report = verify(str(d))
        assert not report.ok
        assert any("not a plain file name" in str(p) for p in report.all_problems())
    # A plain name, but the file is a link to something outside the archive.
    d = tmp_path / "linked"
    d.mkdir()
    (d / "toc.dat").write_bytes(build_toc_file(h, [e._replace(filename="5.dat")], "filename"))
    os.symlink(tmp_path / "outside.dat", d / "5.dat")
    report = verify(str(d))
    assert any("link that leaves the archive" in str(p) for p in report.all_problems())
