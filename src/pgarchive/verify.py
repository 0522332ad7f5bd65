"""Verify an archive offline: read every data block, decompress it, check its framing and
COPY structure, count rows and bytes, and checksum it; compare with a manifest.

The checksum is XXH3-128 of each entry's decompressed data (for large objects: of each
oid and its bytes in order).  Chosen by measurement (benchmarks/bench_verify.py prints it):
on our machines XXH3 hashes at ~8.8 GB/s, SHA-256 at ~1.4 GB/s and BLAKE2b at ~0.7 GB/s,
and the checksum is there to detect change, not to resist an adversary.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import xxhash

from . import archive as archive_mod
from . import copytext
from . import typecheck as _typecheck  # verify --types
from .archive import Archive
from .compression import InflateLimit, recut
from .containers import CustomContainer, DirectoryContainer, TarContainer
from .containers.base import StoredStream
from .copytext import CopyChecker, copy_columns
from .errors import ArchiveError, MissingDataError
from .format.constants import K_VERS_1_12, Compression, OffsetFlag
from .format.model import TocEntry
from .insertrows import InsertChecker
from .readahead import read_ahead

HASH_NAME = "xxh3_128"
# Bytes of decompressed data checked at a time (measured, 2 GB tables): on one core,
# 256 kB pieces stay in cache (15% faster than 1 MB on four lz4 tables); handed between
# threads, 1 MB pieces make fewer hand-overs.
PIECE = 256 << 10
PIECE_AHEAD = 1 << 20
Progress = Callable[[int], None]
#: How verify's note on data without a checksum ends (dropped when a manifest is given).
MANIFEST_NOTE = "only caught with --manifest"


@dataclass
class Problem:
    """One thing found wrong; ``offset`` is a byte offset in ``path`` (or, for content
    problems, in the entry's decompressed data, said so in the message)."""

    message: str
    path: str
    offset: int | None = None
    dump_id: int | None = None
    entry: str | None = None

    def __str__(self) -> str:
        return str(ArchiveError(self.message, path=self.path, offset=self.offset,
                                entry=self.entry))


#: problems kept per entry (and for the archive as a whole): an archive damaged everywhere,
#: say 320,000 large objects that nothing creates, is reported with the first ones and a
#: count of the rest, in bounded memory, rather than a list as long as the archive
KEPT_PROBLEMS = 100


@dataclass
class EntryReport:
    dump_id: int
    desc: str
    namespace: str | None
    tag: str
    rows: int | None = None
    raw_bytes: int = 0
    stored_bytes: int = 0
    large_objects: int | None = None
    checksum: str | None = None
    status: str = "ok"  # ok, damaged, missing, changed (differs from --manifest)
    problems: list[Problem] = field(default_factory=list)
    #: XXH3-128 of the entry's TOC fields, so a manifest also catches changed definitions
    toc_checksum: str | None = None
    # custom format: where the block was found and where it ended
    block_start: int | None = None
    block_end: int | None = None

    #: problems past the first KEPT_PROBLEMS, counted but not kept
    more_problems: int = 0

    def fail(self, problem: Problem, status: str = "damaged") -> None:
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1
        if self.status == "ok":
            self.status = status


@dataclass
class VerifyReport:
    path: str
    format: str
    archive_version: str
    compression: str
    hash: str
    entries: list[EntryReport]
    problems: list[Problem]  # not tied to one entry (framing, extra files)
    elapsed: float = 0.0
    jobs: int = 1
    #: every TOC entry (with or without data): dump id -> checksum of its fields
    toc: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: problems not tied to one entry past the first KEPT_PROBLEMS, counted but not kept
    more_problems: int = 0

    def __post_init__(self) -> None:
        if len(self.problems) > KEPT_PROBLEMS:
            self.more_problems += len(self.problems) - KEPT_PROBLEMS
            del self.problems[KEPT_PROBLEMS:]

    @property
    def problem_count(self) -> int:
        """Every problem found, kept or only counted."""
        return (len(self.problems) + self.more_problems
                + sum(len(e.problems) + e.more_problems for e in self.entries))

    @property
    def damaged(self) -> list[EntryReport]:
        return [e for e in self.entries if e.status != "ok"]

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.problems

    @property
    def total_rows(self) -> int:
        return sum(e.rows or 0 for e in self.entries)

    @property
    def total_raw(self) -> int:
        return sum(e.raw_bytes for e in self.entries)

    @property
    def total_stored(self) -> int:
        return sum(e.stored_bytes for e in self.entries)

    def all_problems(self) -> list[Problem]:
        return self.problems + [p for e in self.entries for p in e.problems]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for e in d["entries"]:
            e.pop("block_start")
            e.pop("block_end")
        d["summary"] = {"entries": len(self.entries), "rows": self.total_rows,
                        "raw_bytes": self.total_raw, "stored_bytes": self.total_stored,
                        "damaged": len(self.damaged), "problems": self.problem_count,
                        "elapsed": round(self.elapsed, 3), "ok": self.ok}
        return d


def toc_checksum(e: TocEntry) -> str:
    """A checksum over every TOC field of an entry except where its data lies."""
    h = xxhash.xxh3_128()
    for value in (e.dump_id, e.had_dumper, e.table_oid, e.oid, e.tag, e.desc, int(e.section),
                  e.defn, e.drop_stmt, e.copy_stmt, e.namespace, e.tablespace, e.tableam,
                  e.relkind, e.owner, e.with_oids, e.dependencies):
        h.update(repr(value).encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def _new_report(e: TocEntry) -> EntryReport:
    return EntryReport(e.dump_id, e.desc, e.namespace, e.tag, toc_checksum=toc_checksum(e))


def _problem(rep: EntryReport, err: ArchiveError, path: str) -> Problem:
    return Problem(err.message, err.path or path, err.offset, rep.dump_id,
                   err.entry or f"{rep.dump_id} {rep.desc} {rep.namespace or '-'} {rep.tag}")


_CREATED: weakref.WeakKeyDictionary[Archive, frozenset[int]] = weakref.WeakKeyDictionary()


def created_large_objects(a: Archive) -> frozenset[int] | None:
    """The oids the archive's BLOB (tag) and BLOB METADATA (one per line of the defn)
    entries create; None before 1.12, where pg_restore creates them from the data."""
    if a.header.version < K_VERS_1_12:
        return None
    if a not in _CREATED:
        oids: set[int] = set()
        for e in a.entries:
            if e.desc == "BLOB" and e.tag.isdigit():
                oids.add(int(e.tag))
            elif e.desc == "BLOB METADATA":
                oids.update(int(w) for w in (e.defn or "").split() if w.isdigit())
        _CREATED[a] = frozenset(oids)
    return _CREATED[a]


def check_streams(a: Archive, e: TocEntry, streams: Iterator[tuple[int | None, StoredStream]],
                  rep: EntryReport, progress: Progress | None = None,
                  ahead: bool = False, types: bool = False) -> None:
    """Decompress and check the streams of one entry, filling ``rep``.

    With ``ahead`` (a second core is ours to use), reading and decoding run in a thread
    one piece ahead of the hashing and checks."""
    h = xxhash.xxh3_128()
    label = f"{e.dump_id} {e.desc} {e.namespace or '-'} {e.tag}".replace("\n", " ")
    container = a.container
    try:
        if e.desc == "BLOBS":
            rep.large_objects = 0
            seen: set[int] = set()
            created = created_large_objects(a)
            limit = InflateLimit()  # issue 12: one inflation bound for all the entry's LOs
            for oid, stream in streams:
                assert oid is not None
                if oid == 0 or oid in seen:
                    what = "zero" if not oid else "repeated"
                    rep.fail(Problem(f"large object id {oid} is {what}",
                                     stream.path, stream.offset, e.dump_id, label))
                elif created is not None and oid not in created:
                    rep.fail(Problem(f"large object {oid} is not created by any BLOB or BLOB "
                                     "METADATA entry (pg_restore: large object does not exist)",
                                     stream.path, stream.offset, e.dump_id, label))
                seen.add(oid)
                h.update(oid.to_bytes(4, "little"))
                rep.large_objects += 1
                for piece in container._decompressed(e, _counting(stream, rep, progress),
                                                     1 << 20, limit):
                    h.update(piece)
                    rep.raw_bytes += len(piece)
        else:
            checker: CopyChecker | InsertChecker | None = None
            if e.copy_stmt:
                checker = CopyChecker(copy_columns(e.copy_stmt))
            elif e.desc == "TABLE DATA":  # pg_dump --inserts: statements, not COPY rows
                checker = InsertChecker(e.namespace, e.tag)
            # --- verify --types hook (typecheck.py) ---
            typed = _typecheck.for_entry(a, e) if types else None
            where: tuple[str, int | None] = (a.path, None)
            for _oid, stream in streams:
                where = (stream.path, stream.offset)
                # Uncompressed data is gathered row by row in a loop that holds the GIL:
                # a read-ahead thread would only contend with the checks (measured: 2 GB,
                # 3.6 s alone, 4.8 s with one).  It also comes cut to size already.
                plain = container.compression_of(e) == Compression.NONE
                threaded = ahead and not plain
                size = PIECE_AHEAD if threaded else PIECE
                pieces = container._decompressed(e, _counting(stream, rep, progress), size)
                if not plain:
                    pieces = recut(pieces, size)
                for piece in read_ahead(pieces) if threaded else pieces:
                    h.update(piece)
                    rep.raw_bytes += len(piece)
                    if typed is not None:  # --types hook
                        typed.feed(piece)
                    if checker is not None:
                        checker.feed(piece)
                        if checker.findings:  # issue 12: stop at the first structural error
                            break
                if checker is not None and checker.findings:
                    break
            if checker is not None:
                if not checker.findings:  # a stream stopped at an error has no end to check
                    checker.finish()
                rep.rows = checker.rows
                for f in checker.findings:
                    rep.fail(Problem(f"{f.message} (at byte {f.offset} of the decompressed table "
                                     f"data of the stream stored at this offset)", where[0],
                                     where[1], e.dump_id, label))
            if typed is not None:  # --types hook: each bad value with its row and column
                for tp in typed.finish():
                    rep.fail(Problem(f"{tp} (type check)", where[0], where[1], e.dump_id, label))
    except ArchiveError as err:
        rep.fail(_problem(rep, err, a.path),
                 "missing" if isinstance(err, MissingDataError) else "damaged")
    rep.checksum = h.hexdigest()


def _counting(stream: StoredStream, rep: EntryReport,
              progress: Progress | None) -> StoredStream:
    def gen() -> Iterator[bytes]:
        for chunk in stream.chunks:
            rep.stored_bytes += len(chunk)
            if progress is not None:
                progress(len(chunk))
            yield chunk
    return StoredStream(gen(), stream.offset, stream.path)


# --- custom format --------------------------------------------------------------------


def _verify_custom_sequential(a: Archive, progress: Progress | None, ahead: bool,
                              types: bool = False
                              ) -> tuple[list[EntryReport], list[Problem]]:
    """Walk the data area block by block from the end of the TOC, as written."""
    c = a.container
    assert isinstance(c, CustomContainer)
    wanted: dict[int, TocEntry] = {}
    for e in a.entries:
        if e.has_data:
            wanted.setdefault(e.dump_id, e)
    reports: dict[int, EntryReport] = {}
    problems: list[Problem] = []
    pos = c.data_start
    while pos < c.size:
        try:
            hdr = c.blocks.header(pos)
        except ArchiveError as err:
            problems.append(Problem(f"cannot read a data block header: {err.message}", c.path,
                                    err.offset if err.offset is not None else pos))
            break
        owner = wanted.get(hdr.dump_id)
        if owner is None or hdr.dump_id in reports:
            problems.append(_stray_block(a, pos, hdr.dump_id, hdr.dump_id in reports))
            try:
                pos = c.blocks.skip_block(hdr)
            except ArchiveError:
                break
            continue
        e = owner
        rep = reports[e.dump_id] = _new_report(e)
        rep.block_start = pos
        if e.offset_flag == OffsetFlag.SET and e.data_offset != pos:
            rep.fail(Problem(f"TOC says the data block is at offset {e.data_offset}, but it is "
                             f"at {pos}", c.path, pos, e.dump_id, e.label))
        ended: list[int] = []
        check_streams(a, e, c.block_streams(hdr, ended), rep, progress, ahead, types)
        if not ended or rep.status != "ok":
            # Not read to the end (damage): find the block's end by its lengths.
            try:
                ended = [c.blocks.skip_block(hdr)]
            except ArchiveError:
                break
        pos = rep.block_end = ended[-1]
    out = []
    for e in a.entries:
        if not e.has_data:
            continue
        found = reports.get(e.dump_id)
        if found is None:
            found = _new_report(e)
            found.fail(Problem("no data block found for this entry (archive truncated or "
                             "damaged before it)", c.path, e.data_offset if e.data_offset
                             else None, e.dump_id, e.label), "missing")
        out.append(found)
    return out, problems


def _stray_block(a: Archive, pos: int, dump_id: int, repeated: bool) -> Problem:
    """A data block no TOC entry with data reads: repeated, of an entry the TOC says has
    no data (pg_restore skips it: its rows are lost), or of no entry at all."""
    c = a.container
    assert isinstance(c, CustomContainer)
    if repeated:
        return Problem(f"data block at offset {pos} repeats the block of dump id {dump_id}",
                       c.path, pos)
    owner = next((e for e in a.entries if e.dump_id == dump_id), None)
    if owner is not None and owner.has_data:
        return Problem(f"data block at offset {pos} repeats the block of dump id {dump_id}",
                       c.path, pos, owner.dump_id, owner.label)
    if owner is None:
        return Problem(f"data block at offset {pos} has no TOC entry for dump id {dump_id}",
                       c.path, pos)
    return Problem(f"data block at offset {pos} belongs to an entry the TOC says has no data: "
                   "pg_restore would skip it and lose what it holds", c.path, pos,
                   owner.dump_id, owner.label)


def _framing_problems(a: Archive, reports: list[EntryReport]) -> list[Problem]:
    """Blocks verified out of order must tile the data area exactly."""
    c = a.container
    assert isinstance(c, CustomContainer)
    placed = sorted((r.block_start, r.block_end, r) for r in reports
                    if r.block_start is not None and r.block_end is not None)
    problems: list[Problem] = []
    pos = c.data_start
    for start, end, r in placed:
        if start > pos:
            problems += _blocks_between(a, pos, start)
        if start != pos:
            what = "unaccounted for" if start > pos else "overlap"
            problems.append(Problem(f"{abs(start - pos)} bytes {what} before the data block "
                                    f"of dump id {r.dump_id}", c.path, pos))
        pos = end
    if placed and pos < c.size:
        problems += _blocks_between(a, pos, c.size)
    if placed and pos != c.size:
        problems.append(Problem(f"{c.size - pos} unexpected bytes after the last data block",
                                c.path, pos))
    return problems


def _blocks_between(a: Archive, pos: int, end: int) -> list[Problem]:
    """The blocks found in bytes no entry's block took (as the sequential walk names them)."""
    c = a.container
    assert isinstance(c, CustomContainer)
    out = []
    with contextlib.suppress(ArchiveError):
        while pos < end:
            hdr = c.blocks.header(pos)
            out.append(_stray_block(a, pos, hdr.dump_id, False))
            pos = c.blocks.skip_block(hdr)
    return out


def _one_report_per_entry(a: Archive, reports: list[EntryReport]) -> list[EntryReport]:
    """A dump id used by two entries with data: both would resolve to one data block, which
    pg_restore restores once per entry (its rows twice).  The second entry is damaged."""
    seen: set[int] = set()
    out = []
    for e, r in zip([e for e in a.entries if e.has_data], reports, strict=True):
        if e.dump_id in seen:
            r = _new_report(e)
            r.fail(Problem(f"dump id {e.dump_id} is also used by an earlier TOC entry with data: "
                           "both resolve to one data block, which pg_restore would restore "
                           "twice", a.path, None, e.dump_id, e.label))
        seen.add(e.dump_id)
        out.append(r)
    return out


# --- entry-parallel verification (custom with offsets, directory) -----------------------


def _verify_one(a: Archive, e: TocEntry, progress: Progress | None = None,
                ahead: bool = False, types: bool = False) -> EntryReport:
    rep = _new_report(e)
    c = a.container
    try:
        if isinstance(c, CustomContainer):
            hdr = c.block_of(e)
            rep.block_start = hdr.position
            ended: list[int] = []
            check_streams(a, e, c.block_streams(hdr, ended), rep, progress, ahead, types)
            rep.block_end = ended[-1] if ended and rep.status == "ok" else c.blocks.skip_block(hdr)
        else:
            check_streams(a, e, c.stored_streams(e), rep, progress, ahead, types)
    except ArchiveError as err:
        problem = _problem(rep, err, a.path)
        if all(p.message != problem.message for p in rep.problems):  # not said already
            rep.fail(problem, "missing" if rep.raw_bytes == 0 else "damaged")
    return rep


def _worker(path: str, ids: list[int], types: bool = False) -> list[EntryReport]:
    with archive_mod.open(path) as a:
        return [_verify_one(a, a.entry(i), types=types) for i in ids]


def _verify_entries(a: Archive, jobs: int, progress: Progress | None,
                    types: bool = False) -> list[EntryReport]:
    """``jobs`` processes, one entry at a time each; or, with one entry (or a tar), this
    process with a read-ahead thread when two cores are allowed."""
    data = [e for e in a.entries if e.has_data]
    if jobs <= 1 or len(data) <= 1 or isinstance(a.container, TarContainer):
        return [_verify_one(a, e, progress, ahead=jobs >= 2, types=types) for e in data]
    # Balance by stored size: biggest first, each to the least loaded worker.
    sizes = {e.dump_id: a.stored_size(e) or 0 for e in data}
    loads = [0] * jobs
    groups: list[list[int]] = [[] for _ in range(jobs)]
    for e in sorted(data, key=lambda x: -sizes[x.dump_id]):
        i = loads.index(min(loads))
        groups[i].append(e.dump_id)
        loads[i] += sizes[e.dump_id]
    by_id: dict[int, EntryReport] = {}
    copytext.vector_module()  # imported once here, not once per (forked) worker
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_worker, a.path, g, types) for g in groups if g]
        for f in futures:
            for rep in f.result():
                by_id[rep.dump_id] = rep
                if progress is not None:
                    progress(rep.stored_bytes)
    return [by_id[e.dump_id] for e in data]


