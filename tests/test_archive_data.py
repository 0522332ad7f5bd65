"""Decompressed table data and large objects equal what the server itself sent
(tables.json: SHA-256 of COPY ... TO STDOUT and of lo_get, recorded by make_corpus.py)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from typing import Any

import pytest

import pgarchive
from helpers import archive_path, corpus, facts_for

COPY_END = b"\\.\n\n\n"


def _with_facts(item: dict[str, Any]) -> bool:
    return facts_for(item) is not None and "schema_only" not in item["archive"]


@pytest.mark.parametrize("item", corpus("pg1", _with_facts))
def test_table_data_equals_server_copy(item: dict[str, Any]) -> None:
    facts = facts_for(item)
    assert facts is not None
    seen = 0
    with pgarchive.open(archive_path(item)) as a:
        for e in a.entries:
            if e.desc != "TABLE DATA":
                continue
            data = b"".join(a.data(e, chunk_size=4096))
            assert data.endswith(COPY_END), e.label
            body = data[: -len(COPY_END)]
            want = facts["tables"][f"{e.namespace}.{e.tag}"]
            assert hashlib.sha256(body).hexdigest() == want["sha256"], e.label
            assert body.count(b"\n") == want["rows"]
            seen += 1
    tables_with_rows = sum(1 for t in facts["tables"].values())
    assert seen == tables_with_rows


@pytest.mark.parametrize("item", corpus("pg1", _with_facts))
def test_large_objects_equal_server(item: dict[str, Any]) -> None:
    facts = facts_for(item)
    assert facts is not None
    with pgarchive.open(archive_path(item)) as a:
        got = {str(oid): hashlib.sha256(data).hexdigest() for oid, data in
               a.read_large_objects()}
    assert got == {oid: lo["sha256"] for oid, lo in facts["large_objects"].items()}


_LO_OPEN = re.compile(rb"^SELECT pg_catalog\.lo_open\('(\d+)', 131072\);$")
_LO_WRITE = re.compile(rb"^SELECT pg_catalog\.lowrite\(0, E?'\\{1,2}x([0-9a-f]*)'\);$")


def large_objects_per_pg_restore(archive: str) -> dict[int, bytes]:
    """Every large object's bytes as the real pg_restore 18 writes them in its script."""
    import pgenv

    out = subprocess.run([str(pgenv.bindir(18) / "pg_restore"), "-a", "-f", "-", archive],
                         capture_output=True, check=True).stdout
    los: dict[int, bytes] = {}
    current: int | None = None
    for line in out.splitlines():
        if m := _LO_OPEN.match(line):
            current = int(m.group(1))
            los[current] = b""
        elif (m := _LO_WRITE.match(line)) and current is not None:
            los[current] += bytes.fromhex(m.group(1).decode())
        elif line == b"SELECT pg_catalog.lo_close(0);":
            current = None
    return los


@pytest.mark.parametrize("item", corpus("", lambda i: "tables.json" not in i["group"]))
def test_every_stream_decompresses(item: dict[str, Any]) -> None:
    """Every archive of the corpus (legacy and samples too): all table data reads completely,
    and every large object equals the bytes the real pg_restore 18 restores for it."""
    with pgarchive.open(archive_path(item)) as a:
        los: dict[int, bytes] = {}
        for e in a.entries:
            if not e.has_data:
                continue
            if e.desc == "BLOBS":
                for lo in a.large_objects(e):
                    los[lo.oid] = b"".join(lo.chunks)
            else:
                data = b"".join(a.data(e))
                # COPY rows end with \.; INSERT-style data (pg_dump --inserts) with ;
                assert data.endswith(COPY_END if e.copy_stmt else b";\n\n\n"), e.label
    assert los == large_objects_per_pg_restore(archive_path(item))
