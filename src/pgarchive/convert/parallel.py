"""``--jobs N``: entries compressed in parallel, in forked worker processes.

Only entries whose data is compressed again (or rewrapped, which inflates it) go to the
workers; copies are disk-bound and stay in the main process.  The work is a function of
the writer's (an entry's index and where to write it); workers inherit it, with the opened
archive and the plan it closes over, when they are forked (read-only memory maps are
shared), so nothing is pickled but an index and a path.  A directory archive's worker
writes the entry's files in place; a custom archive's, whose blocks must follow each other
in TOC order, writes the block to a spool file next to the output, which the main process
appends when the block's turn comes.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from ..archive import Archive
from .model import Plan
from .streams import Counts, Mode, entry_mode

if TYPE_CHECKING:  # (imported when workers start: not at every conversion's start-up)
    from concurrent.futures import ProcessPoolExecutor

#: Write entry ``index`` to ``target`` (a file or a folder): what a worker runs.
Work = Callable[[int, str], Counts]
_WORK: Work | None = None


def _run(index: int, target: str) -> Counts:
    """A worker's task: the inherited work, on one entry."""
    assert _WORK is not None
    return _WORK(index, target)


class Jobs:
    """A pool of ``n`` worker processes (none for n <= 1), used as a context manager."""

    def __init__(self, n: int, workdir: str) -> None:
        self.n = n
        self.workdir = workdir
        self._pool: ProcessPoolExecutor | None = None
        self._spools: str | None = None

    def parallel_entries(self, a: Archive, plan: Plan) -> list[int]:
        """The entries to hand to workers: those compressed again or rewrapped, when
        there are two or more and jobs were asked for."""
        if self.n <= 1:
            return []
        work = [k for k, item in enumerate(plan.entries)
                if item.has_data and entry_mode(a, plan, item) is not Mode.COPY]
        return work if len(work) >= 2 else []

    def spool_folder(self) -> str:
        """A folder next to the output for spooled blocks, deleted with the pool."""
        if self._spools is None:
            self._spools = tempfile.mkdtemp(prefix=".pgarchive-spool-", dir=self.workdir)
        return self._spools

    def start(self, work: Work, targets: dict[int, str]) -> dict[int, Callable[[], Counts]]:
        """Fork the workers and hand them each entry; index -> wait for it.  Call before
        opening any output file (the workers inherit what is open)."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _WORK
        _WORK = work
        self._pool = ProcessPoolExecutor(self.n, mp_context=multiprocessing.get_context("fork"))
        return {k: self._pool.submit(_run, k, target).result for k, target in targets.items()}

    def __enter__(self) -> Jobs:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        global _WORK
        if self._pool is not None:
            if exc is not None:  # stop what the workers are writing: it is thrown away
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    with contextlib.suppress(Exception):
                        proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=exc is not None)
            self._pool = None
        _WORK = None
        if self._spools is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self._spools)
            self._spools = None