IGNORED = "pg_restore ignores it"


def _tar_order(a: Archive, reports: list[EntryReport]) -> None:
    """pg_restore reads a tar strictly forward, entries' data in TOC order: a data member
    that comes before the one of an earlier entry stops it ("restoring data out of order
    is not supported"), and it reads a BLOBS entry's large objects up to the next member
    that is not one, so a large object after its blobs TOC member is silently dropped."""
    c = a.container
    assert isinstance(c, TarContainer)
    by_id = {r.dump_id: r for r in reports}
    pos = 0
    for e in a.entries:
        rep = by_id.get(e.dump_id)
        if not e.has_data or rep is None:
            continue
        try:
            if e.desc == "BLOBS":
                blobs = c.blob_members(e)
                toc = c.member(c.blobs_toc_name(e))
                members = [m for _oid, m in blobs] + [toc]
                for oid, m in blobs:
                    if m.offset > toc.offset:
                        rep.fail(Problem(f"tar member {m.name!r} (large object {oid}) comes "
                                         f"after {toc.name!r}: pg_restore would silently skip "
                                         "it", c.path, m.offset, e.dump_id, e.label))
            else:
                members = [c.member(e.filename or "")]
        except ArchiveError:
            continue  # reported when the data was read
        first = min(m.offset for m in members)
        if first < pos:
            rep.fail(Problem(f"tar member {members[0].name!r} comes before the data of an "
                             "earlier entry: pg_restore would stop (restoring data out of "
                             "order is not supported in this archive format)", c.path,
                             first, e.dump_id, e.label))
        pos = max(pos, max(m.offset for m in members))


