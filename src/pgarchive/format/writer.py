"""Build archive bytes: the header and TOC from the construct specification, the framing of
custom-format data blocks, the file names and large-object index files of directory and
tar archives, and pg_dump's tar member headers.  Pure: values in, bytes out.

``pgarchive convert`` (:mod:`pgarchive.convert`) writes real archives with these pieces and
does the I/O itself; the tests and fuzzers build whole synthetic archives in memory with
:func:`build_custom`, :func:`build_directory` and :func:`build_tar`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .blobtoc import blob_file_name, blobs_toc_line, blobs_toc_name
from .constants import (
    K_VERS_1_3,
    K_VERS_1_4,
    K_VERS_1_14,
    K_VERS_1_15,
    K_VERS_1_16,
    SUFFIXES,
    ArchiveFormat,
    BlockType,
    Compression,
    OffsetFlag,
    TocExtra,
)
from .model import Header, TocEntry
from .structs import PROLOGUE, ArchiveStructs, _int_encoder

#: Table data: bytes; a BLOBS entry: a list of (oid, bytes).
DataMap = Mapping[int, "bytes | Sequence[tuple[int, bytes]]"]

#: The largest chunk written for data that is not gzip (whose chunks are pg_dump's 4096):
#: pg_restore reads a whole chunk into memory.
MAX_CHUNK = 1 << 20


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


def header_bytes(h: Header, codec: str = "utf-8") -> bytes:
    """The header (prologue and rest, not the TOC count), built by the specification."""
    s = ArchiveStructs(h.version, h.int_size, h.off_size, TocExtra.OFFSET)
    hv = header_values(h, codec)
    return _build(PROLOGUE, hv["prologue"]) + _build(s.header_rest, hv["rest"])


def toc_bytes(h: Header, entries: Sequence[TocEntry], extra: TocExtra,
              codec: str = "utf-8") -> bytes:
    """The TOC: its count, then every entry, built by the specification's entry builder.
    ``extra``: OFFSET (custom) or FILENAME (directory and tar)."""
    s = ArchiveStructs(h.version, h.int_size, h.off_size, extra)
    build = s.entry_builder()
    return _int_encoder(h.int_size)(len(entries)) + b"".join(
        [build(entry_values(e, codec)) for e in entries])


def build_toc_file(h: Header, entries: Sequence[TocEntry], extra: TocExtra,
                   codec: str = "utf-8") -> bytes:
    """Header plus TOC: a custom archive without its data, or a directory's toc.dat."""
    return header_bytes(h, codec) + toc_bytes(h, entries, extra, codec)


def spec_toc_file(h: Header, entries: Sequence[TocEntry], extra: TocExtra,
                  codec: str = "utf-8") -> bytes:
    """The same bytes as :func:`build_toc_file`, built by construct alone (slow): what the
    tests hold the entry builder to."""
    s = ArchiveStructs(h.version, h.int_size, h.off_size, extra)
    return header_bytes(h, codec) + _build(s.toc, {
        "count": len(entries), "entries": [entry_values(e, codec) for e in entries]})


# --- custom format: data blocks -----------------------------------------------------------


