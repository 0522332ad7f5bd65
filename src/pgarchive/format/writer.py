"""Build archive bytes from a Header and TocEntries with the construct specification.

Used by the tests and the fuzzers to write synthetic archives of any version, and to prove
that the fast reader and the specification agree (parse, build, compare bytes).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .constants import K_VERS_1_4, K_VERS_1_15, Compression, OffsetFlag
from .model import Header, TocEntry
from .structs import PROLOGUE, ArchiveStructs

#: Table data: bytes; a BLOBS entry: a list of (oid, bytes).
DataMap = Mapping[int, "bytes | Sequence[tuple[int, bytes]]"]


def _b(text: str | None, codec: str) -> bytes | None:
    return None if text is None else text.encode(codec, "surrogateescape")


def header_values(h: Header, codec: str = "utf-8") -> dict[str, Any]:
    """The construct values of a header (prologue and rest)."""
    prologue = {"magic": b"PGDMP", "vmaj": h.vmaj, "vmin": h.vmin, "vrev": h.vrev,
                "int_size": h.int_size, "off_size": h.off_size, "format": int(h.format_code)}
    rest: dict[str, Any] = {}
    if h.version >= K_VERS_1_15:
        rest["compression"] = int(h.compression)
    elif h.version >= K_VERS_1_4:
        rest["compression"] = h.compression_level if h.compression_level is not None else -1
    names = ("tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_isdst")
    rest.update(zip(names, h.created_tm, strict=True))
    rest["dbname"] = _b(h.dbname, codec)
    rest["server_version"] = _b(h.server_version, codec)
    rest["dump_version"] = _b(h.dump_version, codec)
    return {"prologue": prologue, "rest": rest}


def entry_values(e: TocEntry, codec: str = "utf-8") -> dict[str, Any]:
    """The construct values of a TOC entry."""
    def b(text: str | None) -> bytes | None:
        return _b(text, codec)

    return {
        "dump_id": e.dump_id, "had_dumper": int(e.had_dumper),
        "table_oid": str(e.table_oid).encode(), "oid": str(e.oid).encode(),
        "tag": b(e.tag), "desc": b(e.desc), "section": int(e.section),
        "defn": b(e.defn), "drop_stmt": b(e.drop_stmt), "copy_stmt": b(e.copy_stmt),
        "namespace": b(e.namespace), "tablespace": b(e.tablespace), "tableam": b(e.tableam),
        "relkind": e.relkind, "owner": b(e.owner),
        "with_oids": b"true" if e.with_oids else b"false",
        "dependencies": [str(d).encode() for d in e.dependencies] + [None],
        "offset": {"flag": int(e.offset_flag or OffsetFlag.NO_DATA),
                   "position": e.data_offset or 0},
        "filename": b(e.filename if e.filename is not None else ""),
    }


def build_toc_file(h: Header, entries: Sequence[TocEntry], extra: str,
                   codec: str = "utf-8") -> bytes:
    """Header plus TOC: a custom archive without its data, or a directory's toc.dat."""
    s = ArchiveStructs(h.version, h.int_size, h.off_size, extra)
    hv = header_values(h, codec)
    out = _build(PROLOGUE, hv["prologue"]) + _build(s.header_rest, hv["rest"])
    out += _build(s.toc, {"count": len(entries),
                          "entries": [entry_values(e, codec) for e in entries]})
    return out


def compress_stream(data: bytes, algorithm: Compression) -> bytes:
    if algorithm == Compression.NONE:
        return data
    if algorithm == Compression.GZIP:
        return zlib.compress(data)
    if algorithm == Compression.LZ4:
        import lz4.frame

        return bytes(lz4.frame.compress(data))
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(data))