def _extra_files(a: Archive) -> list[Problem]:
    """Files of a directory archive and members of a tar that pg_restore never reads (a
    README, stale data files of an earlier dump, the compressed twin of a data file it
    reads by its exact name): notes, or problems with ``strict``."""
    c = a.container
    if isinstance(c, DirectoryContainer):
        known = c.data_files()
        return [Problem(f"file {name!r} in the archive folder is not part of the archive "
                        f"({IGNORED})", os.path.join(c.path, name))
                for name in sorted(os.listdir(c.path)) if name not in known]
    if isinstance(c, TarContainer):
        expected = {"toc.dat", "restore.sql"}
        for e in a.entries:
            if e.has_data and e.desc != "BLOBS" and e.filename:
                expected.add(e.filename)
            if e.has_data and e.desc == "BLOBS":
                with contextlib.suppress(ArchiveError):
                    expected.update(m.name for _oid, m in c.blob_members(e))
                expected.add(c.blobs_toc_name(e))
        return [Problem(f"tar member {name!r} is not part of the archive ({IGNORED})",
                        c.path, m.offset)
                for name, m in c.members.items() if name not in expected]
    return []


def verify(path: str, jobs: int = 1, progress: Progress | None = None,
           only: set[int] | None = None,
           on_total: Callable[[int], None] | None = None, types: bool = False,
           strict: bool = False) -> VerifyReport:
    """Verify the archive at ``path``; never raises for damage, only if it cannot be read.

    ``only`` limits the report to those dump ids (in custom archives the data area is still
    walked block by block, as it must be to find them).  ``on_total`` receives the stored
    bytes there are to read, once the archive is open (for a progress bar).  ``types``:
    also check every value against its column's type (typecheck.py).  ``strict``: files
    pg_restore ignores (a README in a directory archive) are problems, not notes."""
    start = time.perf_counter()
    with archive_mod.open(path) as a:
        if on_total is not None:
            on_total(a.data_area_size() or 0)
        c = a.container
        problems: list[Problem] = []
        if isinstance(c, CustomContainer) and (jobs <= 1 or not c.has_offsets):
            reports, problems = _verify_custom_sequential(a, progress, ahead=jobs >= 2,
                                                          types=types)
        else:
            reports = _verify_entries(a, jobs, progress, types)
            if isinstance(c, CustomContainer):
                problems = _framing_problems(a, reports)
        reports = _one_report_per_entry(a, reports)
        if isinstance(c, TarContainer):
            _tar_order(a, reports)
            problems += [Problem(f"{msg} (pg_restore would not notice: it never reads there)",
                                 c.path, offset) for msg, offset in c.end_problems()]
        extra = _extra_files(a)
        if strict:
            problems += extra
        if only is not None:
            reports = [r for r in reports if r.dump_id in only]
        h = a.header
        report = VerifyReport(a.path, a.format_name.lower(), f"{h.vmaj}.{h.vmin}.{h.vrev}",
                              h.compression_name, HASH_NAME, reports, problems,
                              time.perf_counter() - start, jobs)
        report.toc = {str(e.dump_id): toc_checksum(e) for e in a.entries}
        if not strict:
            report.notes += [str(p) for p in extra]
        if h.compression_name in ("none", "lz4", "zstd"):
            what = "uncompressed data has" if h.compression_name == "none" else (
                f"{h.compression_name} streams written by pg_dump have")
            report.notes.append(f"{what} no checksum: a changed byte that keeps the COPY "
                                "text valid is " + MANIFEST_NOTE)
        return report
