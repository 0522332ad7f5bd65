"""Issue 10, "read from where pg_restore reads, and a little further": a custom or tar
archive on standard input (``-``, or ``/dev/stdin`` as a pipe), and an archive compressed
as a whole after pg_dump (gzip, zstd, xz, bzip2, lz4; ``dump.tar.gz``), recognised by its
magic bytes.  The archives are real pg_dump 18 output, the wrappers the real libraries'
(and gzip's own multi-member form); pg_restore -l's golden listing is the oracle."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import lz4.frame
import pytest
import zstandard

from helpers import TESTDATA

PG18 = TESTDATA / "pg18"
CUSTOM = PG18 / "custom.dump"
TAR = PG18 / "tar.tar"
LIST = (PG18 / "expected" / "custom.dump.list").read_bytes()
TAR_LIST = (PG18 / "expected" / "tar.tar.list").read_bytes()


def pgarchive(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pgarchive", *args], input=stdin,
                          capture_output=True, timeout=120, env={"TZ": "UTC", "PATH": "/usr/bin"})


def _two_gzip_members(data: bytes) -> bytes:
    half = len(data) // 2
    return gzip.compress(data[:half]) + gzip.compress(data[half:])


WRAPPERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "gzip-two-members": _two_gzip_members,
    "zstd": zstandard.ZstdCompressor().compress, "xz": lzma.compress,
    "bzip2": bz2.compress, "lz4": lz4.frame.compress,
}


@pytest.mark.parametrize("arg", ["-", "/dev/stdin"])
def test_custom_archive_on_standard_input(arg: str) -> None:
    res = pgarchive("ls", "--format", "list", arg, stdin=CUSTOM.read_bytes())
    assert res.returncode == 0, res.stderr
    assert res.stdout == LIST
    res = pgarchive("verify", "--jobs", "2", arg, stdin=CUSTOM.read_bytes())
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip().endswith(b"OK")


def test_tar_archive_on_standard_input() -> None:
    res = pgarchive("ls", "--format", "list", "-", stdin=TAR.read_bytes())
    assert res.returncode == 0 and res.stdout == TAR_LIST, res.stderr
    res = pgarchive("info", "-", stdin=TAR.read_bytes())
    assert res.returncode == 0 and b"format:              tar" in res.stdout, res.stdout


@pytest.mark.parametrize("name", list(WRAPPERS))
def test_archive_compressed_as_a_whole(tmp_path: Path, name: str) -> None:
    path = tmp_path / "backup.bin"  # no telling suffix: the magic bytes decide
    path.write_bytes(WRAPPERS[name](CUSTOM.read_bytes()))
    res = pgarchive("ls", "--format", "list", str(path))
    assert res.returncode == 0, res.stderr
    assert res.stdout == LIST
    res = pgarchive("verify", str(path))
    assert res.returncode == 0 and res.stdout.rstrip().endswith(b"OK"), res.stderr
    # and the same bytes through a pipe
    res = pgarchive("ls", "--format", "list", "-", stdin=path.read_bytes())
    assert res.returncode == 0 and res.stdout == LIST, res.stderr


def test_tar_gz(tmp_path: Path) -> None:
    path = tmp_path / "dump.tar.gz"
    path.write_bytes(gzip.compress(TAR.read_bytes()))
    res = pgarchive("ls", "--format", "list", str(path))
    assert res.returncode == 0 and res.stdout == TAR_LIST, res.stderr


def test_compressed_text_dump_says_use_psql(tmp_path: Path) -> None:
    path = tmp_path / "dump.sql.gz"
    path.write_bytes(gzip.compress(b"--\n-- PostgreSQL database dump\n--\n\nSET x = 1;\n"))
    res = pgarchive("ls", str(path))
    assert res.returncode == 2
    assert res.stderr == (f"pgarchive: error: {path}: input file appears to be a text "
                          "format dump; use psql to restore it\n").encode()


@pytest.mark.parametrize("name", ["gzip", "xz", "lz4"])
def test_truncated_wrapper_is_one_line_error(tmp_path: Path, name: str) -> None:
    whole = WRAPPERS[name](CUSTOM.read_bytes())
    path = tmp_path / "cut.bin"
    path.write_bytes(whole[:len(whole) // 2])
    res = pgarchive("ls", str(path))
    assert res.returncode == 2, res.stdout
    lines = res.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pgarchive: error: {path}: could not "
                                                    "read the archive from"), lines


def test_endless_non_archive_stream_is_not_read_to_its_end() -> None:
    """`yes | pgarchive ls -`: the first megabyte says it is no archive."""
    import signal

    # the feeder writes on after the command has gone: EPIPE, not a SIGPIPE that would end
    # this test process (an in-process CLI test may have left SIGPIPE at its default)
    saved = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        p = subprocess.Popen([sys.executable, "-m", "pgarchive", "ls", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        assert p.stdin is not None
        stdin = p.stdin

        def feed() -> None:
            try:
                for _ in range(64):  # 64 MiB, far more than is read: not closed before exit
                    stdin.write(b"y\n" * (1 << 19))
            except (BrokenPipeError, ValueError):
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        _, err = p.communicate(timeout=60)
        feeder.join(timeout=60)
    finally:
        signal.signal(signal.SIGPIPE, saved)
    assert p.returncode == 2
    assert err == b"pgarchive: error: -: input file does not appear to be a valid archive\n"


def test_empty_standard_input_and_devices() -> None:
    res = pgarchive("ls", "-", stdin=b"")
    assert (res.returncode, res.stderr) == (2, b"pgarchive: error: -: file is empty\n")
    res = pgarchive("ls", "/dev/zero")
    assert res.returncode == 2
    assert res.stderr == b"pgarchive: error: /dev/zero: not a regular file, a directory or a pipe\n"


@pytest.mark.parametrize("member", ["2848.dat.gz", "blobs_2865.toc"])
def test_fifo_in_a_directory_archive_is_damage_not_a_hang(tmp_path: Path, member: str) -> None:
    """Issue 12, item 8: a FIFO where a data file or blobs TOC should be is refused before
    anything waits on it (verify: damage naming it; ls and info: done)."""
    import os
    import shutil

    d = tmp_path / "dir"
    shutil.copytree(PG18 / "dir", d)
    (d / member).unlink()
    os.mkfifo(d / member)
    res = pgarchive("verify", str(d))
    assert res.returncode == 1, res.stderr
    assert f"damage: {d / member}: ".encode() in res.stdout
    assert b"not a regular file" in res.stdout
    for command in ("ls", "info"):
        assert pgarchive(command, str(d)).returncode == 0


def test_compressed_toc_is_inflated_as_a_stream(tmp_path: Path) -> None:
    """Issue 12, item 9: a small toc.dat.gz that inflates to hundreds of MB is not held in
    memory (it was, twice: 2 GB for 4 MB); a plain toc.dat.gz still reads as pg_restore
    reads it."""
    import shutil
    import zlib

    d = tmp_path / "dir"
    shutil.copytree(PG18 / "dir", d)
    toc = (d / "toc.dat").read_bytes()
    (d / "toc.dat").unlink()
    (d / "toc.dat.gz").write_bytes(gzip.compress(toc))
    res = pgarchive("ls", "--format", "list", str(d))
    assert res.returncode == 0 and res.stdout == (PG18 / "expected" / "dir.list").read_bytes()
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(d / "toc.dat.gz", "wb") as f:
        f.write(z.compress(toc))
        for _ in range(300):
            f.write(z.compress(bytes(1 << 20)))
        f.write(z.flush())
    # the peak RSS of that command alone: measured by a parent of its own
    probe = ("import resource, subprocess, sys; r = subprocess.run([sys.executable, '-m', "
             "'pgarchive', 'ls', sys.argv[1]], capture_output=True); print(r.returncode, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.stderr)")
    out = subprocess.run([sys.executable, "-c", probe, str(d)], capture_output=True,
                         text=True, check=True, timeout=120).stdout.split(" ", 2)
    assert out[0] == "2" and "bytes after the TOC" in out[2], out
    assert int(out[1]) < 100 * 1024, f"peak RSS {out[1]} KiB"


@pytest.mark.parametrize("how", ["stdin", "gzip"])
def test_convert_from_standard_input_or_a_wrapped_archive(tmp_path: Path, how: str) -> None:
    """convert copies raw data blocks from its source: from the local copy of '-' or of a
    .gz, whose listing is then pg_restore -l's of the original."""
    out = tmp_path / "out.dump"
    if how == "stdin":
        res = pgarchive("convert", "-", str(out), stdin=CUSTOM.read_bytes())
    else:
        src = tmp_path / "in.dump.gz"
        src.write_bytes(gzip.compress(CUSTOM.read_bytes()))
        res = pgarchive("convert", str(src), str(out), "--verify")
    assert res.returncode == 0, res.stderr
    assert pgarchive("ls", "--format", "list", str(out)).stdout == LIST


def test_the_copy_is_removed_even_when_the_reader_goes_away(tmp_path: Path) -> None:
    """`cat x.dump | pgarchive ls - | head`: the closed pipe ends the command quietly, and
    the private copy of the archive is removed (SIGPIPE would kill it before atexit)."""
    import os

    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    env = dict(os.environ, TMPDIR=str(spool_dir), TZ="UTC")
    p = subprocess.Popen([sys.executable, "-m", "pgarchive", "ls", "-F", "json", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    assert p.stdin is not None and p.stdout is not None and p.stderr is not None
    p.stdin.write(CUSTOM.read_bytes())
    p.stdin.close()
    p.stdout.read(10)
    p.stdout.close()  # the reader goes away before the output is complete
    err = p.stderr.read()
    p.wait(timeout=60)
    assert b"Traceback" not in err and b"error" not in err, err
    assert list(spool_dir.iterdir()) == []
