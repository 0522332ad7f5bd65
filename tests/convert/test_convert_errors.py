"""Damaged input and refused requests: convert stops with the file, offset and entry, exits
non-zero with one line, and leaves nothing behind -- no DST, no temporary file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pgarchive
from helpers import TESTDATA
from pgarchive.compression import CompressionSpec
from pgarchive.convert import ConvertOptions, convert
from pgarchive.errors import ArchiveError

PG18 = TESTDATA / "pg18"


def table_data(path: Path, table: str) -> int:
    """The dump id of ``table``'s TABLE DATA entry (ids change when the corpus is remade)."""
    with pgarchive.open(str(path)) as a:
        return next(e.dump_id for e in a.entries if e.desc == "TABLE DATA" and e.tag == table)


def with_data(path: Path) -> int:
    """How many entries of the archive have data."""
    with pgarchive.open(str(path)) as a:
        return sum(e.had_dumper for e in a.entries)


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``pgarchive convert ARGS``, run in this process through the real entry point
    (its error handling included), with stdout, stderr and the exit status captured."""
    import contextlib
    import io

    from pgarchive.cli import main

    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8")
    err = io.TextIOWrapper(err_bytes, encoding="utf-8")
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["convert", *args])
        except SystemExit as e:
            code = int(e.code or 0)
    out.flush()
    err.flush()
    return subprocess.CompletedProcess(args, code, out_bytes.getvalue(), err_bytes.getvalue())


def real_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pgarchive", "convert", *args],
                          capture_output=True)


def one_line_error(res: subprocess.CompletedProcess[bytes], *words: str) -> str:
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("pgarchive: error: ")
    for w in words:
        assert w in err, err
    return err


def _only(folder: Path, *names: str) -> None:
    """Nothing but ``names`` in the folder: no output, no temporary file or folder."""
    assert sorted(os.listdir(folder)) == sorted(names)


def _last_block(path: Path) -> int:
    with pgarchive.open(str(path)) as a:
        return max(e.data_offset or 0 for e in a.entries)


TARGETS = [ConvertOptions(), ConvertOptions(kind="directory"), ConvertOptions(kind="tar"),
           ConvertOptions(compression=CompressionSpec.parse("zstd")),
           ConvertOptions(compression=CompressionSpec.parse("lz4"), jobs=2)]


@pytest.mark.parametrize("opts", TARGETS, ids=["copy", "rewrap", "tar", "recompress", "jobs"])
@pytest.mark.parametrize("name", ["custom.dump", "custom_pipe.dump", "custom_z0.dump"])
def test_truncated_archive_stops_with_entry_and_offset(name: str, opts: ConvertOptions,
                                                       tmp_path: Path) -> None:
    raw = (PG18 / name).read_bytes()
    src = tmp_path / name
    offsets = PG18 / name.replace("_pipe", "")  # the piped dump has none: same layout
    src.write_bytes(raw[:_last_block(offsets) + 30])  # inside the last block
    dst = tmp_path / "out"
    with pytest.raises(ArchiveError) as err:
        convert(str(src), str(dst), opts)
    e = err.value
    assert e.path == str(src) and e.offset is not None and e.entry, str(e)
    assert "truncated" in str(e)
    _only(tmp_path, name)


def test_corrupt_compressed_data_is_found_when_it_is_read(tmp_path: Path) -> None:
    """Recompressing or rewrapping reads the data: a flipped byte stops it, at the
    entry.  A copy keeps the compressed bytes as they are (--verify checks the result)."""
    raw = bytearray((PG18 / "custom.dump").read_bytes())
    with pgarchive.open(str(PG18 / "custom.dump")) as a:
        e = a.entry(table_data(PG18 / "custom.dump", "customers"))  # several 4 kB chunks
        size = a.stored_size(e)
        assert e.data_offset is not None and size is not None
        raw[e.data_offset + size // 2] ^= 0x55
    src = tmp_path / "bad.dump"
    src.write_bytes(raw)
    for opts in (ConvertOptions(compression=CompressionSpec.parse("none")),
                 ConvertOptions(kind="directory")):
        with pytest.raises(ArchiveError) as err:
            convert(str(src), str(tmp_path / "out"), opts)
        assert f"{e.dump_id} TABLE DATA app customers" in str(err.value)
        assert err.value.offset is not None
        _only(tmp_path, "bad.dump")
    copied = convert(str(src), str(tmp_path / "copy.dump"))
    assert copied.copied == with_data(src)
    with pytest.raises(ArchiveError, match="failed verify"):
        convert(str(src), str(tmp_path / "checked.dump"), ConvertOptions(verify=True))
    _only(tmp_path, "bad.dump", "copy.dump")


def test_inflation_limit_holds_for_an_entry_recompressed(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Recompressing decodes with the readers' limit (README, Limits), one per entry for
    all its streams: two large objects each under the limit, together over it, stop the
    conversion at the entry and leave nothing behind (limit lowered to keep it small)."""
    import functools

    from pgarchive.compression import InflateLimit
    from pgarchive.convert import streams
    from pgarchive.format.constants import ArchiveFormat, Compression, Section
    from pgarchive.format.model import Header, TocEntry
    from pgarchive.format.writer import build_custom

    monkeypatch.setattr(streams, "InflateLimit", functools.partial(
        InflateLimit, ratio=10, floor=1 << 20))
    h = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, Compression.GZIP, None,
               (0, 0, 0, 1, 0, 125, 0), "db", "18", "18", 0, 0)
    blobs = TocEntry(1, True, 0, 0, "BLOBS", "BLOBS", Section.DATA, None, None, None, None,
                     None, None, 0, "me", False, ())
    src = tmp_path / "lo.dump"
    lo = b"\0" * (800 << 10)
    src.write_bytes(build_custom(h, [blobs], {1: [(70001, lo), (70002, lo)]}))
    with pytest.raises(ArchiveError, match="more than 10 times") as err:
        convert(str(src), str(tmp_path / "out.dump"),
                ConvertOptions(compression=CompressionSpec.parse("zstd")))
    assert "BLOBS" in str(err.value) and err.value.offset is not None
    _only(tmp_path, "lo.dump")
    monkeypatch.undo()
    convert(str(src), str(tmp_path / "out.dump"),
            ConvertOptions(compression=CompressionSpec.parse("zstd")))


