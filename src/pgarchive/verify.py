"""Verify an archive offline: read every data block, decompress it, check its framing and
COPY structure, count rows and bytes, and checksum it; compare with a manifest.

The checksum is XXH3-128 of each entry's decompressed data (for large objects: of each
oid and its bytes in order).  Chosen by measurement (benchmarks/bench_verify.py prints it):
on our machines XXH3 hashes at ~8.8 GB/s, SHA-256 at ~1.4 GB/s and BLAKE2b at ~0.7 GB/s,
and the checksum is there to detect change, not to resist an adversary.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Collection, Iterator
from collections.abc import Set as AbstractSet

import xxhash

from . import archive as archive_mod
from . import childdecode, copytext, nativedecode
from .archive import Archive
from .compression import InflateLimit, recut
from .containers import EntryData, Finding, StoredStream
from .containers.source import reused_reader
from .copytext import CopyChecker, RowsHint, copy_columns, prescan
from .errors import ArchiveError, MissingDataError, TruncatedError
from .format.blocks import CHUNK_WINDOW
from .format.constants import K_VERS_1_12, Compression
from .format.model import TocEntry
from .heap import keep_freed_memory
from .insertrows import InsertChecker
from .limits import INFLATE_FLOOR, INFLATE_RATIO
from .readahead import read_ahead
from .verify_report import (  # (re-exported: the report types are verify's API)
    HASH_NAME,
    KEPT_PROBLEMS,
    MANIFEST_NOTE,
    EntryReport,
    Problem,
    VerifyReport,
)

# Bytes of decompressed data checked at a time (measured, 2 GB tables): on one core,
# 256 kB pieces stay in cache (15% faster than 1 MB on four lz4 tables); handed between
# threads, pieces of 256 kB to 1 MB make fewer hand-overs (a decoder's output of 256 kB or
# more goes as it is: joining it would copy it once more).
PIECE = 256 << 10
PIECE_AHEAD = 1 << 20
# The interpreter's switch interval while a read-ahead thread runs (Python's default is
# 5 ms): each thread keeps releasing the GIL in C calls (decoders, numpy, xxhash) and
# waits up to this long to get it back from the other.  (Its effect against 5 ms was
# within the noise of the shared 2-core machine it was measured on: README, Performance.)
SWITCH = 0.0005
Progress = Callable[[int], None]

__all__ = ["HASH_NAME", "KEPT_PROBLEMS", "MANIFEST_NOTE", "EntryReport", "Problem",
           "VerifyReport", "toc_checksum", "verify"]


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


Hinted = tuple[bytes, RowsHint | None]


def _prescan(checker: CopyChecker | InsertChecker | None
             ) -> Callable[[Hinted], Hinted] | None:
    """The share of the checks the read-ahead thread takes when it is ahead: the
    vectorised rows of a piece (copytext.prescan), which hold no streaming state."""
    if not isinstance(checker, CopyChecker) or checker.columns is None:
        return None
    columns = checker.columns
    return lambda item: (item[0], prescan(item[0], columns))


def check_streams(a: Archive, e: TocEntry, streams: Iterator[tuple[int | None, StoredStream]],
                  rep: EntryReport, progress: Progress | None = None,
                  ahead: bool = False, types: bool = False) -> None:
    """Decompress and check the streams of one entry, filling ``rep``.

    With ``ahead`` (a second core is ours to use), reading and decoding run ahead of the
    hashing and checks: in a child process for a large custom data block (childdecode.py),
    in a thread otherwise."""
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
                for piece in container.decompressed(e, _counting(stream, rep, progress),
                                                     1 << 20, limit):
                    h.update(piece)
                    rep.raw_bytes += len(piece)
        else:
            checker = _checker(e)
            # --- verify --types hook (typecheck.py) ---
            typed = None
            if types:  # (imported here: 9 ms that only --types needs)
                from . import typecheck

                typed = typecheck.for_entry(a, e)
            where: tuple[str, int | None] = (a.path, None)
            for _oid, stream in streams:
                where = (stream.path, stream.offset)
                if ahead and typed is None and _child_pays(a, e, stream):
                    stored = rep.stored_bytes
                    if _check_in_child(a, e, stream, rep, h, checker, progress):
                        continue
                    # damaged, or the child failed: read again here, as --jobs 1 does
                    # (the entry's only stream: its checks and checksum start again)
                    progress = _skipping(progress, rep.stored_bytes - stored)
                    rep.stored_bytes, rep.raw_bytes = stored, 0
                    checker, h = _checker(e), xxhash.xxh3_128()
                    ahead = False
                # Uncompressed data is gathered from its chunks (one per row) in compiled
                # code that holds the GIL: a read-ahead thread contends with the checks
                # instead of overlapping them (measured on 2.95 GB, idle: 3.81 s threaded,
                # 3.36-3.48 s not; 5.05 s of CPU against 3.4).  It comes cut to size already.
                plain = container.compression_of(e) == Compression.NONE
                threaded = ahead and not plain
                size = PIECE_AHEAD if threaded else PIECE
                pieces = container.decompressed(e, _counting(stream, rep, progress), size)
                if not plain:
                    pieces = recut(pieces, size, size // 4 if threaded else None)
                if threaded:
                    keep_freed_memory()
                items: Iterator[Hinted] = ((p, None) for p in pieces)
                pipeline = (read_ahead(items, switch=SWITCH, spare=_prescan(checker))
                            if threaded else None)
                try:
                    for piece, hint in items if pipeline is None else pipeline:
                        h.update(piece)
                        rep.raw_bytes += len(piece)
                        if typed is not None:  # --types hook
                            typed.feed(piece)
                        if checker is not None:
                            if isinstance(checker, CopyChecker):
                                checker.feed(piece, hint)
                            else:
                                checker.feed(piece)
                            if checker.findings:  # issue 12: stop at the first error
                                break
                finally:  # on a break, stop the read-ahead thread now, not when collected
                    if pipeline is not None:
                        pipeline.close()
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
        rep.cut = rep.cut or isinstance(err, TruncatedError)
    rep.checksum = h.hexdigest()


def _checker(e: TocEntry) -> CopyChecker | InsertChecker | None:
    """A fresh checker of the entry's data: COPY rows, or INSERT statements."""
    if e.copy_stmt:
        return CopyChecker(copy_columns(e.copy_stmt))
    if e.desc == "TABLE DATA":  # pg_dump --inserts: statements, not COPY rows
        return InsertChecker(e.namespace, e.tag)
    return None


