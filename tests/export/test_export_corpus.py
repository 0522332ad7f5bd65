"""export on every archive of testdata/index.json: CSV byte-identical to the server's own
``COPY ... TO STDOUT (FORMAT csv, HEADER)`` of the database the archive was dumped from
(the corpus loaded as ``ref``, the legacy shop database as ``shopref``, the format samples
restored by the real pg_restore), and the COPY text equal to the server's COPY output
recorded in tables.json."""

from __future__ import annotations

import hashlib
import io
import subprocess
from typing import Any

import pytest
from exportdata import connect, server_copy

import pgarchive
from helpers import archive_path, corpus, facts_for
from pgarchive.encodings import encoding_name
from pgarchive.export import Exporter, exportable

_SAMPLES: dict[str, str] = {}


def _reference(server: Any, item: dict[str, Any]) -> str:
    group = item["group"]
    if group in ("pg10", "pg11", "pg12"):
        return str(server.conninfo("shopref"))
    if group.startswith("pg"):
        return str(server.conninfo("ref"))
    if item["archive"] not in _SAMPLES:
        db = "s_" + item["archive"].replace("/", "_").replace(".", "_")
        with pgarchive.open(archive_path(item)) as a:
            enc = next((encoding_name(e.defn or "") for e in a.entries
                        if e.desc == "ENCODING"), "UTF8")
        server.run(["createdb", "-T", "template0", "-E", enc, "--locale=C", db])
        # --no-owner --no-acl: the samples' roles do not exist here; data is all we compare
        subprocess.run([server.tool("pg_restore"), "--no-owner", "--no-acl", "-d", db,
                        archive_path(item)], env=server.client_env(), capture_output=True,
                       check=False)
        _SAMPLES[item["archive"]] = server.conninfo(db)
    return _SAMPLES[item["archive"]]


def _has_data(item: dict[str, Any]) -> bool:
    with pgarchive.open(archive_path(item)) as a:
        return bool(exportable(a.entries))


@pytest.mark.slow
@pytest.mark.parametrize("item", corpus(where=_has_data))  # schema-only ones have no data
def test_csv_equals_reference_server(pg18_server: Any, item: dict[str, Any]) -> None:
    with pgarchive.open(archive_path(item)) as a:
        entries = exportable(a.entries)
        assert entries
        enc = next((encoding_name(e.defn or "") for e in a.entries if e.desc == "ENCODING"),
                   "UTF8")
        ex = Exporter(a, "csv")
        with connect(_reference(pg18_server, item), encoding=enc) as conn:
            for e in entries:
                buf = io.BytesIO()
                ex.write(e, buf)
                table = (e.namespace or "public", e.tag)
                assert buf.getvalue() == server_copy(conn, table, "(FORMAT csv, HEADER)"), \
                    table


@pytest.mark.parametrize("item", corpus(where=lambda i: facts_for(i) is not None))
def test_copy_text_equals_server_copy(item: dict[str, Any]) -> None:
    facts = facts_for(item)
    assert facts is not None
    with pgarchive.open(archive_path(item)) as a:
        ex = Exporter(a, "copy")
        for e in exportable(a.entries):
            buf = io.BytesIO()
            ex.write(e, buf)
            want = facts["tables"][f"{e.namespace}.{e.tag}"]
            assert hashlib.sha256(buf.getvalue()).hexdigest() == want["sha256"], e.label
