"""Export without a server: the vectorised CSV conversion against a per-value reference
(hypothesis), row batching at every cut, damaged data, and the missing-extra errors."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from exportdata import EXPORT_INDEX, archive_of
from hypothesis import given, settings
from hypothesis import strategies as st

import pgarchive
from pgarchive.copyrows import row_batches
from pgarchive.errors import ArchiveError, UsageError
from pgarchive.export import Exporter
from pgarchive.export.textual import copy_to_csv, quote_field
from pgarchive.format.writer import build_custom

_ESC = {0x5C: b"\\\\", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x08: b"\\b", 0x0C: b"\\f",
        0x0B: b"\\v"}


def copy_text(value: bytes | None) -> bytes:
    """A value as COPY TO writes it (CopyAttributeOutText)."""
    if value is None:
        return b"\\N"
    return b"".join(_ESC.get(b, bytes([b])) for b in value)


values = st.one_of(st.none(), st.binary(max_size=8),
                   st.sampled_from([b"", b"\\N", b"\\.", b",", b'"', b"\n", b"\r\n", b" ",
                                    b"\t", b"\\", b"NULL"]))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(
    lambda n: st.lists(st.lists(values, min_size=n, max_size=n), min_size=1, max_size=30)),
    st.sampled_from([b",", b"\t"]))
def test_csv_vectorised_equals_per_value(rows: list[list[bytes | None]], delim: bytes) -> None:
    body = b"".join(b"\t".join(copy_text(v) for v in r) + b"\n" for r in rows)
    single = len(rows[0]) == 1
    want = b"".join(delim.join(b"" if v is None else quote_field(v, delim, single) for v in r)
                    + b"\n" for r in rows)
    assert copy_to_csv(body, len(rows[0]), delim) == want


@pytest.mark.parametrize("cut", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("target", [1, 5, 1 << 20])
def test_row_batches_at_every_cut(cut: int, target: int) -> None:
    data = b"1\ta\n2\t\\N\n\n3\tc\n\\.\n\n\n".replace(b"\n\n3", b"\n4\t\n3")
    pieces = [data[i:i + cut] for i in range(0, len(data), cut)]
    batches = list(row_batches(pieces, 2, target=target))
    assert b"".join(b.data for b in batches) == data[:data.index(b"\\.")]
    assert [b.first_row for b in batches] == [
        1 + sum(x.rows for x in batches[:i]) for i in range(len(batches))]


@pytest.mark.parametrize(("data", "message"), [
    (b"1\ta\n2\tb\n", "ends after row 2 without the end-of-data marker"),
    (b"1\ta\n2\tb", "ends inside row 2"),
    (b"1\ta\n\\.\nx\n", "data after the end-of-data marker"),
    (b"1\ta\n2\tb\tc\n\\.\n", "row 2 has 3 columns, expected 2"),
])
def test_damaged_rows(data: bytes, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        list(row_batches([data], 2))


def test_truncated_table_is_an_error_and_leaves_no_file(tmp_path: Path) -> None:
    """A table whose data stops early: one error line naming file and entry, no file."""
    with pgarchive.open(archive_of(EXPORT_INDEX[0])) as a:
        data: dict[int, object] = {}
        for e in a.entries:
            if e.desc == "TABLE DATA" and e.has_data:
                raw = b"".join(a.data(e))
                data[e.dump_id] = raw[:len(raw) // 2] if e.tag == "texts" else raw
        path = tmp_path / "cut.dump"
        path.write_bytes(build_custom(a.header, a.entries, data))  # type: ignore[arg-type]
    out = tmp_path / "texts.csv"
    res = subprocess.run([sys.executable, "-m", "pgarchive", "export", str(path), "-t",
                          "texts", "-o", str(out)], capture_output=True)
    assert res.returncode == 2 and not out.exists()
    err = res.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"pgarchive: error: {path}: entry ")
    assert "TABLE DATA public texts: table data ends inside row 7 (stream truncated?)" in err


def test_missing_extras_say_which(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pgarchive.open(archive_of(EXPORT_INDEX[0])) as a:
        with pytest.raises(UsageError, match=r"this needs pyarrow: pip install "
                                             r"'pgarchive\[parquet\]'"):
            Exporter(a, "parquet")
        from pgarchive.export.query import run_query

        with pytest.raises(UsageError, match=r"this needs duckdb: pip install "
                                             r"'pgarchive\[query\]'"):
            run_query(a, "select 1")
        # without pyarrow, CSV and JSON Lines need nothing more
        buf = io.BytesIO()
        e = next(e for e in a.entries if e.desc == "TABLE DATA" and e.tag == "single")
        Exporter(a, "jsonl").write(e, buf)
        assert buf.getvalue().startswith(b'{"t":""}\n{"t":null}\n')


def test_cli_needs_a_folder_for_several_tables() -> None:
    res = subprocess.run([sys.executable, "-m", "pgarchive", "export",
                          archive_of(EXPORT_INDEX[0])], capture_output=True)
    assert res.returncode == 2
    assert b"tables selected: give -o DIR for one file each" in res.stderr
