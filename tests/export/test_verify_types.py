"""verify --types: a byte changed inside a value of each checked type is reported with the
exact entry, row and column, on the vectorised path and on the exact one; real pg_dump
archives (every archive of the corpus) have no type problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from exportdata import EXPORT_INDEX, archive_of

import pgarchive
from helpers import corpus
from pgarchive import typecheck
from pgarchive.format.writer import build_custom
from pgarchive.values import NULL
from pgarchive.verify import verify

SOURCE = archive_of(EXPORT_INDEX[0])  # pg18/custom.dump of the export corpus

# (table, row, column, what the flip tests): one value per checked type.
CASES = [
    ("numbers", 2, "i2", "int2 range"), ("numbers", 6, "i4", "int4"),
    ("numbers", 6, "i8", "int8"), ("numbers", 6, "f4", "float4"),
    ("numbers", 6, "f8", "float8"), ("numbers", 6, "n", "numeric"),
    ("numbers", 6, "n2", "numeric(10,2)"), ("numbers", 6, "p", "domain over numeric"),
    ("numbers", 6, "q", "domain over int"), ("times", 3, "d", "date"),
    ("times", 3, "ts", "timestamp"), ("times", 3, "tz", "timestamptz"),
    ("times", 3, "t", "time"), ("times", 3, "ttz", "timetz"), ("times", 3, "iv", "interval"),
    ("times", 3, "s", "domain over timestamptz"), ("misc", 2, "b", "bytea"),
    ("misc", 2, "u", "uuid"), ("misc", 2, "j", "json"), ("misc", 2, "jb", "jsonb"),
    ("misc", 2, "ok", "bool"), ("misc", 2, "m", "enum"), ("arrays", 1, "ia", "int[]"),
    ("arrays", 1, "na", "numeric[]"), ("arrays", 1, "ba", "bool[]"),
    ("arrays", 1, "da", "date[]"), ("arrays", 1, "ea", "enum[]"),
]


def flip(value: bytes, what: str) -> bytes:
    """The value with one byte changed so that it no longer parses as its type."""
    if what == "int2 range":  # 32767 -> 92767: digits still, out of range
        return b"9" + value[1:]
    if what in ("json", "jsonb"):  # a letter inside a JSON string would still be JSON
        return b"j" + value[1:]
    for i, byte in enumerate(value):
        if chr(byte).isalnum() and (i == 0 or value[i - 1] != 0x5C):
            return value[:i] + b"j" + value[i + 1:]
    raise AssertionError(f"nothing to flip in {value!r}")


def corrupted(tmp: Path, table: str, row: int, column: str, what: str) -> tuple[str, str]:
    """A copy of SOURCE with one value flipped; (its path, the entry's label)."""
    with pgarchive.open(SOURCE) as a:
        data: dict[int, Any] = {}
        label = ""
        for e in a.entries:
            if e.desc == "BLOBS" and e.has_data:
                data[e.dump_id] = list(a.read_large_objects(e))
            elif e.desc == "TABLE DATA" and e.has_data:
                raw = b"".join(a.data(e))
                if e.tag == table:
                    from pgarchive.coltypes import copy_column_names

                    cols = copy_column_names(e.copy_stmt)
                    assert cols is not None
                    lines = raw.split(b"\n")
                    fields = lines[row - 1].split(b"\t")
                    j = cols.index(column)
                    assert fields[j] != NULL
                    fields[j] = flip(fields[j], what)
                    lines[row - 1] = b"\t".join(fields)
                    raw = b"\n".join(lines)
                    label = e.label
                data[e.dump_id] = raw
        path = tmp / f"{table}_{column}.dump"
        path.write_bytes(build_custom(a.header, a.entries, data))
    return str(path), label


@pytest.mark.parametrize("vectorised", [True, False], ids=["pyarrow", "exact"])
@pytest.mark.parametrize(("table", "row", "column", "what"), CASES,
                         ids=[c[3] for c in CASES])
def test_flipped_value_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                table: str, row: int, column: str, what: str,
                                vectorised: bool) -> None:
    if not vectorised:
        monkeypatch.setattr(typecheck.TypeChecker, "_fast_ok", lambda self, b: False)
    path, label = corrupted(tmp_path, table, row, column, what)
    assert verify(path).ok  # the structure is intact: only --types sees it
    report = verify(path, types=True)
    problems = report.all_problems()
    assert len(problems) == 1, [str(p) for p in problems]
    (p,) = problems
    assert p.entry == label
    assert f"row {row}, column {column!r}: " in p.message, p.message


def test_cli_reports_entry_row_and_column(tmp_path: Path) -> None:
    from exportdata import run_cli

    path, label = corrupted(tmp_path, "times", 3, "t", "time")
    res = run_cli("verify", "--types", path, check=False)
    assert res.returncode == 1
    out = res.stdout.decode()
    assert f"entry {label}: row 3, column 't': not a time (time): 'j2:34:56.789'" in out
    assert run_cli("verify", path).returncode == 0


def _all_archives() -> list[Any]:
    return corpus() + [pytest.param({"archive": "export/" + i["archive"]},
                                    id="export/" + i["archive"]) for i in EXPORT_INDEX]


@pytest.mark.slow
@pytest.mark.parametrize("item", _all_archives())
def test_real_archives_have_no_type_problem(item: dict[str, Any]) -> None:
    from helpers import TESTDATA

    report = verify(str(TESTDATA / item["archive"]), types=True)
    type_problems = [str(p) for p in report.all_problems() if "(type check)" in p.message]
    assert type_problems == []
