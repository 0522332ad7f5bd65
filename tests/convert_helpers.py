"""Shared by the convert tests: the real pg_restore's outputs, verify's checksums, and a
file comparison that ignores the creation time pg_dump stamps in the header."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path
from typing import Any

import pgenv
from pgarchive.format.toc import parse_header
from pgarchive.verify import verify

KEY = "pgarchiveconverttest"


@functools.cache
def pg_restore(major: int = 18) -> str:
    return str(pgenv.bindir(major) / "pg_restore")


def run_pg_restore(args: list[str], major: int = 18) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, TZ="UTC", PGTZ="UTC")
    return subprocess.run([pg_restore(major), *args], capture_output=True, env=env)


def script(path: str | Path, *args: str, major: int = 18) -> bytes:
    """``pg_restore -f -`` of an archive, with a fixed restrict key (18)."""
    extra = ["--restrict-key", KEY] if major >= 18 else []
    res = run_pg_restore(["-f", "-", *extra, *args, str(path)], major)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def listing(path: str | Path, *args: str, major: int = 18) -> tuple[list[str], list[str]]:
    """``pg_restore -l``: (header lines, entry lines)."""
    res = run_pg_restore(["-l", *args, str(path)], major)
    assert res.returncode == 0, res.stderr.decode()
    lines = res.stdout.decode("utf-8", "surrogateescape").split("\n")
    cut = lines.index("; Selected TOC Entries:") + 2
    return lines[:cut], lines[cut:]


def checksums(path: str | Path) -> dict[int, tuple[Any, ...]]:
    """verify's per-entry facts: dump id -> (checksum, rows, raw bytes, large objects)."""
    report = verify(str(path))
    assert report.ok, [str(p) for p in report.all_problems()]
    return {e.dump_id: (e.checksum, e.rows, e.raw_bytes, e.large_objects)
            for e in report.entries}


def tm_span(path: str | Path) -> tuple[int, int]:
    """Where the seven creation-time Ints lie in a custom file or toc.dat."""
    with open(path, "rb") as f:
        h = parse_header(f.read(4096))
    start = 5 + 3 + 3 + (1 if h.has_compression_byte else 1 + h.int_size)
    return start, start + 7 * (1 + h.int_size)


def same_but_time(mine: bytes, theirs: bytes, span: tuple[int, int]) -> bool:
    """Equal bytes, except the header's creation time (pg_dump runs a second apart)."""
    a, b = span
    return len(mine) == len(theirs) and mine[:a] == theirs[:a] and mine[b:] == theirs[b:]