# --- one large stream with a second core: decoded in a child process --------------------

#: A custom data block smaller than this is read in this process (with a thread): a
#: child costs a fork and the set-up of its ring, ~2-5 ms.
CHILD_MIN = 8 << 20


def _child_pays(a: Archive, e: TocEntry, stream: StoredStream) -> bool:
    """Whether ``stream``, a custom archive's data block (the entry's only stream), is
    large enough to be decoded in a child process, and one can be made."""
    return (stream.ends is not None and stream.offset is not None
            and a.container.kind == "custom" and childdecode.available()
            and (a.stored_size(e) or 0) >= CHILD_MIN)


def _producer(a: Archive, e: TocEntry, stream: StoredStream) -> childdecode.Produce:
    """What the child runs: the block's chunks decoded into its ring, lz4 and zstd
    straight into the ring's slots where their C libraries load; returns where the
    block ended."""
    from .containers.custom import CustomContainer

    c = a.container
    assert isinstance(c, CustomContainer) and stream.offset is not None
    body, method = stream.offset, c.compression_of(e)

    def produce(ring: childdecode.Ring) -> int | None:
        decoder = nativedecode.decoder(method)
        if decoder is not None:
            ended: list[int] = []
            spans = c.blocks.spans(body, ended, read=reused_reader(
                c.source, bytearray(CHUNK_WINDOW)))

            def counted() -> Iterator[tuple[bytes | bytearray, int, int]]:
                for span in spans:
                    ring.stored += span[2] - span[1]
                    yield span
            ratio = INFLATE_RATIO[method.name.lower()]
            if decoder.copy(counted(), ring.output, ring.flush, INFLATE_FLOOR,
                            ratio) != nativedecode.OK:
                raise childdecode.Failed("damaged data")
            return ended[-1] if ended else None

        def chunks() -> Iterator[bytes]:
            for chunk in stream.chunks:
                ring.stored += len(chunk)
                yield chunk
        pieces: Iterator[bytes] = chunks()  # uncompressed: payloads gathered into runs
        if method != Compression.NONE:
            pieces = c.decompressed(e, StoredStream(pieces, body, stream.path),
                                    childdecode.SLOT)
        for piece in pieces:
            ring.put(piece)
        return stream.ends[-1] if stream.ends else None
    return produce


def _check_in_child(a: Archive, e: TocEntry, stream: StoredStream, rep: EntryReport,
                    h: xxhash.xxh3_128, checker: CopyChecker | InsertChecker | None,
                    progress: Progress | None) -> bool:
    """Hash and check the stream as a child process decodes it; False when it must be
    read again here (the child failed, or the checks found damage: then --jobs 1's
    reading, to the byte, says what and where)."""
    copy = checker if isinstance(checker, CopyChecker) else None
    try:
        child = childdecode.ChildStream(_producer(a, e, stream),
                                        None if copy is None else copy.columns)
    except OSError:  # no process (or pipe) to be had here now: read it here
        return False
    ring = child.ring
    try:
        for at, length, stored, hint in child:
            rep.stored_bytes += stored
            if progress is not None and stored:
                progress(stored)
            with memoryview(ring) as view:
                h.update(view[at:at + length])
            rep.raw_bytes += length
            if copy is not None:  # read in place
                copy.feed(ring, hint, at, at + length)
            elif checker is not None:
                checker.feed(ring[at:at + length])
            if checker is not None and checker.findings:
                return False
    except childdecode.Failed:
        return False
    finally:
        child.close()
    if stream.ends is not None and child.ended is not None:
        stream.ends.append(child.ended)
    return True


