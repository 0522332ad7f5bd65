"""Writing a tar-format archive (pg_backup_tar.c): ``toc.dat`` first, then ``<dumpId>.dat``
for each table data entry in TOC order, ``blob_<oid>.dat`` for each large object followed
by its index (``blobs.toc``, or ``blobs_<dumpId>.toc`` from 1.16 on), then two blocks of
zeros.  Data is never compressed (pg_dump refuses -Z with -Ft), and member headers are
PostgreSQL's own (mode 0600, owner "postgres").

pg_dump also appends ``restore.sql``, a psql script for people that pg_restore never reads.
convert carries it over from a tar archive whose entries it keeps as they are, and
otherwise leaves it out (rendering that script is ``pgarchive sql``'s job).
"""

from __future__ import annotations

import contextlib
import tarfile
import time
from collections.abc import Callable, Iterable
from typing import BinaryIO

from ..archive import Archive
from ..containers.spool import readable_path  # ("-", a .gz: the local copy)
from ..errors import ArchiveError
from ..format.blobtoc import blob_file_name, blobs_toc_line, blobs_toc_name
from ..format.constants import TocExtra
from ..format.writer import (
    TAR_BLOCK,
    TAR_END,
    build_toc_file,
    data_file_name,
    tar_header,
    tar_padding,
)
from .directory import named_entries
from .model import Plan
from .parallel import Jobs
from .streams import Counts, Stream, entry_mode, entry_streams

BUFFER = 1 << 20


def _member(f: BinaryIO, name: str, pieces: Iterable[bytes] | Stream, mtime: int) -> None:
    """A member whose size is known once written: a header placeholder, the data, then
    the real header over the placeholder."""
    start = f.tell()
    f.write(bytes(TAR_BLOCK))
    size = 0
    try:
        for piece in (pieces.pieces if isinstance(pieces, Stream) else pieces):
            f.write(piece)
            size += len(piece)
    except ArchiveError as err:
        if isinstance(pieces, Stream):
            raise pieces.located(err) from None
        raise
    end = f.tell()
    f.seek(start)
    f.write(tar_header(name, size, mtime))
    f.seek(end)
    f.write(tar_padding(size))


def _source_mtime(a: Archive) -> int:
    """The time pg_dump wrote a tar source's members (so that a tar archive kept as it is
    keeps its bytes), else now, as pg_dump stamps them."""
    if a.kind == "tar":
        with contextlib.suppress(OSError, tarfile.HeaderError, ValueError), \
                open(readable_path(a.path), "rb") as f:
            return int(tarfile.TarInfo.frombuf(f.read(TAR_BLOCK), "utf-8",
                                               "surrogateescape").mtime)
    return int(time.time())


def _kept_script(a: Archive, plan: Plan) -> bytes | None:
    """The source's restore.sql, if the source is a tar archive of the same version and
    every entry is kept as it was (the script names the entries' data files)."""
    if a.kind != "tar" or plan.header.version != a.header.version:
        return None
    same = len(plan.entries) == len(a.entries) and all(
        item.entry == e for item, e in zip(plan.entries, a.entries, strict=True))
    return a.script_member() if same else None


def write_archive(path: str, a: Archive, plan: Plan, jobs: Jobs,
                  progress: Callable[[int], None] | None = None,
                  mtime: int | None = None) -> Counts:
    """Write the whole archive to ``path`` (a new, empty file).  Members carry ``mtime``
    (pg_dump: the time of writing)."""
    counts = Counts()
    when = mtime if mtime is not None else _source_mtime(a)
    version = plan.header.version
    # r+b, not w+b: the staged file exists (empty); truncating it makes ext4 start
    # writeback of everything written when it is closed (auto_da_alloc), ~1 s a GB
    with open(path, "r+b", buffering=BUFFER) as f:
        toc = build_toc_file(plan.header, named_entries(plan, "tar"), TocExtra.FILENAME, a.encoding)
        _member(f, "toc.dat", [toc], when)
        for item in plan.entries:
            if not item.has_data:
                continue
            counts.count(entry_mode(a, plan, item))
            if item.is_blobs:
                lines = []
                for stream in entry_streams(a, plan, item):
                    assert stream.oid is not None
                    name = blob_file_name(stream.oid)
                    _member(f, name, stream, when)
                    lines.append(blobs_toc_line(stream.oid, name))
                _member(f, blobs_toc_name(version, item.entry.dump_id), [b"".join(lines)],
                        when)
            else:
                for stream in entry_streams(a, plan, item):
                    _member(f, data_file_name(item.entry.dump_id), stream, when)
            if progress is not None:
                progress(sum(a.stored_size(s) or 0 for s in item.sources))
        script = _kept_script(a, plan)
        if script is not None:
            _member(f, "restore.sql", [script], when)
        f.write(TAR_END)
    return counts
