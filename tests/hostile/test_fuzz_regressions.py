"""Inputs that once broke the reader (found by mutation, fuzzing and memory checks)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

import pgarchive
from helpers import TESTDATA
from pgarchive.errors import ArchiveError
from pgarchive.format import writer
from pgarchive.format.toc import decimal_uint
from pgarchive.verify import verify


def test_huge_decimal_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 5000-digit OID once raised Python's int-string limit (ValueError)."""
    with pgarchive.open(str(TESTDATA / "pg18" / "custom.dump")) as a:
        h, entries = a.header, list(a.entries)
    plain = writer.entry_values

    def evil(e: object, codec: str = "utf-8") -> dict[str, object]:
        v = plain(e, codec)  # type: ignore[arg-type]
        if e.dump_id == entries[5].dump_id:  # type: ignore[attr-defined]
            v["oid"] = b"9" * 5000
            v["dependencies"] = [b"7" * 5000, b" 12abc", None]
        return v

    monkeypatch.setattr(writer, "entry_values", evil)
    p = tmp_path / "huge.dump"
    p.write_bytes(writer.build_custom(h, entries, {}))
    with pgarchive.open(str(p)) as a:
        assert a.entries[5].oid == 0xFFFFFFFF
        assert a.entries[5].dependencies == (0xFFFFFFFF, 12)


@pytest.mark.parametrize("text, value", [("123", 123), (" 42x", 42), ("", 0), ("abc", 0),
                                         ("4294967296", 0), ("1" * 25, 0xFFFFFFFF),
                                         ("+7", 7)])
def test_decimal_uint_is_strtoul_like(text: str, value: int) -> None:
    assert decimal_uint(text) == value


def test_empty_blob_toc_allocates_nothing(tmp_path: Path) -> None:
    """Reading blobs.toc once preallocated 64 MiB whatever its size."""
    import shutil

    d = tmp_path / "dir"
    shutil.copytree(TESTDATA / "pg18" / "dir", d)
    for f in d.glob("blobs_*.toc"):
        f.write_bytes(b"")
    tracemalloc.start()
    verify(str(d))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 << 20


def test_blob_toc_with_hostile_lines(tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "dir"
    shutil.copytree(TESTDATA / "pg18" / "dir", d)
    toc = next(d.glob("blobs_*.toc"))
    toc.write_bytes(b"9" * 6000 + b" blob_1.dat\n70002 ../../etc/passwd\n")
    report = verify(str(d))
    assert not report.ok
    assert any("not a plain file name" in str(p) or "could not open" in str(p)
               for p in report.all_problems())


def test_tar_member_names_and_blob_names(tmp_path: Path) -> None:
    import io
    import tarfile

    out_path = tmp_path / "t.tar"
    with tarfile.open(TESTDATA / "pg18" / "tar.tar") as src, \
            tarfile.open(out_path, "w", format=tarfile.USTAR_FORMAT) as out:
        for m in src.getmembers():
            data = src.extractfile(m).read()  # type: ignore[union-attr]
            if m.name.startswith("blobs_"):
                data = b"70001 \xff\xfe.dat\n"
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))
    report = verify(str(out_path))
    assert not report.ok
    with tarfile.open(out_path, "a") as out:
        info = tarfile.TarInfo("../evil")
        info.size = 1
        out.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ArchiveError, match="would leave the archive"):
        pgarchive.open(str(out_path))
