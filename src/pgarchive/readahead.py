"""Run an iterator in a second thread, a bounded number of items ahead of its consumer.

verify reads and decompresses one stream while it hashes and checks what came before.
zstd's decoder, isal's inflater, numpy's loops and file reads release the GIL, so on two
cores the halves overlap.  Measured on a 0.5 GB table, read-ahead together with pieces
re-cut to ~1 MB: gzip 2.7 s to 1.65 s, lz4 0.85 s to 0.55 s (python-lz4 holds the GIL,
but the checks mostly do not).  With python-lz4's own 64 kB pieces, the hand-overs cost
more than the overlap gained.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_POLL = 0.05  # seconds between looks at the stop flag while blocked


class _End:
    """Put after the last item."""


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Yield what ``items`` yields, producing up to ``depth`` items ahead in a thread.

    An exception in the producer is raised in the consumer, and when the consumer stops
    early the producer is stopped and joined, so nothing touches the source afterwards.
    """
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