class BlockFramer:
    """The framing of one custom archive's data blocks (pg_backup_custom.c):

        block  := type:byte (1.3 and later) dumpId:Int  body
        DATA   := chunks;   BLOBS := { oid:Int chunks }* Int(0)
        chunks := { len:Int(>0) bytes }* Int(0)
    """

    def __init__(self, version: int, int_size: int) -> None:
        self.version = version
        self.int = _int_encoder(int_size)
        #: the zero Int that ends a chunk list and a BLOBS block
        self.end = self.int(0)

    def block_header(self, block_type: BlockType, dump_id: int) -> bytes:
        """A block's type byte (from 1.3 on) and dump id."""
        head = bytes([int(block_type)]) if self.version >= K_VERS_1_3 else b""
        return head + self.int(dump_id)

    def oid(self, oid: int) -> bytes:
        """A large object's oid, written as pg_dump's WriteInt writes an Oid: as a C int,
        so oids of 2^31 and above are negative."""
        return self.int(oid - (1 << 32) if oid >= 1 << 31 else oid)

    def write_chunks(self, write: Callable[[Any], object], pieces: Iterable[bytes],
                     exact: int | None = None) -> None:
        """Frame a stream's pieces as chunks (no end marker), handing each length and
        payload to ``write``.  With ``exact``, every chunk but the last has exactly that
        size, as pg_dump's zlib output buffer gives them (pieces already that size pass
        straight through); otherwise each non-empty piece is a chunk, cut at
        :data:`MAX_CHUNK`."""
        frame = self.int
        if exact is None:
            for piece in pieces:
                n = len(piece)
                if 0 < n <= MAX_CHUNK:
                    write(frame(n))
                    write(piece)
                elif n:
                    view = memoryview(piece)
                    for i in range(0, n, MAX_CHUNK):
                        part = view[i:i + MAX_CHUNK]
                        write(frame(len(part)))
                        write(part)
            return
        pending = bytearray()
        for piece in pieces:
            if not pending and len(piece) == exact:
                write(frame(exact))
                write(piece)
                continue
            pending += piece
            if len(pending) >= exact:
                cut = len(pending) - len(pending) % exact
                for i in range(0, cut, exact):
                    write(frame(exact))
                    write(bytes(pending[i:i + exact]))
                del pending[:cut]
        if pending:
            write(frame(len(pending)))
            write(bytes(pending))

    def chunks(self, pieces: Iterable[bytes], exact: int | None = None) -> Iterator[bytes]:
        """The framed chunks of :meth:`write_chunks`, as bytes (for small streams)."""
        out: list[bytes] = []
        self.write_chunks(out.append, pieces, exact)
        return iter(out)


# --- directory and tar formats: names -------------------------------------------------------


def data_file_name(dump_id: int) -> str:
    """``<dumpId>.dat``: a data file's name as the TOC records it (the directory format
    adds the compression suffix on disk)."""
    return f"{dump_id}.dat"


def toc_file_name(version: int, kind: str, entry: TocEntry) -> str:
    """The file name a directory ("directory") or tar ("tar") archive's TOC records for an
    entry with data, as pg_dump's _ArchiveEntry sets it: ``<dumpId>.dat``, except for
    BLOBS in directory archives: ``blobs_<dumpId>.toc`` (1.16), ``blobs.toc`` (1.14, 1.15:
    pg_dump 12-16), ``<dumpId>.dat`` (before).  pg_restore reads only the 1.16 one."""
    if kind == "directory" and entry.desc == "BLOBS":
        if version >= K_VERS_1_16:
            return blobs_toc_name(version, entry.dump_id)
        if version >= K_VERS_1_14:
            return "blobs.toc"
    return data_file_name(entry.dump_id)


def suffix(algorithm: Compression) -> str:
    """The suffix of a directory archive's data files for an algorithm."""
    return SUFFIXES[algorithm]


# --- tar format ----------------------------------------------------------------------------

TAR_BLOCK = 512
#: pg_dump ends a tar archive with two blocks of zeros.
TAR_END = bytes(2 * TAR_BLOCK)
#: The members pg_dump writes: mode 0600, uid 04000, gid 02000, owner names "postgres".
TAR_MODE, TAR_UID, TAR_GID = 0o600, 0o4000, 0o2000


def _tar_number(width: int, value: int) -> bytes:
    """print_tar_number: octal digits and a space, or base-256 with a leading 0x80 when
    the value does not fit (members of 8 GiB and more)."""
    if value < 1 << (3 * (width - 1)):
        return f"{value:0{width - 1}o} ".encode()
    return b"\x80" + value.to_bytes(width - 1, "big")


