"""Stored bytes copied as they are, file to file, in the kernel (``copy_file_range``: no
trip through Python, pages shared where the file system can) where it can, with plain
reads and writes where it cannot.

Data kept as it is (the method and level stay) is only copied; what still has to be
checked -- that a custom archive's block is whole, found by walking its chunk lengths --
runs beside the copy (:func:`copy_walked`) instead of before it, on the other core: a
walk that reads the whole block (gzip's 4 kB chunks: every page holds a length) reads
it in the copy's wake, where the copy has just brought it into the shared cache.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

from ..errors import ArchiveError
from ..format import chunkscan

#: Bytes asked of one ``copy_file_range`` call (a thread stopping waits for one call at most),
#: and read at a time where it is unavailable.
STEP = 64 << 20
READ = 1 << 20
#: The step of a copy that a walk follows (:func:`copy_walked`): the walk reads at most
#: this far behind it, in the 16 MB shared cache (1.04 GB of gzip: 0.43 s of CPU for both
#: against 0.45 s unpaced, and 0.44 s for reading and writing it in one thread).
PACE = 4 << 20
#: What :func:`walk_dense` and :func:`copy_payloads` read at most at a time, and first: a
#: window that stays in a core's L2 cache (512 kB here) is written from it; 1 MB ones cost
#: 5-50% more kernel time, and swung with other processes' use of the shared cache.
WINDOW, FIRST_WINDOW = 512 << 10, 64 << 10
#: A chunk list longer than this, copied without its lengths, is copied in two halves at
#: once, one a core: 1.68 GB of lz4 into a directory archive took 0.55-0.71 s instead of
#: 0.74-0.85 s where the other core was (partly) free, but 0.85-1.0 s of CPU instead of
#: 0.74-0.85 s (two writers filling one file's page cache contend in the kernel).
SPLIT = 16 << 20
#: Pieces handed to one ``pwritev`` (Linux's IOV_MAX).
IOV_MAX = 1024


class Ranges:
    """Copies ranges of one source file to the current position of a destination file
    descriptor; the kernel's copy is given up for good on its first failure (another file
    system, an old kernel), reads and writes doing the rest."""

    def __init__(self, src: int, dst: int, name: str) -> None:
        self.src, self.dst, self.name = src, dst, name
        self.kernel = hasattr(os, "copy_file_range")

    def copy(self, start: int, end: int, stop: threading.Event | None = None,
             reached: Callable[[int], None] | None = None, step: int = STEP,
             at: int | None = None) -> None:
        """Bytes [start, end) of the source appended at the destination's position (or
        written at its offset ``at``, the position left alone); ``reached`` is told each
        position copied up to, ``step`` bytes at a time."""
        pos = start
        while pos < end and self.kernel:
            if stop is not None and stop.is_set():
                return
            try:
                n = os.copy_file_range(self.src, self.dst, min(step, end - pos), pos,
                                       None if at is None else at + pos - start)
            except OSError:
                n = 0
            if n <= 0:  # unsupported, or the file is shorter than it was: reads tell
                self.kernel = False
                break
            pos += n
            if reached is not None:
                reached(pos)
        while pos < end:
            if stop is not None and stop.is_set():
                return
            piece = os.pread(self.src, min(READ, end - pos), pos)
            if not piece:
                raise ArchiveError("archive is truncated", path=self.name, offset=pos)
            if at is None:
                _write(self.dst, memoryview(piece))
            else:
                _pwrite(self.dst, memoryview(piece), at + pos - start)
            pos += len(piece)
            if reached is not None:
                reached(pos)

    def copy_all(self, spans: Iterable[tuple[int, int]]) -> None:
        """Each (start, length) appended in turn: a stream's pieces without what frames
        them."""
        copy = self.copy
        for start, length in spans:
            copy(start, start + length)


class Wake:
    """How far a copy has got, for a walk that reads in its wake: the walk waits until the
    copy has passed what it reads (or has ended, whichever way)."""

    def __init__(self) -> None:
        self.at, self.ended = 0, False
        self.changed = threading.Condition()

    def reached(self, pos: int) -> None:
        with self.changed:
            self.at = pos
            self.changed.notify()

    def end(self) -> None:
        with self.changed:
            self.ended = True
            self.changed.notify()

    def wait(self, pos: int) -> None:
        """Return once the copy has passed ``pos`` or ended."""
        if self.at >= pos or self.ended:
            return
        with self.changed:
            while self.at < pos and not self.ended:
                self.changed.wait()


#: A walk of a block: given the copy's :meth:`Wake.wait` (to read in its wake), it returns
#: where the block ends, or raises what is wrong with it.
Walk = Callable[[Callable[[int], None]], int]


def copy_walked(ranges: Ranges, start: int, guess: int | None, walk: Walk,
                paced: bool = False) -> int:
    """Append the bytes from ``start`` to the end that ``walk`` finds (and checks), and
    return that end.  With ``guess`` (where the TOC's offsets put the end), [start, guess)
    is copied in a thread (``paced``: PACE bytes a call, for a walk that reads in its
    wake) while ``walk`` runs, then cut back or completed to the end walked; without it,
    the walk comes first.  A failed walk stops the copy and raises (the output is thrown
    away)."""
    wake = Wake()
    if guess is None or guess <= start:
        wake.end()
        end = walk(wake.wait)
        ranges.copy(start, end)
        return end
    at = os.lseek(ranges.dst, 0, os.SEEK_CUR)
    stop = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            ranges.copy(start, guess, stop, wake.reached, PACE if paced else STEP)
        except BaseException as e:  # handed to the caller
            failed.append(e)
        finally:
            wake.end()

    copier = threading.Thread(target=run, name="pgarchive-copy", daemon=True)
    copier.start()
    try:
        end = walk(wake.wait)
    except BaseException:
        stop.set()
        copier.join()
        raise
    copier.join()
    if failed:
        raise failed[0]
    if end < guess:  # bytes after the block that are not its own: cut off
        os.ftruncate(ranges.dst, at + end - start)
        os.lseek(ranges.dst, at + end - start, os.SEEK_SET)
    elif end > guess:
        ranges.copy(guess, end)
    return end


def walk_dense(ranges: Ranges, body: int, limit: int, int_size: int,
               wait: Callable[[int], None]) -> int | None:
    """The end of a block of small chunks (gzip's 4 kB) whose chunk list starts at
    ``body``, stepping over each window read by its chunk lengths in compiled code, in
    the wake of the block's copy (``wait``); a chunk larger than a window is stepped over
    unread.  None where the lengths do not end in a whole list before ``limit`` (or a
    read comes short): the caller then walks the block again to name what is wrong."""
    return _windows(ranges, body, limit, int_size, False, 0, wait)[0]


def copy_payloads(ranges: Ranges, body: int, limit: int, int_size: int) -> int | None:
    """Append the payloads of the chunk list at ``body`` without their lengths (a custom
    archive's lz4 or zstd table data becoming a directory archive's file, which is the
    same frame unframed), reading each window once and writing its payloads with one
    ``pwritev``: one read and one write a window instead of a read of each length and a
    ``copy_file_range`` of each chunk (45,000 of each for 1.7 GB of lz4).  A list longer
    than SPLIT is cut in two at a chunk near its middle (found by the lengths alone) and
    its second half copied by a thread on the other core, written at its own offset.
    Returns the end of the list; None, having written part of it, where the lengths do
    not end in a whole list before ``limit`` (or a read comes short), as
    :func:`walk_dense`."""
    out = os.lseek(ranges.dst, 0, os.SEEK_CUR)
    half = _middle(ranges.src, body, limit, int_size) if limit - body > SPLIT else None
    if half is None:
        end, out = _windows(ranges, body, limit, int_size, True, out, None)
    else:
        middle, before = half
        second: list[tuple[int | None, int]] = []
        failed: list[BaseException] = []

        def run() -> None:
            try:
                second.append(_windows(ranges, middle, limit, int_size, True, out + before,
                                       None))
            except BaseException as e:  # handed to the caller
                failed.append(e)

        copier = threading.Thread(target=run, name="pgarchive-copy", daemon=True)
        copier.start()
        try:
            first, _ = _windows(ranges, body, middle, int_size, True, out, None, middle)
        finally:
            copier.join()
        if failed:
            raise failed[0]
        end, out = second[0] if first == middle else (None, out)
    os.lseek(ranges.dst, out, os.SEEK_SET)
    return end


def _middle(src: int, body: int, limit: int, int_size: int) -> tuple[int, int] | None:
    """(where the first chunk length at or past the middle of [body, limit) is, the
    payload bytes before it), reading the lengths alone (a 37 kB chunk's length: one
    small read); None where they are not plain chunk lengths up to there, or the list ends
    before it (the copy in one piece then finds what is wrong)."""
    at, payload, ended = chunkscan.hop_to(src, body, limit, int_size, (body + limit) // 2)
    return None if at < 0 or ended else (at, payload)


def _windows(ranges: Ranges, base: int, limit: int, int_size: int, write: bool, out: int,
             wait: Callable[[int], None] | None, stop: int | None = None
             ) -> tuple[int | None, int]:
    """The loop of :func:`walk_dense` and (``write``: the payloads written from the
    destination's offset ``out`` on) :func:`copy_payloads`: windows grow from
    FIRST_WINDOW to WINDOW (a small table costs a small read); one stays in a core's L2
    cache while its payloads are written.  Returns (the end of the chunk list or None,
    ``out`` past what was written); ``stop``, a chunk length's position, ends the walk
    there as if the list ended (the first half of a list cut in two)."""
    src, dst, size = ranges.src, ranges.dst, 1 + int_size
    window = min(FIRST_WINDOW, WINDOW)
    marks: list[int] = []
    while base < limit:
        want = min(window, limit - base)
        window = min(2 * window, WINDOW)
        if wait is not None:
            wait(base + want)
        win = os.pread(src, want, base)
        if len(win) < want:
            return None, out
        if write:
            marks.clear()
            q, status = chunkscan.spans(win, 0, int_size, marks)
        else:
            q, status = chunkscan.skip(win, 0, int_size)
        if status == chunkscan.NEGATIVE:
            return None, out
        if q > 0:  # whole chunks: written; the next window starts at the one left over
            if marks:
                out = _write_pieces(dst, win, marks, out)
            if status == chunkscan.LIST_END:
                return base + q, out
            base += q
            continue
        if len(win) < size:  # a length cut by the limit
            return None, out
        n = int.from_bytes(win[1:size], "little")
        if win[0] or base + size + n > limit:
            return None, out
        if write:  # larger than a window: copied on its own
            ranges.copy(base + size, base + size + n, at=out)
            out += n
        base += size + n
    return (base if base == stop else None), out


def _write(dst: int, data: memoryview) -> None:
    while data:
        data = data[os.write(dst, data):]


def _pwrite(dst: int, data: memoryview, at: int) -> None:
    while data:
        n = os.pwrite(dst, data, at)
        data, at = data[n:], at + n


def _write_pieces(dst: int, window: bytes, marks: list[int], at: int) -> int:
    """Write ``window[marks[0]:marks[1]]``, ``window[marks[2]:marks[3]]``, ... one after
    the other from the destination's offset ``at``, IOV_MAX pieces a ``pwritev``; returns
    the offset after them."""
    view = memoryview(window)
    pieces = [view[marks[i]:marks[i + 1]] for i in range(0, len(marks), 2)]
    if not hasattr(os, "pwritev"):  # pragma: no cover - not Linux or a BSD
        for piece in pieces:
            _pwrite(dst, piece, at)
            at += len(piece)
        return at
    for i in range(0, len(pieces), IOV_MAX):
        batch = pieces[i:i + IOV_MAX]
        done = os.pwritev(dst, batch, at)
        while True:  # a short write (a full disk raises): the rest, from where it stopped
            at += done
            k = 0
            while k < len(batch) and done >= len(batch[k]):
                done -= len(batch[k])
                k += 1
            if k == len(batch):
                break
            batch = [batch[k][done:], *batch[k + 1:]]
            done = os.pwritev(dst, batch, at)
    return at
