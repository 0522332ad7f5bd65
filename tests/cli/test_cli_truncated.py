"""Every archive of testdata/ cut short at many offsets (every offset in the header and
TOC of the small ones) through info, ls and verify: a one-line error and the right exit
status, never a traceback, never a silent "intact"."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import archive_path, corpus
from pgarchive.cli import main

FILES = [i for i in corpus("", lambda i: not Path(archive_path(i)).is_dir())]
SMALLEST = {p.values[0]["archive"] for p in sorted(
    FILES, key=lambda p: Path(archive_path(p.values[0])).stat().st_size)[:4]}


def run(argv: list[str]) -> tuple[int, str]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    except BaseException as e:
        code = -1
        err.write(f"ESCAPED {type(e).__name__}: {e}\n")
    finally:
        sys.stdout, sys.stderr = old
    return code, err.getvalue()


def intact_end(path: str) -> int:
    """The offset from which a cut loses nothing (tar: the padding after the data)."""
    with pgarchive.open(path) as a:
        c: Any = a.container
        if a.format_name == "TAR":
            return max(m.offset + m.size for n, m in c.members.items() if n != "restore.sql")
        return int(c.size)


@pytest.mark.parametrize("item", FILES)
def test_truncated_everywhere(item: dict[str, Any], tmp_path: Path) -> None:
    src = Path(archive_path(item))
    raw = src.read_bytes()
    with pgarchive.open(str(src)) as a:
        toc_end = a.header.toc_offset + 2000
    end = intact_end(str(src))
    dense = range(0, min(toc_end, len(raw)), 1 if item["archive"] in SMALLEST else 101)
    sparse = range(0, len(raw), max(1, len(raw) // 40))
    p = tmp_path / src.name
    for cut in sorted(set(dense) | set(sparse)):
        p.write_bytes(raw[:cut])
        for cmd in ("info", "ls", "verify"):
            code, err = run([cmd, str(p)])
            assert code in (0, 1, 2), (cut, cmd, err)
            assert "Traceback" not in err and "ESCAPED" not in err, (cut, cmd, err)
            if code == 2:
                assert err.startswith("pgarchive: error: ") and err.count("\n") == 1, err
            if cmd == "verify" and cut < end:
                assert code != 0, (cut, "a truncated archive verified as intact")
