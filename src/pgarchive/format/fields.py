"""The fields of an archive's header and TOC entries, by archive version: the one list
that the construct specification (:mod:`pgarchive.format.structs`: parsing, and the build
the tests hold the writer to) and the writer's packers (:mod:`pgarchive.format.writer`)
are both made from.

Plain data and a few packing closures, without construct: writing a TOC (every
``convert``) then costs no import of construct, which takes longer than converting a small
archive.  A field is (name, kind); the kinds are pg_dump's WriteInt (INT), WriteStr (STR, a
negative length for NULL), a NULL-ended list of Str (STRS: the dependencies), WriteOffset
(OFFSET: flag byte and offSize bytes) and a single byte (BYTE).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from .constants import (
    K_VERS_1_3,
    K_VERS_1_4,
    K_VERS_1_5,
    K_VERS_1_6,
    K_VERS_1_7,
    K_VERS_1_8,
    K_VERS_1_9,
    K_VERS_1_10,
    K_VERS_1_11,
    K_VERS_1_14,
    K_VERS_1_15,
    K_VERS_1_16,
    MAGIC,
    TocExtra,
    version,
)

INT, STR, STRS, OFFSET, BYTE = "int", "str", "strs", "offset", "byte"
Field = tuple[str, str]

#: The first version whose header has a revision byte.
K_VERS_1_1 = version(1, 1)
#: The header's creation time, struct tm's fields in pg_dump's order.
TM_FIELDS = ("tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_isdst")


def prologue_fields(version: int) -> list[Field]:
    """The header's first fields after the magic, as an archive of ``version`` has them
    (what the construct PROLOGUE reads, deciding by the bytes it has read)."""
    fields = [("vmaj", BYTE), ("vmin", BYTE)]
    if version >= K_VERS_1_1:  # (the PROLOGUE's "vmaj > 1 or vmin > 0")
        fields.append(("vrev", BYTE))
    fields.append(("int_size", BYTE))
    if version >= K_VERS_1_7:
        fields.append(("off_size", BYTE))
    fields.append(("format", BYTE))
    return fields


def header_fields(version: int) -> list[Field]:
    """The header after its prologue: compression, creation time, names."""
    fields: list[Field] = []
    if version >= K_VERS_1_15:
        fields.append(("compression", BYTE))
    elif version >= K_VERS_1_4:
        fields.append(("compression", INT))
    if version >= K_VERS_1_4:
        fields += [(name, INT) for name in TM_FIELDS]
        fields.append(("dbname", STR))
    if version >= K_VERS_1_10:
        fields += [("server_version", STR), ("dump_version", STR)]
    return fields


def entry_fields(version: int, extra: TocExtra) -> list[Field]:
    """One TOC entry; ``extra`` is what closes it: OFFSET (custom) or FILENAME (directory
    and tar)."""
    v = version
    fields: list[Field] = [("dump_id", INT), ("had_dumper", INT)]
    if v >= K_VERS_1_8:
        fields.append(("table_oid", STR))
    fields += [("oid", STR), ("tag", STR), ("desc", STR)]
    if v >= K_VERS_1_11:
        fields.append(("section", INT))
    fields += [("defn", STR), ("drop_stmt", STR)]
    if v >= K_VERS_1_3:
        fields.append(("copy_stmt", STR))
    if v >= K_VERS_1_6:
        fields.append(("namespace", STR))
    if v >= K_VERS_1_10:
        fields.append(("tablespace", STR))
    if v >= K_VERS_1_14:
        fields.append(("tableam", STR))
    if v >= K_VERS_1_16:
        fields.append(("relkind", INT))
    fields.append(("owner", STR))
    if v >= K_VERS_1_9:
        fields.append(("with_oids", STR))
    if v >= K_VERS_1_5:
        fields.append(("dependencies", STRS))
    if TocExtra(extra) is TocExtra.OFFSET:
        fields.append(("offset", OFFSET if v >= K_VERS_1_7 else INT))
    else:
        fields.append(("filename", STR))
    return fields


def int_encoder(int_size: int) -> Callable[[int], bytes]:
    """pg_dump's WriteInt for one intSize: a sign byte, then the magnitude's ``int_size``
    bytes, little-endian."""
    if int_size == 4:
        pack = struct.Struct("<BI").pack

        def encode4(value: int) -> bytes:
            return pack(1, -value) if value < 0 else pack(0, value)

        return encode4

    def encode(value: int) -> bytes:
        return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(int_size, "little")

    return encode


def packer(fields: list[Field], int_size: int, off_size: int
           ) -> Callable[[Mapping[str, Any]], bytes]:
    """The bytes of a record of ``fields`` (values by name, as construct takes them: bytes
    or None for Str, {"flag", "position"} for an offset)."""
    encode_int = int_encoder(int_size)
    null = encode_int(-1)

    def encode_str(value: bytes | None) -> bytes:
        return null if value is None else encode_int(len(value)) + value

    def encode_strs(values: list[bytes | None]) -> bytes:
        return b"".join([encode_str(v) for v in values])

    def encode_offset(value: Mapping[str, int]) -> bytes:
        return bytes([value["flag"]]) + value["position"].to_bytes(off_size, "little")

    def encode_byte(value: int) -> bytes:
        return bytes([value])

    kinds: dict[str, Callable[[Any], bytes]] = {
        INT: encode_int, STR: encode_str, STRS: encode_strs, OFFSET: encode_offset,
        BYTE: encode_byte}
    plan = [(name, kinds[kind]) for name, kind in fields]

    def pack(values: Mapping[str, Any]) -> bytes:
        return b"".join([encode(values[name]) for name, encode in plan])

    return pack


def pack_prologue(version: int, values: Mapping[str, Any]) -> bytes:
    """The magic and the prologue's fields."""
    return MAGIC + packer(prologue_fields(version), 1, 0)(values)
