"""Decompressed table data and large objects equal what the server itself sent
(tables.json: SHA-256 of COPY ... TO STDOUT and of lo_get, recorded by make_corpus.py)."""

from __future__ import annotations

import hashlib
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


@pytest.mark.parametrize("item", corpus("", lambda i: "tables.json" not in i["group"]))
def test_every_stream_decompresses(item: dict[str, Any]) -> None:
    """Every archive of the corpus (legacy and samples too): all data reads completely."""
    with pgarchive.open(archive_path(item)) as a:
        for e in a.entries:
            if not e.has_data:
                continue
            if e.desc == "BLOBS":
                for lo in a.large_objects(e):
                    assert sum(len(c) for c in lo.chunks) >= 0
            else:
                data = b"".join(a.data(e))
                # COPY rows end with \.; INSERT-style data (pg_dump --inserts) with ;
                assert data.endswith(COPY_END if e.copy_stmt else b";\n\n\n"), e.label