def _skipping(progress: Progress | None, done: int) -> Progress | None:
    """``progress`` that leaves out the first ``done`` bytes (reported already)."""
    if progress is None or done <= 0:
        return progress
    left = [done]

    def report(n: int) -> None:
        skip = min(n, left[0])
        left[0] -= skip
        if n > skip:
            progress(n - skip)
    return report


def _counting(stream: StoredStream, rep: EntryReport,
              progress: Progress | None) -> StoredStream:
    def gen() -> Iterator[bytes]:
        for chunk in stream.chunks:
            rep.stored_bytes += len(chunk)
            if progress is not None:
                progress(len(chunk))
            yield chunk
    return StoredStream(gen(), stream.offset, stream.path)


def _problem_of(f: Finding) -> Problem:
    return Problem(f.message, f.path, f.offset, f.dump_id, f.entry)


def _begin(rep: EntryReport, item: EntryData) -> None:
    """What the container found before the entry's data was read."""
    rep.block_start = item.start
    for f in item.problems:
        rep.fail(_problem_of(f), "damaged" if item.found else "missing")


# --- reading the data as the container walks it ------------------------------------------


def _verify_walk(a: Archive, wanted: AbstractSet[int] | None, progress: Progress | None,
                 ahead: bool, types: bool = False
                 ) -> tuple[dict[int, EntryReport], list[Problem]]:
    """One pass over the data in the container's order (a custom archive's data area
    block by block, as written): a report per dump id read, and the problems found
    outside any entry's data."""
    reports: dict[int, EntryReport] = {}
    problems: list[Problem] = []
    read: list[tuple[EntryData, EntryReport]] = []
    for item in a.container.data_walk(wanted):
        if isinstance(item, Finding):
            problems.append(_problem_of(item))
            continue
        e = item.entry
        rep = reports[e.dump_id] = _new_report(e)
        _begin(rep, item)
        if item.found:
            check_streams(a, e, item.streams, rep, progress, ahead, types)
            _finish(a, item, rep)
        read.append((item, rep))
    for item, rep in read:  # where each ended is known once the walk has passed it
        rep.block_end = item.end
    return reports, problems


def _one_report_per_entry(a: Archive, by_id: dict[int, EntryReport],
                          wanted: AbstractSet[int] | None) -> list[EntryReport]:
    """The report of each (wanted) entry with data, in TOC order.  A dump id used by two
    entries with data: both would resolve to one data block, which pg_restore restores
    once per entry (its rows twice).  The second entry is damaged."""
    seen: set[int] = set()
    out = []
    for e in a.entries:
        if not e.has_data:
            continue
        again = e.dump_id in seen
        seen.add(e.dump_id)
        if wanted is not None and e.dump_id not in wanted:
            continue
        if again:
            r = _new_report(e)
            r.fail(Problem(f"dump id {e.dump_id} is also used by an earlier TOC entry with data: "
                           "both resolve to one data block, which pg_restore would restore "
                           "twice", a.path, None, e.dump_id, e.label))
        else:
            r = by_id[e.dump_id]
        out.append(r)
    return out


# --- entry-parallel verification (custom with offsets, directory) -----------------------


def _verify_one(a: Archive, e: TocEntry, progress: Progress | None = None,
                ahead: bool = False, types: bool = False) -> EntryReport:
    rep = _new_report(e)
    try:
        item = a.container.entry_data(e)
        _begin(rep, item)
        check_streams(a, e, item.streams, rep, progress, ahead, types)
        _finish(a, item, rep)
    except ArchiveError as err:
        _fail_once(a, rep, err)
    return rep


def _finish(a: Archive, item: EntryData, rep: EntryReport) -> None:
    """Where the entry's data ends, found by its framing where the checks stopped early
    (at the first row found wrong): a broken chunk length past that row is damage of the
    entry too, reported at its offset, whichever way (--jobs) the data was read."""
    try:
        rep.block_end = item.finish()
    except ArchiveError as err:
        _fail_once(a, rep, err)