def tar_header(name: str, size: int, mtime: int) -> bytes:
    """A member header exactly as PostgreSQL's tarCreateHeader writes it for pg_dump: a
    regular file, ustar magic, the prefix field unused (names of 99 bytes at most)."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > 99:
        raise ValueError(f"tar member name {name!r} is longer than 99 bytes")
    h = bytearray(TAR_BLOCK)
    h[0:len(raw)] = raw
    h[100:108] = _tar_number(8, TAR_MODE)
    h[108:116] = _tar_number(8, TAR_UID)
    h[116:124] = _tar_number(8, TAR_GID)
    h[124:136] = _tar_number(12, size)
    h[136:148] = _tar_number(12, mtime)
    h[156:157] = b"0"
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[265:273] = b"postgres"
    h[297:305] = b"postgres"
    h[329:337] = _tar_number(8, 0)
    h[337:345] = _tar_number(8, 0)
    checksum = 8 * ord(" ") + sum(h[:148]) + sum(h[156:])
    h[148:156] = _tar_number(8, checksum)
    return bytes(h)


def tar_padding(size: int) -> bytes:
    """The zeros that fill a member of ``size`` bytes up to the next 512-byte block."""
    return bytes(-size % TAR_BLOCK)


# --- whole synthetic archives, in memory (tests, fuzzers) ----------------------------------


def compress_stream(data: bytes, algorithm: Compression) -> bytes:
    """A simple compressed stream for synthetic archives (the real writer uses
    :mod:`pgarchive.compression`'s pg_dump-exact compressors)."""
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
    framer = BlockFramer(h.version, h.int_size)
    blocks: dict[int, bytes] = {}
    for e in entries:
        if not e.had_dumper or e.dump_id not in data:
            continue
        payload = data[e.dump_id]
        body = bytearray()
        if isinstance(payload, bytes | bytearray):
            btype = BlockType.DATA
            body += _chunks(framer, compress_stream(bytes(payload), h.compression), chunk)
        else:
            btype = BlockType.BLOBS
            for oid, lo in payload:
                body += framer.oid(oid)
                body += _chunks(framer, compress_stream(lo, h.compression), chunk)
            body += framer.end
        blocks[e.dump_id] = framer.block_header(btype, e.dump_id) + body
    fixed = [e._replace(offset_flag=OffsetFlag.NOT_SET if e.dump_id in blocks
                     else OffsetFlag.NO_DATA, data_offset=0) for e in entries]
    toc = build_toc_file(h._replace(toc_count=len(fixed)), fixed, TocExtra.OFFSET, codec)
    if with_offsets:  # offsets do not change the TOC's size, so one pass places them
        pos = len(toc)
        placed = []
        for e in fixed:
            if e.dump_id in blocks:
                placed.append(e._replace(offset_flag=OffsetFlag.SET, data_offset=pos))
                pos += len(blocks[e.dump_id])
            else:
                placed.append(e)
        toc = build_toc_file(h._replace(toc_count=len(placed)), placed, TocExtra.OFFSET, codec)
    return toc + b"".join(blocks[e.dump_id] for e in fixed if e.dump_id in blocks)


def _chunks(framer: BlockFramer, stream: bytes, size: int) -> bytes:
    pieces = [stream[i:i + size] for i in range(0, len(stream), size)]
    return b"".join(framer.chunks(pieces)) + framer.end


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
    ext = suffix(h.compression)
    files: dict[str, bytes] = {}
    named = []
    for e in entries:
        if e.had_dumper and e.dump_id in data:
            payload = data[e.dump_id]
            if isinstance(payload, bytes | bytearray):
                name = data_file_name(e.dump_id)
                files[name + ext] = _dir_compress(bytes(payload), h.compression)
            else:
                name = blobs_toc_name(h.version, e.dump_id)
                lines = []
                for oid, lo in payload:
                    files[blob_file_name(oid) + ext] = _dir_compress(lo, h.compression)
                    lines.append(blobs_toc_line(oid, blob_file_name(oid)))
                files[name] = b"".join(lines)
            named.append(e._replace(filename=name, offset_flag=None, data_offset=None))
        else:
            named.append(e._replace(filename="", offset_flag=None, data_offset=None))
    toc_header = h._replace(format_code=ArchiveFormat.TAR, toc_count=len(named))
    files["toc.dat"] = build_toc_file(toc_header, named, TocExtra.FILENAME, codec)
    return files


def build_tar(h: Header, entries: Sequence[TocEntry], data: DataMap,
              codec: str = "utf-8") -> bytes:
    """A tar archive (never compressed), members in pg_dump's order."""
    h = h._replace(compression=Compression.NONE,
                   compression_level=0 if h.version < K_VERS_1_15 else None,
                   format_code=ArchiveFormat.TAR)
    import io
    import tarfile  # (only for tar output: a conversion to custom or directory needs none)

    files = build_directory(h, entries, data, codec)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        # Members in TOC order, as pg_dump closes them: a large-object entry's
        # blob_*.dat and blobs.toc sit between the table data files around it, and
        # pg_restore reads a tar front to back, so any other order is unrestorable.
        order = ["toc.dat", *[n for n in files if n != "toc.dat"]]
        for name in order:
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tf.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()
