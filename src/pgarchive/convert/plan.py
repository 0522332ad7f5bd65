"""Deciding what convert writes: container, compression, version and entries -- and refusing,
with the reason, what cannot be written faithfully.  Pure: an opened archive's header and
entries in, a :class:`~.model.Plan` out."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..compression import CompressionSpec
from ..errors import UsageError
from ..format.constants import K_VERS_1_12, K_VERS_1_15, ArchiveFormat, Compression
from ..format.model import Header, TocEntry
from . import versions
from .model import KINDS, OutEntry, Plan

if TYPE_CHECKING:  # (imported when used: a plain conversion starts faster without them)
    from ..selection import Selection


class ConvertOptions(NamedTuple):
    """What the user asked for; None everywhere means "as the source archive has it"."""

    kind: str | None = None
    compression: CompressionSpec | None = None
    #: a packed archive version (format.constants.version)
    version: int | None = None
    #: None: every entry, untouched; else the entries this selection chooses
    selection: Selection | None = None
    jobs: int = 1
    verify: bool = False
    #: replace an existing DST (a file, or a directory archive)
    force: bool = False
    #: fsync the result before renaming it into place (pg_dump syncs too; --no-sync)
    sync: bool = True
    #: adapt the entries' SQL to this PostgreSQL major (sql --target-version's rules)
    target_version: int | None = None


def make_plan(header: Header, source_kind: str, entries: list[TocEntry],
              opts: ConvertOptions) -> Plan:
    """The plan for converting an archive with this header, container kind and entries."""
    kind = opts.kind or source_kind
    if kind not in KINDS:
        raise UsageError(f"unknown archive format {kind!r}: custom, directory or tar")
    notes: list[str] = []
    source_v = header.version & ~0xFF
    target_v = _target_version(source_v, opts.version)
    spec, target_v = _target_compression(header, kind, opts.compression, target_v,
                                         explicit_version=opts.version is not None,
                                         notes=notes)
    kept = _kept(entries, opts.selection) if opts.selection is not None else list(entries)
    items = [OutEntry(e, (e,) if e.has_data else ()) for e in kept]
    if opts.target_version is not None:
        from . import sqltarget

        items = sqltarget.adapt(items, opts.target_version, notes)
    if target_v < source_v:
        items = versions.downgrade(items, source_v, target_v,
                                   versions.fresh_ids(entries)(), notes)
    if target_v > source_v:
        notes.append(f"archive version raised from {versions.text(source_v)} to "
                     f"{versions.text(target_v)} for {spec.algorithm.name.lower()} "
                     "compression (only the header's compression field changes)")
    same_version = target_v == source_v
    level: int | None = None
    if target_v < K_VERS_1_15:
        level = _header_level(header, spec)
    target = header._replace(
        vmin=(target_v >> 8) & 0xFF, vrev=header.vrev if same_version else 0,
        format_code=ArchiveFormat.CUSTOM if kind == "custom" else ArchiveFormat.TAR,
        compression=spec.algorithm, compression_level=level, toc_count=len(items),
        toc_offset=0)
    source_level = header.compression_level if source_v < K_VERS_1_15 else None
    return Plan(kind, target, spec, items, versions.readers(target_v), notes, source_level)


def _kept(entries: list[TocEntry], selection: Selection) -> list[TocEntry]:
    """The entries a selection keeps; refused when that is nothing but settings."""
    from ..selection import SPECIAL_DESCS
    from ..strictnames import unmatched
    from .subset import subset

    kept = subset(entries, selection)
    if all(e.desc in SPECIAL_DESCS for e in kept):
        missing = unmatched(entries, selection.restore)  # as restore refuses it
        raise UsageError("nothing to convert: " + ("; ".join(missing) if missing
                                                   else "the options select no entry"))
    return kept


def _target_version(source: int, asked: int | None) -> int:
    if asked is None or asked == source:
        return source
    if asked > source:
        if source < K_VERS_1_12 or asked > versions.HIGHEST_RAISE:
            raise UsageError(
                f"cannot raise archive version {versions.text(source)} to "
                f"{versions.text(asked)}: convert raises versions only up to "
                f"{versions.text(versions.HIGHEST_RAISE)} (1.16 describes large objects "
                "differently); every pg_restore reads older versions")
        return asked
    if source < K_VERS_1_12:
        raise UsageError(f"archive version {versions.text(source)} is older than "
                         f"{versions.text(asked)} already")
    return asked


def _target_compression(header: Header, kind: str, asked: CompressionSpec | None,
                        target_v: int, *, explicit_version: bool,
                        notes: list[str]) -> tuple[CompressionSpec, int]:
    """The compression to write, and the version (raised to 1.15 for lz4 and zstd when the
    user asked for them and not for an older version)."""
    if kind == "tar":
        if asked is not None and asked.algorithm != Compression.NONE:
            raise UsageError(
                "tar archives hold uncompressed data: pg_dump refuses -Z with -Ft, and "
                "pg_restore reads tar members as they are; use --format custom or directory "
                f"for {asked.algorithm.name.lower()}")
        if header.compression != Compression.NONE and asked is None:
            notes.append(f"{header.compression_name} data is stored uncompressed: tar "
                         "archives are never compressed")
        return CompressionSpec(Compression.NONE), target_v
    spec = asked or CompressionSpec(header.compression)
    if spec.algorithm in (Compression.LZ4, Compression.ZSTD) and target_v < K_VERS_1_15:
        name = spec.algorithm.name.lower()
        if asked is None:
            notes.append(f"{name} data is recompressed with gzip: archive version "
                         f"{versions.text(target_v)} knows no other compression")
            return CompressionSpec(Compression.GZIP), target_v
        if explicit_version or (header.version & ~0xFF) < K_VERS_1_12:
            raise UsageError(
                f"{name} compression needs archive version 1.15 or later (pg_dump 16); "
                f"archive version {versions.text(target_v)} stores only a zlib level: use "
                "--compress gzip (or none)")
        return spec, K_VERS_1_15
    return spec, target_v


def _header_level(source: Header, spec: CompressionSpec) -> int:
    """The zlib level an archive before 1.15 records: 0 for none, the level asked for,
    else the source's own record (or -1, zlib's default, as pg_dump writes it)."""
    if spec.algorithm == Compression.NONE:
        return 0
    if spec.level is not None:
        return spec.level
    if source.version < K_VERS_1_15 and source.compression == Compression.GZIP \
            and source.compression_level is not None:
        return source.compression_level
    return -1


def effective_level(algorithm: Compression, level: int | None) -> int | None:
    """A level with zlib's -1 read as 6 (what it means), None kept."""
    if level == -1 and algorithm == Compression.GZIP:
        return 6
    return level

