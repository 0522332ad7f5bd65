"""``convert``: read an archive, plan the target, write it beside its destination, check it
if asked, and rename it into place."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import archive as archive_mod
from ..archive import Archive
from ..errors import ArchiveError
from ..format.model import TocEntry
from .model import Plan
from .parallel import Jobs
from .plan import ConvertOptions, make_plan
from .staging import destination, staged
from .streams import Counts
from .versions import text as version_text

if TYPE_CHECKING:
    from ..selection import Selection

Progress = Callable[[int], None]
Writer = Callable[[str, Archive, Plan, Jobs, "Progress | None"], Counts]


def _writer(kind: str) -> Writer:
    """The container writer for ``kind``, imported when it is the one written (tar's brings
    tarfile, custom's the TOC's packers)."""
    if kind == "custom":
        from . import custom

        return custom.write_archive
    if kind == "directory":
        from . import directory

        return directory.write_archive
    from . import tar

    return tar.write_archive


class ConvertReport(NamedTuple):
    """What was written, and how each data stream got there."""

    source: str
    target: str
    format: str
    compression: str
    archive_version: str
    #: which pg_restore reads the result
    readers: str
    entries: int
    data_entries: int
    #: data entries by what was done to their data
    copied: int = 0
    rewrapped: int = 0
    recompressed: int = 0
    #: bytes of the archive written (every file, for a directory archive)
    size: int = 0
    elapsed: float = 0.0
    jobs: int = 1
    notes: list[str] = []  # noqa: RUF012 -- (never changed: a NamedTuple's default)
    #: the verify report of the result, with --verify
    verified: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (``--json``)."""
        return self._asdict()

    def text(self) -> str:
        """The report as ``convert`` prints it: what was written, how each data stream got
        there, the notes, and the verify summary with --verify."""
        lines = [f"{self.target}: {self.format}, {self.compression}, archive version "
                 f"{self.archive_version} (readable by {self.readers})",
                 f"{self.entries} entries, {self.data_entries} with data: {self.copied} "
                 f"copied, {self.rewrapped} rewrapped (gzip, same deflate data), "
                 f"{self.recompressed} recompressed; {self.size} bytes in "
                 f"{self.elapsed:.2f} s"]
        lines += [f"note: {n}" for n in self.notes]
        if self.verified is not None:
            s = self.verified["summary"]
            lines.append(f"verify: {s['entries']} entries, {s['rows']} rows, "
                         f"{s['raw_bytes']} bytes: OK")
        return "\n".join(lines) + "\n"


def _size(path: str) -> int:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))
    return os.path.getsize(path)


def convert_archive(a: Archive, dst: str, opts: ConvertOptions,
                    progress: Progress | None = None,
                    on_total: Callable[[int], None] | None = None) -> ConvertReport:
    """Convert an opened archive into ``dst`` (see :func:`convert`)."""
    start = time.perf_counter()
    plan = make_plan(a.header, a.kind, a.entries, opts)
    final = destination(a.path, dst, plan.kind, opts.force)
    if on_total is not None:
        on_total(a.data_area_size() or 0)
    verified = None
    with staged(final, plan.kind, sync=opts.sync) as tmp:
        with Jobs(opts.jobs, os.path.dirname(final)) as jobs:
            counts = _writer(plan.kind)(tmp, a, plan, jobs, progress)
        if opts.verify:
            verified = _verify(tmp, dst, opts.jobs)
        size = _size(tmp)
    h = plan.header
    return ConvertReport(
        source=a.path, target=dst, format=plan.kind, compression=str(plan.spec),
        archive_version=version_text(h.version), readers=plan.readers,
        entries=len(plan.entries), data_entries=sum(1 for i in plan.entries if i.has_data),
        copied=counts.copied, rewrapped=counts.rewrapped, recompressed=counts.recompressed,
        size=size, elapsed=time.perf_counter() - start, jobs=opts.jobs, notes=plan.notes,
        verified=verified)


def _verify(tmp: str, dst: str, jobs: int) -> dict[str, Any]:
    """verify the written archive before it is renamed into place; damage fails the
    conversion (and nothing is left behind)."""
    from ..verify import verify

    report = verify(tmp, jobs=jobs)
    if not report.ok:
        first = report.all_problems()[0]
        raise ArchiveError(f"the converted archive failed verify ({report.problem_count} "
                           f"problems; the first: {first.message})", path=dst,
                           entry=first.entry)
    d = report.to_dict()
    d["path"] = dst
    return d


def convert(src: str, dst: str, opts: ConvertOptions | None = None,
            progress: Progress | None = None, on_total: Callable[[int], None] | None = None,
            selection: Callable[[list[TocEntry]], Selection] | None = None,
            warn: Callable[[str], None] | None = None) -> ConvertReport:
    """Rewrite the archive at ``src`` into ``dst``: another container, compression, archive
    version or subset (see :class:`ConvertOptions`).  ``dst`` appears only when complete;
    ``src`` is only read.  ``selection``, if given, builds the subset from the archive's
    entries (instead of ``opts.selection``); ``warn`` then gets each name option that
    matched nothing (a selection of nothing is refused, naming them)."""
    opts = opts or ConvertOptions()
    with archive_mod.open(src) as a:
        if selection is not None:
            opts = opts._replace(selection=selection(a.entries))
        report = convert_archive(a, dst, opts, progress, on_total)
        if opts.selection is not None and warn is not None:
            from ..strictnames import unmatched

            for text in unmatched(a.entries, opts.selection.restore):
                warn(text)
        return report

