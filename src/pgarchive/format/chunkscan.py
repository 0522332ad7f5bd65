"""Gathering (or stepping over) chunk payloads of custom-format data blocks, many at a time.

Uncompressed custom archives store one chunk per table row, so a 2 GB table is twenty
million chunks: walking them one Python step at a time costs more than everything else
``verify`` does.  This loop (compiled by mypyc at install when possible, plain Python
otherwise, like tocscan) walks a window of the file and hands back payloads in bulk.
"""

from __future__ import annotations

import os
from typing import Final

WINDOW_END: Final = 0   # the window ends inside a chunk (or its header): give more bytes
LIST_END: Final = 1     # a zero length: the chunk list is over
FULL: Final = 2         # the payloads gathered reached the target size
NEGATIVE: Final = -1    # a negative chunk length


def _length(window: bytes, p: int, int_size: int) -> int:
    """The magnitude of the chunk length whose sign byte is at ``window[p]`` (little
    endian, ``int_size`` bytes); the caller has checked the window holds it."""
    if int_size == 4:  # pg_dump's, unrolled: this runs once per row
        return (window[p + 1] | window[p + 2] << 8 | window[p + 3] << 16
                | window[p + 4] << 24)
    n = 0
    for k in range(int_size):
        n |= window[p + 1 + k] << (8 * k)
    return n


def gather(window: bytes, p: int, int_size: int, target: int,
           out: list[bytes], most: int = 1 << 30) -> tuple[int, int]:
    """Append the payloads of the chunks at ``window[p:]`` to ``out`` until ``target``
    bytes (or ``most`` payloads: a writev's limit) are gathered, the list ends, or the
    window does.  Returns (position, status): the position is after the last complete
    chunk (after the zero length at LIST_END)."""
    end = len(window)
    size = 1 + int_size
    total = 0
    while True:
        if p + size > end:
            return p, WINDOW_END
        n = _length(window, p, int_size)
        if window[p] != 0 and n != 0:
            return p, NEGATIVE
        if n == 0:
            return p + size, LIST_END
        if p + size + n > end:
            return p, WINDOW_END
        out.append(window[p + size:p + size + n])
        p += size + n
        total += n
        if total >= target or len(out) >= most:
            return p, FULL


def skip(window: bytes, p: int, int_size: int) -> tuple[int, int]:
    """Step over the chunks at ``window[p:]`` by their lengths alone, until the list or the
    window ends.  Returns (position, status): after the zero length at LIST_END; at the
    chunk whose length or payload the window does not hold at WINDOW_END; at the length
    at NEGATIVE.  The caller reads the chunk at a WINDOW_END (or NEGATIVE) itself."""
    return spans(window, p, int_size, None)


def spans(window: bytes, p: int, int_size: int, out: list[int] | None) -> tuple[int, int]:
    """:func:`skip`, appending the start and the end of each whole chunk's payload to
    ``out`` (two ints a chunk) unless it is None: where the payloads lie, for a writer
    that copies them without their lengths (a custom archive's lz4 chunks into a directory
    archive's file)."""
    end = len(window)
    size = 1 + int_size
    while True:
        if p + size > end:
            return p, WINDOW_END
        n = _length(window, p, int_size)
        if window[p] != 0 and n != 0:
            return p, NEGATIVE
        if n == 0:
            return p + size, LIST_END
        if p + size + n > end:
            return p, WINDOW_END
        if out is not None:
            out.append(p + size)
            out.append(p + size + n)
        p += size + n


def hop(fd: int, p: int, limit: int, int_size: int) -> int:
    """The end of the chunk list at ``p`` in the file ``fd``, reading its lengths alone
    (one small read a chunk: large chunks, lz4's and zstd's, are not read); -1 where they
    do not end in a whole list before ``limit`` (a negative length, a short read): the
    caller then walks the list again to name what is wrong."""
    at, _payload, ended = hop_to(fd, p, limit, int_size, limit + 1)
    return at + 1 + int_size if ended else -1


def hop_to(fd: int, p: int, limit: int, int_size: int, stop: int) -> tuple[int, int, bool]:
    """Step over the chunk list at ``p`` by its lengths alone, as :func:`hop` does, to the
    first chunk length at or past ``stop`` or to the list's zero length, whichever comes
    first: (its position, the payload bytes stepped over, whether it is the zero length).
    Position -1 where the lengths do not make whole chunks before ``limit`` (a negative
    length, a short read, a chunk past ``limit``)."""
    size = 1 + int_size
    payload = 0
    while p < stop:
        if p + size > limit:
            return -1, payload, False
        head = os.pread(fd, size, p)
        if len(head) < size:
            return -1, payload, False
        n = _length(head, 0, int_size)
        if n == 0:
            return p, payload, True
        if head[0] != 0 or n > limit - p - size:
            return -1, payload, False
        p += size + n
        payload += n
    return p, payload, False
