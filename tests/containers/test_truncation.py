"""Truncated archives: a precise ArchiveError (and one CLI line), never another exception."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import archive_path, corpus
from pgarchive.errors import ArchiveError


def _open_and_list(path: str) -> int:
    with pgarchive.open(path) as a:
        return len(a.entries)


@pytest.mark.parametrize("item", corpus("pg18", lambda i: i["archive"].endswith(
    ("custom.dump", "custom_pipe.dump", "custom_zstd.dump", "tar.tar"))))
def test_truncated_toc_is_an_archive_error(item: dict[str, Any], tmp_path: Path) -> None:
    raw = Path(archive_path(item)).read_bytes()
    with pgarchive.open(archive_path(item)) as a:
        c: Any = a.container
        toc_end = c.data_start if a.kind == "custom" else (
            c.members["toc.dat"].offset + c.members["toc.dat"].size)
        first_data = min((e.data_offset for e in a.entries
                          if e.has_data and e.data_offset), default=None)
    cut_path = tmp_path / "cut"
    step = max(1, toc_end // 400)
    for cut in range(0, toc_end, step):
        cut_path.write_bytes(raw[:cut])
        with pytest.raises(ArchiveError) as exc:
            _open_and_list(str(cut_path))
        assert exc.value.path == str(cut_path)
    # Past the TOC: the TOC is whole, so it lists (as pg_restore -l lists it); the data
    # that is gone is reported when it is read (issue #10).
    if first_data is not None and a.kind == "custom":
        cut_path.write_bytes(raw[:first_data])
        assert _open_and_list(str(cut_path)) == len(a.entries)
        with pgarchive.open(str(cut_path)) as cut:
            e = next(e for e in cut.entries if e.has_data and e.data_offset == first_data)
            with pytest.raises(ArchiveError, match="truncated"):
                b"".join(cut.data(e)) if e.desc != "BLOBS" else list(cut.large_objects(e))


def test_truncated_directory_toc(tmp_path: Path) -> None:
    src = Path(archive_path({"archive": "pg18/dir"}))
    d = tmp_path / "dir"
    d.mkdir()
    for f in src.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    toc = (src / "toc.dat").read_bytes()
    for cut in range(0, len(toc), 5):
        (d / "toc.dat").write_bytes(toc[:cut])
        with pytest.raises(ArchiveError):
            _open_and_list(str(d))
    (d / "toc.dat").write_bytes(toc + b"junk")
    with pytest.raises(ArchiveError, match="after the TOC"):
        _open_and_list(str(d))


def test_error_names_file_offset_and_entry(tmp_path: Path) -> None:
    raw = Path(archive_path({"archive": "pg18/custom.dump"})).read_bytes()
    p = tmp_path / "half.dump"
    # inside the TOC, past what its entry count alone rules out (the corpus grows)
    p.write_bytes(raw[:12000])
    with pytest.raises(ArchiveError) as exc:
        _open_and_list(str(p))
    text = str(exc.value)
    assert text.startswith(f"{p}: offset ") and "entry #" in text and "truncated" in text
    assert os.linesep not in text


@pytest.mark.parametrize("fmt", ["custom", "tar", "directory"])
@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_archive_cut_while_it_is_read(tmp_path: Path, fmt: str, compression: str) -> None:
    """Issue 12, item 7: the file shrinks under a reader (an overwriting pg_dump -f): the
    data is read with plain reads, never through the memory map (whose pages past the new
    end kill the process with SIGBUS), and the short read is said as such."""
    from pgarchive.errors import ArchiveError
    from pgarchive.format.constants import ArchiveFormat, Compression, OffsetFlag, Section
    from pgarchive.format.model import Header, TocEntry
    from pgarchive.format.writer import build_custom, build_directory, build_tar

    comp = Compression.GZIP if compression == "gzip" else Compression.NONE
    h = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, comp, None, (0, 0, 12, 1, 0, 126, 0),
               "db", "18.0", "18.0", 0, 0)
    table = TocEntry(1, False, 1259, 16001, "t", "TABLE", Section.PRE_DATA,
                     "CREATE TABLE public.t (a text);\n", "", None, "public", "", "heap",
                     ord("r"), "o", False, (), OffsetFlag.NO_DATA, 0)
    data = table._replace(dump_id=2, had_dumper=True, desc="TABLE DATA", section=Section.DATA,
                          defn="", copy_stmt="COPY public.t (a) FROM stdin;\n", relkind=0,
                          dependencies=(1,))
    rows = b"".join(b"%d\t%s\n" % (i, hashlib.md5(b"%d" % i).hexdigest().encode())
                    for i in range(200_000)) + b"\\.\n\n\n"  # (gzip: ~4 MB stored)
    if fmt == "custom":
        path = tmp_path / "a.dump"
        path.write_bytes(build_custom(h, [table, data], {2: rows}))
        victim = path
    elif fmt == "tar":
        path = tmp_path / "a.tar"
        path.write_bytes(build_tar(h, [table, data], {2: rows}))
        victim = path
    else:
        path = tmp_path / "d"
        path.mkdir()
        files = build_directory(h._replace(format_code=ArchiveFormat.DIRECTORY),
                                [table, data], {2: rows})
        for name, body in files.items():
            (path / name).write_bytes(body)
        victim = path / next(n for n in files if n.startswith("2.dat"))
    with pgarchive.open(str(path)) as a:
        (e,) = [x for x in a.entries if x.desc == "TABLE DATA"]
        pieces = iter(a.data(e, 1 << 14))
        first = next(pieces)
        assert first
        with open(victim, "r+b") as f:
            f.truncate(victim.stat().st_size // 4)
        with pytest.raises(ArchiveError) as err:
            for _ in pieces:
                pass
    assert "the archive changed while it was being read" in str(err.value), str(err.value)


@pytest.mark.parametrize("size_field", ["base-256", "pax"])
def test_tar_member_size_beyond_any_file(tmp_path: Path, size_field: str) -> None:
    """Issue 12, item 6: a tar size field of 2**63-1 (base-256) or 10**30 (pax) is a member
    cut short (verify: damage naming it), not an internal error; info and ls still work."""
    import io
    import subprocess
    import sys
    import tarfile

    from helpers import TESTDATA

    raw = bytearray((TESTDATA / "pg18" / "tar.tar").read_bytes())
    src = tarfile.open(fileobj=io.BytesIO(bytes(raw)))  # noqa: SIM115 -- in memory
    victim = next(m for m in src.getmembers() if m.name.endswith(".dat")
                  and m.name[0].isdigit())  # a table's data
    if size_field == "base-256":
        off = victim.offset
        raw[off + 124:off + 136] = bytes([0x80]) + ((1 << 63) - 1).to_bytes(11, "big")
        raw[off + 148:off + 156] = b" " * 8
        raw[off + 148:off + 156] = b"%06o\0 " % sum(raw[off:off + 512])
        data = bytes(raw)
    else:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as out:
            for m in src.getmembers():
                f = src.extractfile(m)
                if m.name == victim.name:
                    m.pax_headers = {"size": str(10**30)}
                out.addfile(m, f)
        data = buf.getvalue()
    path = tmp_path / "a.tar"
    path.write_bytes(data)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pgarchive", *args, str(path)],
                              capture_output=True, text=True, timeout=120)

    for args in (["info"], ["ls"], ["ls", "-F", "json"]):
        assert run(*args).returncode == 0, args
    res = run("verify")
    assert res.returncode == 1, res.stderr
    assert f"tar member '{victim.name}' of " in res.stdout and "is cut short" in res.stdout
