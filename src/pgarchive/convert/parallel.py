"""``--jobs N``: entries compressed in parallel, in forked worker processes.

Only entries whose data is compressed again (or rewrapped, which inflates it) go to the
workers; copies are disk-bound and stay in the main process.  Workers inherit the opened
archive and the plan when they are forked (read-only memory maps are shared), so nothing
is pickled but an entry's index.  For a directory archive a worker writes the entry's
files in place; for a custom archive, whose blocks must follow each other in TOC order, it
writes the block to a spool file next to the output, which the main process appends when
the block's turn comes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from ..archive import Archive
from .model import OutEntry, Plan
from .streams import Counts, Mode, mode_for, target_gzip_file

_STATE: tuple[Archive, Plan, str] | None = None


def needs_work(a: Archive, plan: Plan, item: OutEntry) -> bool:
    """Whether an entry's data is compressed again or rewrapped (CPU), not copied."""
    gzip_file = target_gzip_file(plan.kind)
    return any(mode_for(a.stored_compression(s), plan.source_level, plan.spec, gzip_file)
               is not Mode.COPY for s in item.sources)


def _custom_worker(index: int, spool: str) -> Counts:
    from .custom import write_block

    assert _STATE is not None
    a, plan, _out = _STATE
    with open(spool, "wb", buffering=1 << 20) as f:
        return write_block(f, a, plan, plan.entries[index])


def _directory_worker(index: int) -> Counts:
    from .directory import write_entry

    assert _STATE is not None
    a, plan, out = _STATE
    return write_entry(out, a, plan, plan.entries[index])


class Jobs:
    """A pool of ``n`` worker processes (none for n <= 1), used as a context manager."""

    def __init__(self, n: int, workdir: str) -> None:
        self.n = n
        self.workdir = workdir
        self._pool: ProcessPoolExecutor | None = None
        self._spools: str | None = None

    def _start(self, a: Archive, plan: Plan, out: str) -> ProcessPoolExecutor:
        global _STATE
        _STATE = (a, plan, out)
        self._pool = ProcessPoolExecutor(self.n, mp_context=multiprocessing.get_context("fork"))
        return self._pool

    def _parallel(self, a: Archive, plan: Plan) -> list[int]:
        if self.n <= 1:
            return []
        work = [k for k, item in enumerate(plan.entries)
                if item.has_data and needs_work(a, plan, item)]
        return work if len(work) >= 2 else []

    def spool_blocks(self, a: Archive, plan: Plan
                     ) -> dict[int, tuple[str, Callable[[], Counts]]]:
        """Start compressing the custom-format blocks that need it; index -> (spool file,
        wait for it)."""
        work = self._parallel(a, plan)
        if not work:
            return {}
        self._spools = tempfile.mkdtemp(prefix=".pgarchive-spool-", dir=self.workdir)
        pool = self._start(a, plan, self._spools)
        out: dict[int, tuple[str, Callable[[], Counts]]] = {}
        for k in work:
            spool = os.path.join(self._spools, f"{k}.block")
            fut: Future[Counts] = pool.submit(_custom_worker, k, spool)
            out[k] = (spool, fut.result)
        return out

    def directory_entries(self, a: Archive, plan: Plan, out: str
                          ) -> dict[int, Callable[[], Counts]]:
        """Start writing the directory-format entries that need compressing; index -> wait
        for it."""
        work = self._parallel(a, plan)
        if not work:
            return {}
        pool = self._start(a, plan, out)
        return {k: pool.submit(_directory_worker, k).result for k in work}

    def __enter__(self) -> Jobs:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        global _STATE
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=exc is not None)
            self._pool = None
        _STATE = None
        if self._spools is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self._spools)
            self._spools = None
