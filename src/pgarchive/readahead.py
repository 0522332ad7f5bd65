"""Run an iterator in a second thread, a bounded number of items ahead of its consumer.

verify reads and decompresses one stream while it hashes and checks what came before.
Measured (two threads doing the same call, CPU/wall): python-lz4's and zstd's decoders,
isal's inflater, xxhash's update, large ``bytes.join`` and numpy's loops release the GIL
(1.8-2.0 of two cores); ``bytes.find`` and Python code hold it.  So on two cores the
halves overlap, provided each gets the GIL back soon after its C call: see ``switch``.
With python-lz4's own ~40 kB pieces, the hand-overs cost more than the overlap gained:
pieces are re-cut to ~1 MB first.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_POLL = 0.05  # seconds between looks at the stop flag while blocked


class _End:
    """Put after the last item."""


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 8, switch: float | None = None,
               spare: Callable[[T], T] | None = None) -> Generator[T, None, None]:
    """Yield what ``items`` yields, producing up to ``depth`` items ahead in a thread.

    An exception in the producer is raised in the consumer, and when the consumer stops
    early the producer is stopped and joined, so nothing touches the source afterwards.

    ``switch``: the interpreter's switch interval (seconds) while the pipeline runs, put
    back when it ends (also when the consumer stops early).  A thread whose C call (a
    decoder, numpy) released the GIL waits that long for it when the other thread runs
    Python code; with Python's 5 ms and several such calls per piece, the two threads
    take turns instead of overlapping.

    ``spare``: work the producer takes over from the consumer while it is ahead (half
    the queue or more waiting): an item is handed on as ``spare(item)`` then, as itself
    otherwise.  So the work is shared by whichever thread has time, whatever the ratio
    of their speeds (verify: lz4 decodes faster than the checks run, zstd slower).
    """
    before = sys.getswitchinterval()
    if switch is not None:
        sys.setswitchinterval(switch)
    try:
        yield from _pipeline(items, depth, spare)
    finally:
        if switch is not None:
            sys.setswitchinterval(before)


def _pipeline(items: Iterable[T], depth: int, spare: Callable[[T], T] | None) -> Iterator[T]:
    q: queue.Queue[T | _End | _Raised] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: T | _End | _Raised) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if spare is not None and q.qsize() * 2 >= depth:
                    item = spare(item)
                if not put(item):
                    return
            put(_End())
        except BaseException as e:  # handed to the consumer, raised there
            put(_Raised(e))

    worker = threading.Thread(target=produce, name="pgarchive-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            got = q.get()
            if isinstance(got, _End):
                return
            if isinstance(got, _Raised):
                raise got.error
            yield got
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
            worker.join(_POLL)