def _fail_once(a: Archive, rep: EntryReport, err: ArchiveError) -> None:
    """Record ``err`` unless said already: reading the data found it, or the same bytes
    once more while finding the block's end (a negative chunk length, in other words)."""
    problem = _problem(rep, err, a.path)
    if all(p.message != problem.message
           and (problem.offset is None or p.offset != problem.offset)
           for p in rep.problems):
        rep.fail(problem, "missing" if rep.raw_bytes == 0 else "damaged")
    rep.cut = rep.cut or isinstance(err, TruncatedError)


def _worker(path: str, ids: list[int], types: bool = False) -> list[EntryReport]:
    with archive_mod.open(path) as a:
        return [_verify_one(a, a.entry(i), types=types) for i in ids]


def _verify_entries(a: Archive, data: list[TocEntry], jobs: int, progress: Progress | None,
                    types: bool = False) -> dict[int, EntryReport]:
    """``jobs`` processes, one entry at a time each; or, with one entry, this process with
    a read-ahead thread."""
    if len(data) <= 1:
        return {e.dump_id: _verify_one(a, e, progress, ahead=True, types=types) for e in data}
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
    from concurrent.futures import ProcessPoolExecutor  # (15 ms to import: only here)

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_worker, a.path, g, types) for g in groups if g]
        for f in futures:
            for rep in f.result():
                by_id[rep.dump_id] = rep
                if progress is not None:
                    progress(rep.stored_bytes)
    return by_id


def _data_entries(a: Archive, wanted: AbstractSet[int] | None) -> list[TocEntry]:
    """The (wanted) entries with data, the first of each dump id."""
    seen: set[int] = set()
    out = []
    for e in a.entries:
        if e.has_data and e.dump_id not in seen:
            seen.add(e.dump_id)
            if wanted is None or e.dump_id in wanted:
                out.append(e)
    return out


def _total(a: Archive, data: list[TocEntry], wanted: AbstractSet[int] | None) -> int:
    """The stored bytes there are to read (for a progress bar)."""
    if wanted is not None:
        sizes = [a.stored_size(e) for e in data]
        if None not in sizes:
            return sum(s or 0 for s in sizes)
    return a.data_area_size() or 0


Select = Callable[[list[TocEntry]], Collection[int]]


def verify(path: str, jobs: int = 1, progress: Progress | None = None,
           only: Collection[int] | Select | None = None,
           on_total: Callable[[int], None] | None = None, types: bool = False,
           strict: bool = False, manifest: str | None = None) -> VerifyReport:
    """Verify the archive at ``path``; never raises for damage, only if it cannot be read.

    ``only`` limits the verification to those dump ids, or to those a function picks from
    the TOC's entries (only their data is read; in custom archives the data area is still
    walked block by block, as it must be to find them, the others' blocks by their lengths).
    ``on_total`` receives the stored bytes there are to read, once the archive is open (for
    a progress bar).  ``types``: also check every value against its column's type
    (typecheck.py).  ``strict``: files pg_restore ignores (a README in a directory archive)
    are problems, not notes.  ``manifest``: the path of a manifest written earlier, read
    before any data and compared with (manifest.py): differences are damage."""
    start = time.perf_counter()
    with archive_mod.open(path) as a:
        recorded = None
        if manifest is not None:
            from .manifest import load_manifest, manifest_limit

            # its size is bounded by what this archive's can be
            recorded = load_manifest(manifest, manifest_limit(a.entries))
        if callable(only):
            only = only(a.entries)
        wanted = None if only is None else frozenset(only)
        data = _data_entries(a, wanted)
        if on_total is not None:
            on_total(_total(a, data, wanted))
        c = a.container
        if jobs >= 2 and c.can_seek_data:
            by_id = _verify_entries(a, data, jobs, progress, types)
            problems = [_problem_of(f) for f in c.layout_problems(
                {i: (r.block_start, r.block_end) for i, r in by_id.items()})]
            if c.kind == "custom" and any(r.cut for r in by_id.values()):
                # A cut archive: entries read by their TOC offsets take the cut block's
                # remains for stray bytes and repeated blocks.  The answer is the one pass
                # over the data area as written (the same as --jobs 1); other damage keeps
                # the framing checks of the parallel read (TOC offsets against blocks).
                by_id, problems = _verify_walk(a, wanted, None, ahead=True, types=types)
        else:
            by_id, problems = _verify_walk(a, wanted, progress, ahead=jobs >= 2, types=types)
        reports = _one_report_per_entry(a, by_id, wanted)
        last = {r.dump_id: r for r in reports}
        for f in c.order_problems():
            rep = last.get(f.dump_id) if f.dump_id is not None else None
            if rep is not None:
                rep.fail(_problem_of(f))
        extra = [_problem_of(f) for f in c.unexpected_files()]
        if strict:
            problems += extra
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
        if manifest is not None and recorded is not None:
            from .manifest import apply_manifest

            apply_manifest(report, recorded, manifest)
        return report