def build_custom(h: Header, entries: Sequence[TocEntry], data: DataMap,
                 codec: str = "utf-8", chunk: int = 4096, with_offsets: bool = True) -> bytes:
    """A complete custom archive: TOC, then one block per entry that has data, in TOC order.

    Offsets are written as pg_dump does when the output is seekable (flag SET) or, with
    ``with_offsets=False``, as when it wrote to a pipe (flag NOT_SET, position 0).
    """
    s = ArchiveStructs(h.version, h.int_size, h.off_size, "offset")
    blocks: dict[int, bytes] = {}
    for e in entries:
        if not e.had_dumper or e.dump_id not in data:
            continue
        payload = data[e.dump_id]
        body = bytearray()
        if isinstance(payload, bytes | bytearray):
            btype = 1
            body += _chunks(s, compress_stream(bytes(payload), h.compression), chunk)
        else:
            btype = 3
            for oid, lo in payload:
                body += _build(s.Int, oid if oid < 2**31 else oid - 2**32)
                body += _chunks(s, compress_stream(lo, h.compression), chunk)
            body += _build(s.Int, 0)
        blocks[e.dump_id] = _build(s.block_header, {"type": btype, "dump_id": e.dump_id}) + body
    fixed = [e._replace(offset_flag=OffsetFlag.NOT_SET if e.dump_id in blocks
                     else OffsetFlag.NO_DATA, data_offset=0) for e in entries]
    toc = build_toc_file(replace(h, toc_count=len(fixed)), fixed, "offset", codec)
    if with_offsets:  # offsets do not change the TOC's size, so one pass places them
        pos = len(toc)
        placed = []
        for e in fixed:
            if e.dump_id in blocks:
                placed.append(e._replace(offset_flag=OffsetFlag.SET, data_offset=pos))
                pos += len(blocks[e.dump_id])
            else:
                placed.append(e)
        toc = build_toc_file(replace(h, toc_count=len(placed)), placed, "offset", codec)
    return toc + b"".join(blocks[e.dump_id] for e in fixed if e.dump_id in blocks)


def _chunks(s: ArchiveStructs, stream: bytes, size: int) -> bytes:
    out = bytearray()
    for i in range(0, len(stream), size):
        piece = stream[i:i + size]
        out += _build(s.Int, len(piece)) + piece
    out += _build(s.Int, 0)
    return bytes(out)


def _build(struct: Any, value: Any) -> bytes:
    """construct's build, typed."""
    return bytes(struct.build(value))


def _dir_compress(data: bytes, algorithm: Compression) -> bytes:
    """A directory archive's data file: gzip files (not zlib streams) for GZIP."""
    if algorithm == Compression.GZIP:
        import gzip

        return gzip.compress(data, mtime=0)
    return compress_stream(data, algorithm)


def build_directory(h: Header, entries: Sequence[TocEntry], data: DataMap,
                    codec: str = "utf-8") -> dict[str, bytes]:
    """The files of a directory archive (name -> bytes), as pg_dump -Fd writes them."""
    suffix = {Compression.NONE: "", Compression.GZIP: ".gz", Compression.LZ4: ".lz4",
              Compression.ZSTD: ".zst"}[h.compression]
    files: dict[str, bytes] = {}
    named = []
    for e in entries:
        if e.had_dumper and e.dump_id in data:
            payload = data[e.dump_id]
            if isinstance(payload, bytes | bytearray):
                name = f"{e.dump_id}.dat"
                files[name + suffix] = _dir_compress(bytes(payload), h.compression)
            else:
                name = (f"blobs_{e.dump_id}.toc" if h.version >= 0x011000 else "blobs.toc")
                lines = []
                for oid, lo in payload:
                    files[f"blob_{oid}.dat{suffix}"] = _dir_compress(lo, h.compression)
                    lines.append(f"{oid} blob_{oid}.dat\n")
                files[name] = "".join(lines).encode()
            named.append(e._replace(filename=name, offset_flag=None, data_offset=None))
        else:
            named.append(e._replace(filename="", offset_flag=None, data_offset=None))
    from .constants import ArchiveFormat

    files["toc.dat"] = build_toc_file(replace(h, format_code=ArchiveFormat.TAR,
                                              toc_count=len(named)), named, "filename", codec)
    return files


def build_tar(h: Header, entries: Sequence[TocEntry], data: DataMap,
              codec: str = "utf-8") -> bytes:
    """A tar archive (never compressed), members in pg_dump's order."""
    import io
    import tarfile

    from .constants import ArchiveFormat

    h = replace(h, compression=Compression.NONE,
                compression_level=0 if h.version < K_VERS_1_15 else None,
                format_code=ArchiveFormat.TAR)
    files = build_directory(h, entries, data, codec)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        order = ["toc.dat", *[n for n in files if n.endswith(".dat") and
                              not n.startswith("blob_")]]
        order += [n for n in files if n.startswith("blob")]
        for name in order:
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tf.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()
