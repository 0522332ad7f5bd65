"""Progress bars appear on stderr when it is a terminal (and only then; see test_cli)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from typing import Any

from helpers import TESTDATA

sys.path.insert(0, str(TESTDATA))
import pgenv


def run_with_tty_stderr(args: list[str], env: dict[str, str] | None = None
                        ) -> tuple[int, bytes, bytes]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pgarchive", *args], stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    out = proc.stdout.read() if proc.stdout else b""
    code = proc.wait()
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    return code, out, err


def test_verify_progress_bar_on_a_terminal() -> None:
    code, out, err = run_with_tty_stderr(["verify", str(TESTDATA / "pg18" / "custom_z0.dump")])
    assert code == 0 and b"OK" in out
    assert b"\r[" in err and b"MB/s" in err and b"left" in err


def test_restore_progress_bar_on_a_terminal(pg18_server: Any) -> None:
    pg18_server.run(["createdb", "-T", "template0", "ttyrestore"])
    target = f"host={pg18_server.host} port={pg18_server.port} dbname=ttyrestore user=postgres"
    env = dict(os.environ, PG_RESTORE=str(pgenv.bindir(18) / "pg_restore"))
    code, _out, err = run_with_tty_stderr(
        ["restore", str(TESTDATA / "pg18" / "custom.dump"), "-d", target, "-t", "orders",
         "--with-deps"], env)
    assert code == 0, err
    assert b"\r[#" in err and b"creating TABLE" in err
