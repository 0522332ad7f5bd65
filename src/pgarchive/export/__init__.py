"""Table data out of an archive, without a server: COPY text, CSV, TSV, JSON Lines, Parquet.

Every format streams: the entry's data is decompressed piece by piece, cut into batches of
whole rows (:mod:`pgarchive.copyrows`, which also checks the COPY structure) and each batch
is converted and written before the next is read.  Parquet keeps one row group (128 MiB of
Arrow data by default) in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..archive import Archive
from ..coltypes import TableLayout, TypeCatalog
from ..copyrows import BATCH, row_batches, working_codec
from ..encodings import is_sql_ascii
from ..errors import ArchiveError, UsageError
from ..fileio import output_stream
from ..format.model import TocEntry
from ..inserts import copy_text, is_insert_data, std_strings

FORMATS = ("copy", "csv", "tsv", "jsonl", "parquet")
EXTENSIONS = {"copy": "copy", "csv": "csv", "tsv": "tsv", "jsonl": "jsonl",
              "parquet": "parquet"}
#: Arrow data per Parquet row group (the issue's memory goal is set for this size).
ROW_GROUP_BYTES = 128 << 20
#: Bytes of COPY text decoded at a time into Arrow (pyarrow's reader uses its threads on it).
ARROW_BATCH = 4 << 20


@dataclass
class ExportResult:
    """What was written for one table."""

    dump_id: int
    namespace: str | None
    table: str
    path: str | None  # None: stdout
    rows: int
    notes: tuple[str, ...] = ()


def exportable(entries: list[TocEntry]) -> list[TocEntry]:
    """The TABLE DATA entries (with data) among ``entries``."""
    return [e for e in entries if e.desc == "TABLE DATA" and e.has_data]


def file_name(e: TocEntry, fmt: str) -> str:
    """``schema.table.ext``, with characters no file name should hold percent-encoded."""
    def safe(part: str) -> str:
        return "".join(c if c.isprintable() and c not in '/\\%:' else
                       "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogateescape"))
                       for c in part)
    name = f"{safe(e.namespace)}.{safe(e.tag)}" if e.namespace else safe(e.tag)
    if name.startswith("."):
        name = "%2E" + name[1:]
    return f"{name}.{EXTENSIONS[fmt]}"


class Exporter:
    """Exports TABLE DATA entries of one open archive."""

    def __init__(self, a: Archive, fmt: str, header: bool | None = None,
                 row_group_bytes: int = ROW_GROUP_BYTES) -> None:
        if fmt not in FORMATS:
            raise UsageError(f"unknown export format {fmt!r}")
        if fmt == "parquet":
            from .arrowbatch import require_pyarrow

            require_pyarrow("parquet")
        self.archive = a
        self.fmt = fmt
        self.header = (fmt in ("csv", "tsv")) if header is None else header
        self.row_group_bytes = row_group_bytes
        self.catalog = TypeCatalog(a.entries)
        self.codec = a.encoding
        self.lenient = is_sql_ascii(a.entries)

    def layout(self, e: TocEntry) -> TableLayout:
        """The table's columns and types, from its CREATE statement (domains resolved)."""
        return self.catalog.layout(e)

    def write(self, e: TocEntry, out: BinaryIO) -> ExportResult:
        """Write one table's data to ``out``; ArchiveError (located) if it is damaged."""
        layout = self.layout(e)
        try:
            rows = getattr(self, f"_write_{self.fmt}")(e, layout, out)
        except ArchiveError as err:
            raise err.located(path=self.archive.path, entry=e.label) from None
        return ExportResult(e.dump_id, e.namespace, e.tag, None, rows, layout.notes)

    def to_path(self, e: TocEntry, path: str | None) -> ExportResult:
        """Write one table's data to ``path`` (a file, atomically; None or ``-``: stdout)."""
        with output_stream(path) as out:
            res = self.write(e, out)
        res.path = path if path not in (None, "-") else None
        return res

    # --- formats -----------------------------------------------------------------------

    def _batches(self, e: TocEntry, layout: TableLayout, target: int = BATCH
                 ) -> Iterator[Any]:
        return row_batches(self._copy_text(e), len(layout.columns), self.codec, target)

    def _copy_text(self, e: TocEntry) -> Iterator[bytes]:
        """The entry's COPY text; data dumped as INSERT statements is turned into it."""
        pieces = self.archive.data(e, 1 << 20)
        if is_insert_data(e.copy_stmt):
            return copy_text(pieces, self.codec, std_strings(self.archive.entries))
        return pieces

    def _out_codec(self) -> tuple[str, str]:
        """(the batches' codec, the output's): they differ for ASCII-embedding encodings."""
        return working_codec(self.codec), self.codec

    def _recode(self) -> Callable[[bytes], bytes] | None:
        work, out = self._out_codec()
        if work == out:
            return None
        return lambda b: b.decode(work, "surrogateescape").encode(out, "surrogateescape")

    def _write_copy(self, e: TocEntry, layout: TableLayout, out: BinaryIO) -> int:
        from .textual import copy_text_header

        recode = self._recode()
        if self.header:
            out.write(copy_text_header(layout.names, self.codec))
        rows = 0
        for b in self._batches(e, layout):
            out.write(recode(b.data) if recode else b.data)
            rows += b.rows
        return rows

    def _write_csv(self, e: TocEntry, layout: TableLayout, out: BinaryIO) -> int:
        return self._write_delimited(e, layout, out, b",")

    def _write_tsv(self, e: TocEntry, layout: TableLayout, out: BinaryIO) -> int:
        return self._write_delimited(e, layout, out, b"\t")

    def _write_delimited(self, e: TocEntry, layout: TableLayout, out: BinaryIO,
                         delim: bytes) -> int:
        from .textual import copy_to_csv, header_line

        recode = self._recode()
        if self.header:
            out.write(header_line(layout.names, self.codec, delim))
        ncols = len(layout.columns)
        rows = 0
        for b in self._batches(e, layout):
            data = copy_to_csv(b.data, ncols, delim)
            out.write(recode(data) if recode else data)
            rows += b.rows
        return rows

    def _write_jsonl(self, e: TocEntry, layout: TableLayout, out: BinaryIO) -> int:
        from .jsonl import JsonlEncoder

        enc = JsonlEncoder(layout, working_codec(self.codec), strict=not self.lenient)
        rows = 0
        for b in self._batches(e, layout):
            out.write(enc.encode(b))
            rows += b.rows
        return rows

    def arrow_decoder(self, layout: TableLayout, parquet: bool = False) -> Any:
        """The vectorised decoder of a table's COPY text into Arrow record batches."""
        from .arrowbatch import ArrowDecoder

        return ArrowDecoder(layout, working_codec(self.codec), strict_text=not self.lenient,
                            parquet=parquet)

    def record_batches(self, e: TocEntry, layout: TableLayout | None = None
                       ) -> Iterator[Any]:
        """The table's data as Arrow record batches (for Parquet and queries)."""
        layout = layout or self.layout(e)
        dec = self.arrow_decoder(layout)
        try:
            for b in self._batches(e, layout, ARROW_BATCH):
                yield dec.batch(b)
        except ArchiveError as err:
            raise err.located(path=self.archive.path, entry=e.label) from None

    def _write_parquet(self, e: TocEntry, layout: TableLayout, out: BinaryIO) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .arrowbatch import trim_memory

        dec = self.arrow_decoder(layout, parquet=True)
        rows = 0
        with pq.ParquetWriter(out, dec.schema) as writer:  # snappy: the fastest to write
            group: list[Any] = []
            size = 0
            for b in self._batches(e, layout, ARROW_BATCH):
                rb = dec.batch(b)
                trim_memory()  # the decoder's temporaries
                group.append(rb)
                size += rb.get_total_buffer_size()  # what it holds, not just what it uses
                rows += b.rows
                if size >= self.row_group_bytes:
                    writer.write_table(pa.Table.from_batches(group, dec.schema),
                                       row_group_size=1 << 62)
                    group, size = [], 0
                    trim_memory()
            if group or rows == 0:
                writer.write_table(pa.Table.from_batches(group, dec.schema),
                                   row_group_size=1 << 62)
        return rows


def export_large_objects(a: Archive, folder: str) -> int:
    """Write every large object to ``folder/<oid>``; returns how many."""
    os.makedirs(folder, exist_ok=True)
    n = 0
    for lo in a.large_objects():
        with output_stream(os.path.join(folder, str(lo.oid))) as f:
            for chunk in lo.chunks:
                f.write(chunk)
        n += 1
    return n