def test_missing_directory_file_is_named(tmp_path: Path) -> None:
    src = tmp_path / "dir"
    shutil.copytree(PG18 / "dir", src)
    orders = table_data(src, "orders")
    (src / f"{orders}.dat.gz").unlink()
    res = real_cli(str(src), str(tmp_path / "out.dump"), "-F", "custom")
    one_line_error(res, f"{orders}.dat.gz", f"{orders} TABLE DATA app orders")
    _only(tmp_path, "dir")


def test_truncated_tar_member_is_named(tmp_path: Path) -> None:
    raw = (PG18 / "tar.tar").read_bytes()
    src = tmp_path / "t.tar"
    src.write_bytes(raw[:100_000])
    res = cli(str(src), str(tmp_path / "out"), "-F", "directory")
    one_line_error(res, "truncated", "offset")
    _only(tmp_path, "t.tar")


def test_interrupted_conversion_leaves_nothing(tmp_path: Path) -> None:
    def stop(_n: int) -> None:
        raise KeyboardInterrupt

    for opts in (ConvertOptions(), ConvertOptions(kind="directory")):
        with pytest.raises(KeyboardInterrupt):
            convert(str(PG18 / "custom.dump"), str(tmp_path / "out"), opts, progress=stop)
        _only(tmp_path)


def test_source_and_destination_are_checked(tmp_path: Path) -> None:
    src = tmp_path / "a.dump"
    shutil.copy(PG18 / "custom.dump", src)
    one_line_error(cli(str(src), str(src)), "SRC and DST are the same archive")
    link = tmp_path / "link.dump"
    link.symlink_to(src)
    one_line_error(cli(str(src), str(link), "--force"), "same archive")
    one_line_error(cli(str(PG18 / "dir"), str(PG18 / "dir" / "x.dump")),
                   "inside the source directory")
    one_line_error(cli(str(src), "-"), "DST must be a path")
    (tmp_path / "b.dump").write_bytes(b"precious")
    one_line_error(cli(str(src), str(tmp_path / "b.dump")), "DST exists; --force")
    assert (tmp_path / "b.dump").read_bytes() == b"precious"
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "x.txt").write_text("mine")
    one_line_error(cli(str(src), str(folder), "-F", "d", "--force"),
                   "not a directory archive")
    one_line_error(cli(str(src), str(tmp_path / "no" / "x.dump")), "does not exist")
    one_line_error(cli(str(src), str(tmp_path / "c.tar"), "-F", "t", "-Z", "gzip"),
                   "tar archives hold uncompressed data")
    one_line_error(cli(str(src), str(tmp_path / "c.dump"), "--archive-version", "1.9"),
                   "convert writes archive versions")
    one_line_error(cli(str(src), str(tmp_path / "c.dump"), "-Z", "gzip:11"),
                   "between 1 and 9")
    one_line_error(cli(str(src), str(tmp_path / "c.dump"), "--target-version", "13"),
                   "--target-version 13 is not supported")
    assert src.read_bytes() == (PG18 / "custom.dump").read_bytes()


def test_names_that_match_nothing(tmp_path: Path) -> None:
    """A name that matches nothing is a warning (as ls says it), refused with
    --strict-names (as pg_restore does); a selection of nothing is refused, as restore
    refuses it (pg_dump -t nosuch: "no matching tables were found"), leaving nothing."""
    src = str(PG18 / "custom.dump")
    res = cli(src, str(tmp_path / "a.dump"), "-t", "orders", "-t", "Customers")
    assert res.returncode == 0, res.stderr
    assert "pgarchive: warning: -t Customers matched nothing (did you mean customers?" \
        in res.stderr.decode()
    one_line_error(cli(src, str(tmp_path / "b.dump"), "-t", "orders", "-t", "nosuch",
                       "--strict-names"), "nosuch")
    one_line_error(cli(src, str(tmp_path / "c.dump"), "-t", "nosuch"),
                   "nothing to convert: -t nosuch matched nothing")
    one_line_error(cli(src, str(tmp_path / "c.dump"), "-s", "-a"), "cannot be used together")
    _only(tmp_path, "a.dump")


