"""Output files (-o, --write-manifest): the umask and a replaced file's mode are honoured;
devices, FIFOs and symlinks are written through, never replaced by a regular file."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import TESTDATA
from pgarchive.cli import cli
from pgarchive.errors import UsageError
from pgarchive.fileio import atomic_write


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_new_file_gets_the_umask(tmp_path: Path, umask: None, mask: int, mode: int) -> None:
    os.umask(mask)
    target = tmp_path / "out.list"
    atomic_write(str(target), b"x\n")
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_bytes() == b"x\n"


def test_replaced_file_keeps_its_mode(tmp_path: Path, umask: None) -> None:
    os.umask(0o077)
    target = tmp_path / "orders.list"
    target.write_text("old")
    target.chmod(0o644)
    atomic_write(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pgarchive-")]


def test_symlink_is_kept_and_its_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(str(link), b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new" and stat.S_IMODE(real.stat().st_mode) == 0o640


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "made")
    atomic_write(str(link), b"data")
    assert link.is_symlink() and (tmp_path / "made").read_bytes() == b"data"


def device(tmp_path: Path, name: str, minor: int) -> str:
    """A character device to write to.  As root, a private node made in ``tmp_path`` (so that
    a broken implementation replaces that node, never the system's); otherwise the system's
    own, which an unprivileged user cannot replace."""
    if os.geteuid() != 0:
        return f"/dev/{name}"
    path = tmp_path / name
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return str(path)


def test_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    # A daemon: if the FIFO were replaced, the reader would wait for a writer forever.
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    atomic_write(str(fifo), b"through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_device_is_written_through(tmp_path: Path) -> None:
    null = device(tmp_path, "null", 3)
    before = os.lstat(null)
    atomic_write(null, b"nothing")
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


def test_full_device_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    full = device(tmp_path, "full", 7)
    with pytest.raises(UsageError, match="No space left"):
        atomic_write(full, b"x")
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_symlink_to_a_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to(device(tmp_path, "null", 3))
    atomic_write(str(link), b"x")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)


def test_directory_and_socket_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        atomic_write(str(tmp_path), b"x")
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(UsageError, match="is a socket"):
            atomic_write(str(path), b"x")


def test_cli_output_through_dev_null_and_a_symlink(tmp_path: Path) -> None:
    archive = str(TESTDATA / "pg18" / "custom.dump")
    null = device(tmp_path, "null", 3)
    res = CliRunner().invoke(cli, ["ls", archive, "-F", "list", "-o", null])
    assert res.exit_code == 0, res.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    real = tmp_path / "m.json"
    real.write_text("{}")
    link = tmp_path / "manifest.json"
    link.symlink_to(real)
    res = CliRunner().invoke(cli, ["verify", archive, "--write-manifest", str(link)])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and '"entries"' in real.read_text()
