"""keep_freed_memory: with glibc, 1 MB pieces made in a thread and freed eight at a time
(as read-ahead's queue holds them) are made again in the memory freed, instead of in
fresh pages faulted in one by one (on a 2 GB lz4 table with verify -j2: 100,000 page
faults fewer, 0.3 s of the read-ahead thread's CPU)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

CHURN = """
import resource, sys, threading
from pgarchive.heap import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory() and keep_freed_memory()
def churn():
    held = []
    for _ in range(80):
        held.append(b"x" * (1 << 20))  # written whole: each of its 256 pages touched
        if len(held) == 8:
            held.clear()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
worker = threading.Thread(target=churn)
worker.start()
worker.join()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_freed_pieces_are_reused() -> None:
    given_back, kept = faults("plain"), faults("kept")
    assert given_back > 80 * 256 // 2  # most pieces faulted in afresh
    assert kept * 3 < given_back
