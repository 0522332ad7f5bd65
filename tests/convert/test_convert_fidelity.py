"""convert writes what pg_dump writes: the corpus has the same dump in several forms (made
by one pg_dump run each), so converting one form into another must give the other's bytes
-- up to the creation time in the header when the runs fell in different seconds."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

import pgarchive
from convert_helpers import same_but_time, tm_span
from helpers import TESTDATA
from pgarchive.compression import CompressionSpec
from pgarchive.convert import ConvertOptions, convert

GROUPS = ["pg10", "pg11", "pg12", "pg14", "pg15", "pg16", "pg17", "pg18"]


def _same_file(mine: Path, theirs: Path) -> None:
    a, b = mine.read_bytes(), theirs.read_bytes()
    assert same_but_time(a, b, tm_span(theirs)), (mine, theirs)


@pytest.mark.parametrize("src", [f"{g}/custom_pipe.dump" for g in GROUPS] +
                         ["samples/v15_pipe.dump", "samples/v18_pipe.dump"])
def test_piped_dump_becomes_what_pg_dump_writes_to_a_file(src: str, tmp_path: Path) -> None:
    """The data offsets are set, exactly as pg_dump sets them on a seekable file."""
    out = tmp_path / "seekable.dump"
    convert(str(TESTDATA / src), str(out))
    _same_file(out, TESTDATA / src.replace("_pipe", ""))
    with pgarchive.open(str(out)) as a:
        assert a.can_seek_data


@pytest.mark.parametrize("group", GROUPS)
def test_custom_to_directory_gives_pg_dumps_directory(group: str, tmp_path: Path) -> None:
    out = tmp_path / "dir"
    report = convert(str(TESTDATA / group / "custom.dump"), str(out),
                     ConvertOptions(kind="directory"))
    assert report.recompressed == 0 and report.rewrapped > 0  # zlib -> gzip files, kept
    theirs = TESTDATA / group / "dir"
    assert sorted(os.listdir(out)) == sorted(os.listdir(theirs))
    for name in os.listdir(theirs):
        if name == "toc.dat":
            _same_file(out / name, theirs / name)
        else:
            assert (out / name).read_bytes() == (theirs / name).read_bytes(), name


@pytest.mark.parametrize("group", GROUPS)
def test_directory_to_custom_gives_pg_dumps_custom(group: str, tmp_path: Path) -> None:
    out = tmp_path / "c.dump"
    convert(str(TESTDATA / group / "dir"), str(out), ConvertOptions(kind="custom"))
    _same_file(out, TESTDATA / group / "custom.dump")


@pytest.mark.parametrize("group", GROUPS)
def test_uncompressed_to_gzip_gives_pg_dumps_gzip(group: str, tmp_path: Path) -> None:
    """Recompression: pg_dump's zlib stream, in pg_dump's 4096-byte chunks."""
    out = tmp_path / "c.dump"
    report = convert(str(TESTDATA / group / "custom_z0.dump"), str(out),
                     ConvertOptions(compression=CompressionSpec.parse("gzip")))
    assert report.copied == 0 and report.recompressed > 0
    _same_file(out, TESTDATA / group / "custom.dump")


@pytest.mark.parametrize("group", ["pg16", "pg18"])
@pytest.mark.parametrize("method", ["lz4", "zstd"])
def test_directory_to_custom_keeps_lz4_and_zstd_frames(group: str, method: str,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "c.dump"
    report = convert(str(TESTDATA / group / f"dir_{method}"), str(out),
                     ConvertOptions(kind="custom"))
    assert report.copied > 0 and report.recompressed == report.rewrapped == 0
    with pgarchive.open(str(out)) as mine, \
            pgarchive.open(str(TESTDATA / group / f"custom_{method}.dump")) as theirs:
        assert mine.header.compression == theirs.header.compression
        for e in theirs.entries:
            if e.has_data:
                a = [b"".join(s.chunks) for _o, s in mine.stored_streams(mine.entry(e.dump_id))]
                b = [b"".join(s.chunks) for _o, s in theirs.stored_streams(e)]
                assert a == b, e.label


@pytest.mark.parametrize("group", ["pg10", "pg15", "pg18"])
def test_custom_to_tar_gives_pg_dumps_members(group: str, tmp_path: Path) -> None:
    """Same members in the same order, same bytes (restore.sql, the script for people
    that pg_restore never reads, is not written)."""
    out = tmp_path / "t.tar"
    convert(str(TESTDATA / group / "custom.dump"), str(out), ConvertOptions(kind="tar"))
    with tarfile.open(out) as mine, tarfile.open(TESTDATA / group / "tar.tar") as theirs:
        want = [m for m in theirs.getmembers() if m.name != "restore.sql"]
        got = mine.getmembers()
        assert [m.name for m in got] == [m.name for m in want]
        for m, t in zip(got, want, strict=True):
            assert (m.mode, m.uid, m.gid, m.uname, m.gname) == \
                (t.mode, t.uid, t.gid, t.uname, t.gname)
            a = mine.extractfile(m).read()  # type: ignore[union-attr]
            b = theirs.extractfile(t).read()  # type: ignore[union-attr]
            if m.name == "toc.dat":
                span = tm_span(TESTDATA / group / "custom.dump")
                b = b[:span[0]] + a[span[0]:span[1]] + b[span[1]:]
            assert a == b, m.name
    assert out.stat().st_size % 512 == 0
    assert out.read_bytes()[-1024:] == bytes(1024)


@pytest.mark.parametrize("src", ["pg18/custom.dump", "pg18/custom_lz4.dump",
                                 "pg17/custom_zstd.dump", "pg12/custom.dump",
                                 "samples/synthetic_v112_nosearchpath.dump"])
def test_unchanged_custom_archive_is_copied_byte_for_byte(src: str, tmp_path: Path) -> None:
    out = tmp_path / "same.dump"
    report = convert(str(TESTDATA / src), str(out))
    assert report.recompressed == report.rewrapped == 0
    raw = (TESTDATA / src).read_bytes()
    with pgarchive.open(str(TESTDATA / src)) as a:
        has_offsets = a.can_seek_data
    if has_offsets:
        assert out.read_bytes() == raw
    else:  # the synthetic 1.12 sample has no offsets: only those may differ
        assert len(out.read_bytes()) == len(raw)


@pytest.mark.parametrize("src", ["pg18/dir", "pg16/dir_zstd", "pg10/dir"])
def test_unchanged_directory_archive_is_copied_file_for_file(src: str, tmp_path: Path) -> None:
    out = tmp_path / "d"
    convert(str(TESTDATA / src), str(out))
    theirs = TESTDATA / src
    assert sorted(os.listdir(out)) == sorted(os.listdir(theirs))
    for name in os.listdir(theirs):
        assert (out / name).read_bytes() == (theirs / name).read_bytes(), name


@pytest.mark.parametrize("src", [f"{g}/tar.tar" for g in GROUPS] +
                         ["samples/v15.tar", "samples/v18.tar"])
def test_unchanged_tar_archive_is_copied_byte_for_byte(src: str, tmp_path: Path) -> None:
    """Members, their headers (mtime included) and restore.sql, carried over."""
    out = tmp_path / "same.tar"
    convert(str(TESTDATA / src), str(out))
    assert out.read_bytes() == (TESTDATA / src).read_bytes()


def test_tar_subset_leaves_restore_sql_out(tmp_path: Path) -> None:
    """restore.sql names the original's entries: a subset does not carry it."""
    from pgarchive.selection import RestoreOptions, Selection

    out = tmp_path / "part.tar"
    convert(str(TESTDATA / "pg18" / "tar.tar"), str(out), ConvertOptions(
        selection=Selection(RestoreOptions(tables=("orders",), sel_table=True))))
    with tarfile.open(out) as tf:
        names = tf.getnames()
    with pgarchive.open(str(out)) as a:
        orders = next(e.dump_id for e in a.entries if e.desc == "TABLE DATA")
    assert "restore.sql" not in names and names == ["toc.dat", f"{orders}.dat"]