def test_force_replaces_files_and_directory_archives(tmp_path: Path) -> None:
    (tmp_path / "b.dump").write_bytes(b"old")
    res = cli(str(PG18 / "custom.dump"), str(tmp_path / "b.dump"), "--force")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "b.dump").read_bytes() == (PG18 / "custom.dump").read_bytes()
    shutil.copytree(PG18 / "dir_lz4", tmp_path / "d")
    res = cli(str(PG18 / "custom.dump"), str(tmp_path / "d"), "-F", "d", "--force")
    assert res.returncode == 0, res.stderr
    customers = table_data(PG18 / "custom.dump", "customers")
    assert not (tmp_path / "d" / f"{customers}.dat.lz4").exists()
    assert (tmp_path / "d" / f"{customers}.dat.gz").exists()
    empty = tmp_path / "e"
    empty.mkdir()
    res = cli(str(PG18 / "custom.dump"), str(empty), "-F", "d")  # as pg_dump -Fd accepts
    assert res.returncode == 0 and (empty / "toc.dat").exists()
    _only(tmp_path, "b.dump", "d", "e")


def test_cli_report_and_verify(tmp_path: Path) -> None:
    res = cli(str(PG18 / "custom_pipe.dump"), str(tmp_path / "x.dump"), "--verify", "-Z",
              "zstd:5", "--archive-version", "1.15")
    assert res.returncode == 0, res.stderr
    out = res.stdout.decode()
    assert "custom, zstd:5, archive version 1.15 (readable by pg_restore of PostgreSQL 16" in out
    n = with_data(tmp_path / "x.dump")
    assert f"{n} with data: 0 copied, 0 rewrapped (gzip, same deflate data), {n} recompressed" \
        in out
    assert f"verify: {n} entries" in out and ": OK" in out
    assert "note: large objects" in out
    res = cli(str(PG18 / "custom_stats.dump"), str(tmp_path / "t.dump"), "--target-version",
              "16")
    assert res.returncode == 0, res.stderr
    assert "note: --target-version 16: left out statistics" in res.stdout.decode()
    import json

    res = cli(str(PG18 / "custom.dump"), str(tmp_path / "y.dump"), "--json", "-t", "orders")
    report = json.loads(res.stdout)
    assert report["entries"] == 7 and report["copied"] == 1  # with the 3 special entries


@pytest.mark.parametrize(("kind", "method"), [("custom", "zstd"), ("directory", "gzip"),
                                              ("custom", "gzip:1")])
def test_jobs_give_the_same_archive(kind: str, method: str, tmp_path: Path) -> None:
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        convert(str(PG18 / "custom_lz4.dump"), str(out),
                ConvertOptions(kind=kind, compression=CompressionSpec.parse(method), jobs=jobs))
        outs.append(out)
    if kind == "custom":
        assert outs[0].read_bytes() == outs[1].read_bytes()
    else:
        assert sorted(os.listdir(outs[0])) == sorted(os.listdir(outs[1]))
        for name in os.listdir(outs[0]):
            assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()
    _only(tmp_path, "j1", "j2")


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_terminated_conversion_leaves_nothing(jobs: str, tmp_path: Path) -> None:
    """SIGTERM (kill, a service manager) unwinds like an interrupt: the partial output and
    the workers' spool files are removed, the workers stopped."""
    import random
    import signal
    import time

    from pgarchive.format.constants import K_VERS_1_16, ArchiveFormat, Compression, Section
    from pgarchive.format.model import Header, TocEntry
    from pgarchive.format.writer import build_custom

    rnd = random.Random(7)
    rows = "".join(f"{i}\t{rnd.getrandbits(128):x}\n" for i in range(400_000)).encode()
    h = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, Compression.GZIP, None,
               (0, 0, 0, 1, 0, 125, 0), "db", "18", "18", 0, 0)
    entries = [TocEntry(i, True, 0, 1000 + i, f"t{i}", "TABLE DATA", Section.DATA, None, None,
                        "COPY t (a, b) FROM stdin;\n", "public", None, None, 0, "me", False, ())
               for i in (1, 2)]
    assert h.version == K_VERS_1_16
    src = tmp_path / "big.dump"
    src.write_bytes(build_custom(h, entries, {1: rows, 2: rows}))
    proc = subprocess.Popen([sys.executable, "-m", "pgarchive", "convert", str(src),
                             str(tmp_path / "out.dump"), "-Z", "zstd:19", "-j", jobs],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(n.startswith(".pgarchive-") for n in os.listdir(tmp_path)):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "pgarchive: error: interrupted" in err.decode()
    _only(tmp_path, "big.dump")
