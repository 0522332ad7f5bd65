"""The fast TOC reader agrees with the construct specification, which can also rebuild
every real archive's header and TOC byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

import pgarchive
from conftest import archive_path, corpus
from pgarchive.format.structs import PROLOGUE, ArchiveStructs
from pgarchive.format.writer import build_toc_file, entry_values, header_values


def _toc_bytes(a: pgarchive.Archive) -> bytes:
    c: Any = a.container
    if a.format_name == "CUSTOM":
        return bytes(c.buf[:c.data_start])
    if a.format_name == "TAR":
        m = c.members["toc.dat"]
        return bytes(c.buf[m.offset:m.offset + m.size])
    with open(c.toc_path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("item", corpus())
def test_construct_parse_equals_fast_reader(item: dict[str, Any]) -> None:
    with pgarchive.open(archive_path(item)) as a:
        raw = _toc_bytes(a)
        h = a.header
        extra = "offset" if a.format_name == "CUSTOM" else "filename"
        s = ArchiveStructs(h.version, h.int_size, h.off_size, extra)
        pro = PROLOGUE.parse(raw)
        assert (pro.vmaj, pro.vmin, pro.int_size) == (h.vmaj, h.vmin, h.int_size)
        rest_at = 5 + 3 + 2 + 1
        rest = s.header_rest.parse(raw[rest_at:])
        assert header_values(h, a.encoding)["rest"] == {k: v for k, v in rest.items()
                                                        if not k.startswith("_")}
        base = a.container.members["toc.dat"].offset if a.format_name == "TAR" else 0
        toc = s.toc.parse(raw[h.toc_offset - base - s.Int.sizeof():])
        assert toc.count == len(a.entries)
        for fast, spec in zip(a.entries, toc.entries, strict=True):
            want = entry_values(fast, a.encoding)
            got = {k: v for k, v in spec.items() if not k.startswith("_")}
            if extra == "offset":
                want.pop("filename")
                got["offset"] = {"flag": got["offset"]["flag"],
                                 "position": got["offset"]["position"]}
            else:
                want.pop("offset")
            for k in got:
                assert got[k] == want[k], (fast.dump_id, k)


@pytest.mark.parametrize("item", corpus())
def test_spec_rebuilds_header_and_toc_exactly(item: dict[str, Any]) -> None:
    with pgarchive.open(archive_path(item)) as a:
        extra = "offset" if a.format_name == "CUSTOM" else "filename"
        assert build_toc_file(a.header, a.entries, extra, a.encoding) == _toc_bytes(a)
