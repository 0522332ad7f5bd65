"""One stream read and decoded in a forked child process, hashed and checked in this one.

Why a process: ``verify --jobs 2`` on one large table splits its work in two halves,
reading and decoding, and the hash and COPY checks.  As two threads they share the GIL: the
uncompressed chunk gatherer (compiled, one chunk per row) holds it throughout, and lz4's
pieces are handed over so often that the threads wait for each other (measured in an
idle window: 1.25 s and 1.41 s of CPU, 1.91 s of wall time).  A child process shares
nothing but the decoded bytes.  The hash stays with the checks: gathering rows and
decoding zstd are the slower half, and lz4's decoding, the faster, is evened out by the
vector pass the child takes on when it is ahead.

How: the decoded bytes go through a ring of SLOTS slots of SLOT bytes in an anonymous
shared memory map (lz4 and zstd are decoded straight into it by
:mod:`pgarchive.nativedecode`); a pipe carries a fixed-size record per filled slot (its
number and length, the stored bytes read for it, and the vector pass over its whole
rows, :func:`pgarchive.copytext.prescan`, which the child makes while it is ahead); the
parent checks the slot in place and hands its number back over a socket (sent with
MSG_NOSIGNAL: the command line lets SIGPIPE kill the process, for ``| head``, and the
child may be gone by then).

Anything but a clean end in the child (damaged data, an error, a decoder refusing, the
child's death) is :class:`Failed`: the caller then reads the stream again itself, the
``--jobs 1`` way, so a damaged stream is reported exactly as ``--jobs 1`` reports it.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import socket
import struct
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .copytext import RowsHint, prescan

if TYPE_CHECKING:
    from .nativedecode import Output

#: The size of a slot: a decoded piece handed over at a time (at most this long).  At
#: least 128 kB: lz4 is decoded with ``stableDst`` (nativedecode), which needs the last
#: 64 kB decoded to stay in place, and a slot handed over is at least 3/4 full.
SLOT = 1 << 20
#: Slots in the ring: the child is at most this many pieces ahead.
SLOTS = 8
#: From this many slots waiting to be checked, the child also makes the vector pass over
#: each piece's whole rows (the checks lag behind: their share moves to the child).
SHARE_FROM = SLOTS // 2
#: kind, hint shape, slot, length, stored bytes, hint start, hint end, rows; an END
#: record carries where the stored stream ended in "hint start" (-1: not known)
_RECORD = struct.Struct("<BBHIqqqq")
_PIECE, _END, _FAIL = 1, 2, 3
_NO_HINT, _SHAPE_OK, _SHAPE_BAD, _SHAPE_NONE = 0, 1, 2, 3


class Failed(Exception):
    """The child did not read the stream to a clean end (or died): read it again here."""


class Ring:
    """The child's side: fills slots and hands them over.

    Producers either :meth:`put` decoded bytes (copied into slots), or have a decoder
    write into :attr:`output` and call :meth:`flush` with the view of what it wrote."""

    def __init__(self, shared: mmap.mmap, records: int, returns: int,
                 columns: int | None) -> None:
        self._map = shared
        self._view = memoryview(shared)
        self._records = records
        self._returns = returns
        self._columns = columns
        self._free = list(range(1, SLOTS))
        self._out = 0  # slots handed over and not yet back
        self._slot = 0
        self._filled = 0  # bytes put into the current slot
        self.stored = 0  # stored bytes read so far (the producer counts them)
        self._sent_stored = 0
        self._output: Output | None = None
        self._base = 0

    @property
    def output(self) -> Output:
        """An output buffer for nativedecode over the current slot (moved by flush)."""
        if self._output is None:
            import ctypes

            from .nativedecode import Output

            self._base = ctypes.addressof(ctypes.c_char.from_buffer(self._map))
            self._output = Output(0)
            self._output.size = SLOT
            self._point()
        return self._output

    def _point(self) -> None:
        if self._output is not None:
            start = self._slot * SLOT
            self._output.address = self._base + start
            self._output.view = self._view[start:start + SLOT]

    def put(self, data: bytes) -> None:
        """Copy decoded bytes into the ring (slots handed over as they fill)."""
        at, n = 0, len(data)
        source = memoryview(data)
        while at < n:
            take = min(n - at, SLOT - self._filled)
            start = self._slot * SLOT + self._filled
            self._view[start:start + take] = source[at:at + take]
            self._filled += take
            at += take
            if self._filled == SLOT:
                self.flush(self._filled)

    def flush(self, n: int | memoryview) -> None:
        """Hand over the current slot's first ``n`` bytes (or the view a decoder wrote,
        which starts the slot) and move to a free slot."""
        length = n if isinstance(n, int) else len(n)
        self._filled = 0
        if not length:
            return
        start = self._slot * SLOT
        self._take_back(block=False)
        hint = None
        if self._out >= SHARE_FROM:  # the checks lag: take their vector pass on
            hint = prescan(self._map, self._columns, start, start + length)
        self._send(_PIECE, self._slot, length, hint)
        self._out += 1
        while not self._free:
            self._take_back(block=True)
        self._slot = self._free.pop()
        self._point()

    def end(self, ended: int | None) -> None:
        """The stream was read to its end: what is left, and where it ended."""
        if self._filled:
            self.flush(self._filled)
        _write_all(self._records, _RECORD.pack(_END, 0, 0, 0, self.stored - self._sent_stored,
                                               -1 if ended is None else ended, 0, 0))

    def _send(self, kind: int, slot: int, length: int, hint: RowsHint | None) -> None:
        shape, start, end, rows = _NO_HINT, 0, 0, 0
        if hint is not None:
            start, end = hint.start, hint.end
            if hint.shape is None:
                shape = _SHAPE_NONE
            else:
                rows = hint.shape[0]
                shape = _SHAPE_OK if hint.shape[1] else _SHAPE_BAD
        stored, self._sent_stored = self.stored - self._sent_stored, self.stored
        _write_all(self._records, _RECORD.pack(kind, shape, slot, length, stored, start,
                                               end, rows))

    def _take_back(self, block: bool) -> None:
        """Slots the parent is done with; waits for one when ``block``."""
        if not block and not select.select([self._returns], [], [], 0)[0]:
            return
        got = os.read(self._returns, SLOTS)
        if not got:  # the parent is gone
            os._exit(1)
        self._free.extend(got)
        self._out -= len(got)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


Produce = Callable[[Ring], int | None]


def available() -> bool:
    """Whether a child process can be forked here (not on Windows; nor where a socket
    cannot be written without the risk of SIGPIPE)."""
    return hasattr(os, "fork") and hasattr(socket, "MSG_NOSIGNAL")


class ChildStream:
    """Iterate (offset, length, stored bytes read for it, hint) of each piece as the
    child decodes it: the piece is ``ring[offset:offset + length]``, read in place, and
    stays there until the next is asked for.  Then :attr:`ended`.  Raises Failed.

    ``produce`` runs in the child: it puts the stream's decoded bytes into the ring (or
    has a decoder write into it) and returns where the stored stream ended, if known;
    any exception it raises is the child's failure."""

    def __init__(self, produce: Produce, columns: int | None) -> None:
        """Fork the child; OSError (and nothing left open) where the system will not."""
        self.ended: int | None = None
        with contextlib.ExitStack() as undo:  # what to give back if anything fails
            self._map = self.ring = mmap.mmap(-1, SLOTS * SLOT)
            undo.callback(self._map.close)
            records, child_records = os.pipe()
            undo.callback(os.close, records)
            undo.callback(os.close, child_records)
            self._returns, child_returns = socket.socketpair()
            undo.callback(self._returns.close)
            undo.callback(child_returns.close)
            self._pid = os.fork()
            if self._pid == 0:  # the child: never returns
                _run_child(produce, self._map, child_records, child_returns.fileno(),
                           (records, self._returns.fileno()), columns)
            undo.pop_all()
        os.close(child_records)
        child_returns.close()
        self._records = open(records, "rb", buffering=64 << 10)  # noqa: SIM115 -- closed by close()

    def __iter__(self) -> Iterator[tuple[int, int, int, RowsHint | None]]:
        size = _RECORD.size
        while True:
            record = self._records.read(size)
            if len(record) < size:
                raise Failed("the child process ended without a word")
            kind, shape, slot, length, stored, start, end, rows = _RECORD.unpack(record)
            if kind == _END:
                self.ended = None if start < 0 else start
                if stored:
                    yield 0, 0, stored, None
                return
            if kind != _PIECE:
                raise Failed("the child process could not read the stream")
            hint = None
            if shape != _NO_HINT:
                hint = RowsHint(start, end, None if shape == _SHAPE_NONE
                                else (rows, shape == _SHAPE_OK))
            yield slot * SLOT, length, stored, hint
            with contextlib.suppress(OSError):  # (a child already done, or gone)
                self._returns.send(bytes((slot,)), socket.MSG_NOSIGNAL)

    def close(self) -> None:
        """Stop the child (if still running) and reap it; free the ring."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = 0
            self._records.close()
            self._returns.close()
            with contextlib.suppress(BufferError):  # (a view of it in a traceback: the
                self._map.close()  # map goes with its last reference instead)


def _run_child(produce: Produce, shared: mmap.mmap, records: int, returns: int,
               parents: tuple[int, int], columns: int | None) -> None:
    """The child's whole life: produce into the ring, say how it ended, exit."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
        for fd in parents:
            os.close(fd)
        ring = Ring(shared, records, returns, columns)
        try:
            ended = produce(ring)
        except Exception:  # any failure: the parent reads the stream again
            _write_all(records, _RECORD.pack(_FAIL, 0, 0, 0, 0, 0, 0, 0))
        else:
            ring.end(ended)
    except BaseException:  # nothing may escape into the parent's code
        status = 1
    finally:
        os._exit(status)
