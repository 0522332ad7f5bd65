"""export against real servers: each export test archive is restored by the real pg_restore
into PostgreSQL 18 (pg_dump 15's into 15 too), and for every table the CSV/TSV/COPY output
must be byte-identical to the server's own COPY, and the jsonl and Parquet values equal to
what the server returns, mapped as issue 17 says."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from exportdata import (
    EXPORT_INDEX,
    archive_of,
    column_types,
    connect,
    export_params,
    jsonl_expected,
    parquet_expected,
    restored,
    run_cli,
    server_copy,
    tables,
)

import pgarchive
from pgarchive.export import Exporter

ENCODINGS = {"exp": "UTF8", "explatin": "LATIN1"}


def _server_for(item: dict[str, Any], request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("pg15_server" if item["major"] == 15 else "pg18_server")


def _export(path: str, table: tuple[str, str], fmt: str) -> bytes:
    """One table through the library (the CLI is tested on simple names below)."""
    import io

    with pgarchive.open(path) as a:
        (e,) = [e for e in a.entries if e.desc == "TABLE DATA" and
                (e.namespace or "public", e.tag) == table]
        buf = io.BytesIO()
        Exporter(a, fmt).write(e, buf)
        return buf.getvalue()


@pytest.mark.parametrize("item", export_params())
def test_csv_tsv_copy_byte_identical(item: dict[str, Any], request: pytest.FixtureRequest
                                     ) -> None:
    server = _server_for(item, request)
    path = archive_of(item)
    with connect(restored(server, item), item, ENCODINGS[item["db"]]) as conn, \
            pgarchive.open(path) as a:
        for fmt, options in (("csv", "(FORMAT csv, HEADER)"),
                             ("tsv", "(FORMAT csv, DELIMITER E'\\t', HEADER)"),
                             ("copy", "")):
            ex = Exporter(a, fmt)
            for e in [e for e in a.entries if e.desc == "TABLE DATA" and e.has_data]:
                table = (e.namespace or "public", e.tag)
                buf = io.BytesIO()
                ex.write(e, buf)
                got = buf.getvalue()
                if fmt == "copy" and "writer" in item["made_by"]:
                    # the writer's escapes are not the server's: the COPY text is the archive's
                    expected = b"".join(a.data(e)).split(b"\\.\n")[0]
                else:
                    expected = server_copy(conn, table, options)
                assert got == expected, (fmt, table)


@pytest.mark.parametrize("item", export_params())
def test_jsonl_values(item: dict[str, Any], request: pytest.FixtureRequest) -> None:
    server = _server_for(item, request)
    path = archive_of(item)
    with connect(restored(server, item), item) as conn:
        for table in tables(path):
            got = [json.loads(line) for line in _export(path, table, "jsonl").splitlines()]
            assert got == jsonl_expected(conn, table), table


def _storage(table: Any) -> list[dict[str, Any]]:
    """A pyarrow Table's values as plain storage: days, microseconds, (m, d, ns)."""
    import pyarrow as pa

    cols = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        t = col.type
        if pa.types.is_date32(t):
            col = col.cast(pa.int32())
        elif pa.types.is_timestamp(t) or pa.types.is_time64(t):
            col = col.cast(pa.int64())
        values = col.to_pylist()
        if pa.types.is_interval(t):
            values = [None if v is None else (v.months, v.days, v.nanoseconds) for v in values]
        elif pa.types.is_struct(t):  # an interval in Parquet (it has no month_day_nano)
            values = [None if v is None else (v["months"], v["days"], v["nanoseconds"])
                      for v in values]
        cols[name] = values
    return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)] \
        if cols else []


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        import numpy as np

        if a == b or (math.isnan(a) and math.isnan(b)):
            return True
        with np.errstate(over="ignore"):
            return bool(np.float32(a) == np.float32(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("item", export_params())
def test_parquet_values(item: dict[str, Any], request: pytest.FixtureRequest) -> None:
    import pyarrow.parquet as pq

    server = _server_for(item, request)
    path = archive_of(item)
    with connect(restored(server, item), item) as conn:
        for table in tables(path):
            if table[1] in ("matrix", "no_arrow"):
                # multi-dimensional arrays, numeric(p,s) NaN, timestamps after 294247 AD
                with pytest.raises(pgarchive.ArchiveError, match=r"row [12], column '[mt]s?'"):
                    _export(path, table, "parquet")
                continue
            got = _storage(pq.read_table(io.BytesIO(_export(path, table, "parquet"))))
            expected = parquet_expected(conn, table)
            assert len(got) == len(expected), table
            for g, x in zip(got, expected, strict=True):
                for k in x:
                    assert _same(g[k], x[k]), (table, k, g[k], x[k])


def test_parquet_types_follow_the_issue() -> None:
    """The Arrow schema of the mixed tables, from the CREATE statements (domains resolved)."""
    import pyarrow as pa

    with pgarchive.open(archive_of(EXPORT_INDEX[0])) as a:
        ex = Exporter(a, "parquet")
        schemas = {e.tag: ex.arrow_decoder(ex.layout(e), parquet=True).schema
                   for e in a.entries
                   if e.desc == "TABLE DATA"}
    n = schemas["numbers"]
    assert [n.field(c).type for c in ("i2", "i4", "i8", "f4", "f8", "n", "n2", "p", "q")] == [
        pa.int16(), pa.int32(), pa.int64(), pa.float32(), pa.float64(), pa.string(),
        pa.decimal128(10, 2), pa.decimal128(10, 2), pa.int32()]
    t = schemas["times"]
    assert [t.field(c).type for c in ("d", "ts", "tz", "t", "ttz", "s")] == [
        pa.date32(), pa.timestamp("us"), pa.timestamp("us", "UTC"), pa.time64("us"),
        pa.string(), pa.timestamp("us", "UTC")]
    assert t.field("iv").type == pa.struct([("months", pa.int32()), ("days", pa.int32()),
                                            ("nanoseconds", pa.int64())])  # Parquet's
    with pgarchive.open(archive_of(EXPORT_INDEX[0])) as a:
        ex = Exporter(a, "jsonl")
        (e,) = [e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "times"]
        assert ex.arrow_decoder(ex.layout(e)).schema.field("iv").type == \
            pa.month_day_nano_interval()  # in record batches (query)
    m = schemas["misc"]
    assert [m.field(c).type for c in ("b", "u", "j", "jb", "ok", "m", "pr", "q", "ip")] == [
        pa.binary(), pa.string(), pa.string(), pa.string(), pa.bool_(), pa.string(),
        pa.string(), pa.int32(), pa.string()]
    r = schemas["arrays"]
    assert r.field("ia").type == pa.list_(pa.int32())
    assert r.field("na").type == pa.list_(pa.decimal128(10, 2))
    assert r.field("la").type == pa.list_(pa.string())
    assert schemas["child"].names == ["id", "label", "extra"]
    assert schemas["child"].field("extra").type == pa.decimal128(6, 3)


def test_column_types_agree_with_the_server(pg18_server: Any) -> None:
    """Our types from the CREATE statements against the server's catalog, every column."""
    item = EXPORT_INDEX[0]
    kinds = {"int2": "int2", "int4": "int4", "int8": "int8", "float4": "float4",
             "float8": "float8", "numeric": "numeric", "bool": "bool", "text": "text",
             "varchar": "text", "bpchar": "text", "name": "text", "bytea": "bytea",
             "date": "date", "timestamp": "timestamp", "timestamptz": "timestamptz",
             "time": "time", "timetz": "timetz", "interval": "interval", "uuid": "uuid",
             "json": "json", "jsonb": "jsonb"}
    with connect(restored(pg18_server, item), item) as conn, \
            pgarchive.open(archive_of(item)) as a:
        ex = Exporter(a, "csv")
        for e in [e for e in a.entries if e.desc == "TABLE DATA"]:
            layout = ex.layout(e)
            server = column_types(conn, (e.namespace or "public", e.tag))
            assert layout.names == [c["name"] for c in server]
            for col, s in zip(layout.columns, server, strict=True):
                t = col.type.element if s["elem"] else col.type
                assert t is not None
                typtype = s["typtype"]
                if s["elem"]:
                    row = conn.execute("SELECT typtype FROM pg_type WHERE typname = %s",
                                       (s["elem"],)).fetchone()
                    assert row is not None
                    typtype = row[0]
                want = kinds.get(s["elem"] or s["type"],
                                 "enum" if typtype == "e" else
                                 "composite" if typtype == "c" else "other")
                assert t.kind == want, (e.tag, col.name)


def test_large_objects_and_file_names(pg18_server: Any, tmp_path: Path) -> None:
    item = EXPORT_INDEX[0]
    path = archive_of(item)
    run_cli("export", path, "-F", "csv", "-o", str(tmp_path / "all"),
            "--large-objects", str(tmp_path / "lo"))
    names = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert "Odd Schema.we%2Fird \"name\".csv" in names and "public.texts.csv" in names
    assert len(names) == len(tables(path))
    with connect(restored(pg18_server, item), item) as conn:
        for oid in (80001, 80002):
            data = conn.execute("SELECT lo_get(%s)", (oid,)).fetchone()
            assert data is not None
            assert (tmp_path / "lo" / str(oid)).read_bytes() == data[0]


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    """A value that cannot be represented: one line naming file, entry, row and column, no
    file left behind; the same table as CSV works."""
    path = archive_of(EXPORT_INDEX[0])
    out = tmp_path / "n.parquet"
    res = run_cli("export", path, "-t", "no_arrow", "-F", "parquet", "-o", str(out),
                  check=False)
    msg = res.stderr.decode()
    assert res.returncode == 2 and not out.exists()
    assert msg.startswith(f"pgarchive: error: {path}: entry ") and msg.count("\n") == 1
    assert "TABLE DATA public no_arrow: row 2, column 'ts': a timestamp after 294247 AD " \
        "does not fit timestamp[us]" in msg
    res = run_cli("export", path, "-t", "no_arrow", "-F", "csv")
    assert res.stdout == (b"id,n,ts\n1,1.50,2000-01-01 00:00:00\n"
                          b"2,1.00,294276-12-31 23:59:59.999999\n3,NaN,2000-01-01 00:00:00\n")
