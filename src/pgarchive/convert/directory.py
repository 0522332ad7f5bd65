"""Writing a directory-format archive (pg_backup_directory.c): ``<dumpId>.dat`` per table
data entry and ``blob_<oid>.dat`` per large object, each with the compression's suffix
(gzip files, LZ4 or zstd frames), the large-object index ``blobs.toc`` (``blobs_<dumpId>
.toc`` from 1.16 on), and ``toc.dat``, always uncompressed, whose header names the tar
format as pg_dump's does."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from ..archive import Archive
from ..containers.spool import readable_path  # ("-", a .gz: the local copy)
from ..errors import ArchiveError
from ..format.blobtoc import blob_file_name, blobs_toc_line, blobs_toc_name
from ..format.constants import Compression, TocExtra
from ..format.model import TocEntry
from ..format.writer import (
    build_toc_file,
    data_file_name,
    suffix,
    toc_file_name,
)
from .model import OutEntry, Plan
from .parallel import Jobs
from .rawcopy import Ranges, copy_payloads
from .streams import Counts, Mode, Stream, entry_mode, entry_streams

BUFFER = 1 << 20


def _write_file(path: str, pieces: Iterable[bytes]) -> None:
    with open(path, "xb", buffering=BUFFER) as f:
        for piece in pieces:
            f.write(piece)


def _write_stream(path: str, stream: Stream) -> None:
    try:
        _write_file(path, stream.pieces)
    except ArchiveError as err:
        raise stream.located(err) from None


def write_entry(folder: str, a: Archive, plan: Plan, item: OutEntry) -> Counts:
    """The files of one entry with data."""
    counts = Counts()
    counts.count(entry_mode(a, plan, item))
    ext = suffix(plan.spec.algorithm)
    e = item.entry
    if item.is_blobs:
        lines = []
        for stream in entry_streams(a, plan, item):
            assert stream.oid is not None
            name = blob_file_name(stream.oid)
            _write_stream(os.path.join(folder, name + ext), stream)
            lines.append(blobs_toc_line(stream.oid, name))
        _write_file(os.path.join(folder, blobs_toc_name(plan.header.version, e.dump_id)),
                    [b"".join(lines)])
    else:
        path = os.path.join(folder, data_file_name(e.dump_id) + ext)
        if not _copied(path, a, plan, item):
            for stream in entry_streams(a, plan, item):
                _write_stream(path, stream)
    return counts


def _copied(path: str, a: Archive, plan: Plan, item: OutEntry) -> bool:
    """Write table data kept as it is in a custom archive's lz4 or zstd chunks (tens of
    kB each) to ``path``: the chunks' payloads, read a window at a time and written
    without their lengths (rawcopy.copy_payloads); where that gives up (damage, or a
    block longer than the TOC's offsets say), again chunk by chunk, whose walk names what
    is wrong.  False where it is not that (other methods' chunks are a row or 4 kB, and
    gzip's become a gzip file)."""
    if (a.kind != "custom" or len(item.sources) != 1
            or plan.spec.algorithm not in (Compression.LZ4, Compression.ZSTD)
            or entry_mode(a, plan, item) is not Mode.COPY):
        return False
    entry = item.sources[0]
    body = a.chunk_list(entry)
    if body is None:
        return False
    name = readable_path(a.path)
    src = os.open(name, os.O_RDONLY)
    try:
        dst = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            ranges = Ranges(src, dst, name)
            size = a.stored_size(entry)
            limit = (entry.data_offset + size if size is not None and entry.data_offset
                     else os.fstat(src).st_size)
            if copy_payloads(ranges, body, limit, a.header.int_size) is None:
                os.ftruncate(dst, 0)
                os.lseek(dst, 0, os.SEEK_SET)
                spans = a.stored_ranges(entry)
                assert spans is not None  # (table data of a custom archive)
                ranges.copy_all(spans)
        finally:
            os.close(dst)
    finally:
        os.close(src)
    return True


def named_entries(plan: Plan, kind: str) -> list[TocEntry]:
    """The entries with the file names a directory or tar TOC records ("" without data)."""
    v = plan.header.version
    return [item.entry._replace(
        filename=toc_file_name(v, kind, item.entry) if item.has_data else "",
        offset_flag=None, data_offset=None) for item in plan.entries]


def write_archive(folder: str, a: Archive, plan: Plan, jobs: Jobs,
                  progress: Callable[[int], None] | None = None) -> Counts:
    """Write the whole archive into ``folder`` (new and empty)."""
    counts = Counts()
    work = jobs.parallel_entries(a, plan)
    started = jobs.start(lambda index, out: write_entry(out, a, plan, plan.entries[index]),
                         {k: folder for k in work}) if work else {}
    for k, item in enumerate(plan.entries):
        if not item.has_data:
            continue
        if k in started:
            counts.add(started[k]())
        else:
            counts.add(write_entry(folder, a, plan, item))
        if progress is not None:
            progress(sum(a.stored_size(s) or 0 for s in item.sources))
    toc = build_toc_file(plan.header, named_entries(plan, "directory"), TocExtra.FILENAME,
                         a.encoding)
    _write_file(os.path.join(folder, "toc.dat"), [toc])
    return counts
