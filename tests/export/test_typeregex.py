"""verify --types' row patterns (typeregex.py): every value a pattern takes parses on the
exact path (so a match can skip it), the forms pg_dump writes match (so the fast path is
taken), RE2 reads the patterns as Python's re does, and a checker using them reports
exactly what it reported without them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgarchive import typecheck
from pgarchive.coltypes import Column, PgType, TableLayout
from pgarchive.copyrows import RowCutter
from pgarchive.export.arrowbatch import ArrowDecoder
from pgarchive.typeregex import ANY_TEXT, UTF8_TEXT, BatchMatcher, row_pattern, value_pattern
from pgarchive.values import decoder, unescape

pytest.importorskip("pyarrow")

MOOD = PgType("enum", "mood", labels=("happy", "so so", "très", "a\\b", "tab\tbed", "x|y"))
TYPES = {
    "int2": PgType("int2", "smallint"), "int4": PgType("int4", "integer"),
    "int8": PgType("int8", "bigint"), "float4": PgType("float4", "real"),
    "float8": PgType("float8", "double precision"),
    "numeric(14,4)": PgType("numeric", "numeric", 14, 4),
    "numeric(5,5)": PgType("numeric", "numeric", 5, 5),
    "numeric(3,0)": PgType("numeric", "numeric", 3, 0),
    "numeric": PgType("numeric", "numeric"), "bool": PgType("bool", "boolean"),
    "date": PgType("date", "date"), "timestamp": PgType("timestamp", "timestamp"),
    "timestamptz": PgType("timestamptz", "timestamptz"), "time": PgType("time", "time"),
    "timetz": PgType("timetz", "timetz"), "interval": PgType("interval", "interval"),
    "uuid": PgType("uuid", "uuid"), "bytea": PgType("bytea", "bytea"), "enum": MOOD,
}
#: forms pg_dump writes: each must match its pattern (or the fast path is never taken)
WRITTEN = {
    "int2": ["0", "-29999", "9999", "12345"], "int4": ["7919", "-1999999999", "123456789"],
    "int8": ["1", "-922337203685477580", "8999999999999999999"],
    "float4": ["1.5", "-0", "3.4028233e+37", "1e-45", "NaN", "Infinity", "-Infinity"],
    "float8": ["0.3333333333333333", "1e+20", "1.5e-07", "-2.2250738585072014e-308",
               "12345678901234567", "NaN", "-Infinity"],
    "numeric(14,4)": ["0.1429", "-1234567890.1234", "7", "NaN"],
    "numeric(5,5)": ["0.12345", "-0.5", "0"], "numeric(3,0)": ["999", "-12"],
    "numeric": ["3.14159265358979323846264338327950288", "-Infinity", "NaN", "10"],
    "bool": ["t", "f"],
    "date": ["2000-01-02", "2000-02-29", "2024-12-31", "0001-01-01", "9999-12-31",
             "infinity", "-infinity"],
    "timestamp": ["2024-01-01 00:00:01", "1999-12-31 23:59:59.999999", "infinity"],
    "timestamptz": ["2024-01-01 00:00:01+00", "2024-06-30 12:00:00.5+05:30",
                    "1890-01-01 00:00:00-00:53:28", "-infinity"],
    "time": ["00:00:00", "23:59:59.123456"], "timetz": ["12:34:56+02", "01:02:03.4-09:30"],
    "interval": ["00:00:00", "1 year 2 mons 3 days 04:05:06.789", "-1 days +02:03:00",
                 "3 mons", "1 day", "-00:00:01", "2 years -1 days", "infinity"],
    "uuid": ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
    "bytea": ["\\\\x", "\\\\x00ff10"], "enum": ["happy", "so so", "très", "x|y"],
}
#: values next to the patterns' edges that PostgreSQL refuses: the pattern must refuse
#: them too (the exact path then reports them)
REFUSED = {
    "int2": ["32768", "-32769", "1.0"], "int4": ["2147483648", "-2147483649"],
    "int8": ["9223372036854775808"], "float4": ["3.5e+38", "1e+39"],
    "float8": ["1e+309", "1.8e+308"],
    "numeric(14,4)": ["12345678901", "Infinity", "9999999999.99995"],  # rounds past p
    "numeric(5,5)": ["1.5", "0.999999"], "numeric(3,0)": ["1000", "999.5"],
    "date": ["2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "0000-01-01",
             "2024-00-10", "2024-01-00"],
    "timestamp": ["2024-01-01 24:00:01", "2024-02-30 00:00:00", "2024-01-01 12:60:00"],
    "timestamptz": ["2024-01-01 00:00:00+16", "2024-01-01 00:00:00+05:60"],
    "time": ["24:00:01", "12:00:61"], "timetz": ["12:00:00+16"],
    "interval": ["1 year ", "", "00:60:00"], "bool": ["x"],
    "uuid": ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"], "bytea": ["\\\\x0", "\\\\xzz"],
    "enum": ["sad", "Happy"],
}


def _pattern(name: str) -> str:
    p = value_pattern(TYPES[name], "utf-8")
    assert p is not None
    return p


def _parses(name: str, raw: bytes) -> bool:
    try:
        decoder(TYPES[name], "utf-8")(unescape(raw))
    except ValueError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(st.data())
@pytest.mark.parametrize("name", list(TYPES))
def test_every_value_a_pattern_takes_parses(name: str, data: st.DataObject) -> None:
    raw = data.draw(st.from_regex(_pattern(name).encode(), fullmatch=True))
    assert _parses(name, raw), raw


@pytest.mark.parametrize("name", list(WRITTEN))
def test_what_pg_dump_writes_matches(name: str) -> None:
    for v in WRITTEN[name]:
        raw = v.encode()
        assert re.fullmatch(_pattern(name).encode(), raw), v
        assert _parses(name, raw), v


@pytest.mark.parametrize("name", list(REFUSED))
def test_values_past_the_edges_are_refused(name: str) -> None:
    for v in REFUSED[name]:
        raw = v.encode()
        assert not re.fullmatch(_pattern(name).encode(), raw), v
        assert not _parses(name, raw), v


def test_no_pattern_where_none_is_safe() -> None:
    assert value_pattern(PgType("json", "json"), "utf-8") is None
    assert value_pattern(PgType("array", "int[]", element=TYPES["int4"]), "utf-8") is None
    assert value_pattern(PgType("numeric", "numeric", 3, 5), "utf-8") is None
    assert value_pattern(PgType("enum", "e", labels=("a\tb",)), "utf-8") is None
    # a label the codec cannot write is left out, the others stay
    assert value_pattern(PgType("enum", "e", labels=("é", "ok")), "ascii") == "ok"


# --- text: its encoding and escapes ---------------------------------------------------

#: text as pg_dump writes it: each must match UTF8_TEXT
TEXTS = [b"", b"v1", b"a\\tb\\nc\\\\d", b"\xc3\xa9t\xc3\xa9", b"\\\\N",
         b"\xf0\x9f\x90\x98 \xe2\x82\xac", b"\\\\200", b"C:\\\\x80"]
_BYTES = st.lists(st.sampled_from([b"a", b"0", b"2", b"7", b"8", b"x", b"f", b"N", b"\\", b"\t",
                                   b"\x00", b"\x7f", b"\x80", b"\xbf", b"\xc3", b"\xe0", b"\xed",
                                   b"\xf0", b"\xf4", b"\xa0", b"\x90", b"\x8f", b"\xc0"]),
                  max_size=12).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_BYTES, st.binary(max_size=12),
                 st.text(max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_text_the_pattern_takes_needs_no_other_text_check(raw: bytes) -> None:
    if re.fullmatch(UTF8_TEXT.encode(), raw):
        raw.decode("utf-8")
        assert not typecheck._high_escapes(raw)


def test_text_pg_dump_writes_matches() -> None:
    for raw in TEXTS:
        assert re.fullmatch(UTF8_TEXT.encode(), raw), raw
    for raw in (b"\\200", b"\\x80", b"\\1", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                b"\xc3", b"a\\"):
        assert not re.fullmatch(UTF8_TEXT.encode(), raw), raw


# --- whole rows: RE2 as re, and the checker as before ----------------------------------

ROW_TYPES: list[PgType | None] = [TYPES["int4"], None, TYPES["date"], TYPES["enum"],
                                  PgType("json", "json"), TYPES["timestamptz"],
                                  TYPES["numeric(14,4)"], TYPES["bytea"]]


def _field(name: str | None) -> Any:
    """A field's COPY text: what pg_dump writes, a value past an edge, or one of those
    with a byte changed, dropped or added."""
    if name is None:
        return st.sampled_from([*TEXTS, b"\\200", b"\\\\\\x80", b"\xff", b"\xed\xa0\x80"])
    if name == "json":
        return st.sampled_from([b'{"a": 1}', b"[1, 2]", b"{bad", b"1"])
    sane = st.sampled_from([v.encode() for v in WRITTEN[name] + REFUSED.get(name, [])])
    mutated = st.tuples(sane, st.integers(0, 40), st.sampled_from(
        [b"", b"0", b"9", b"-", b":", b".", b" ", b"j", b"e", b"\\", b"2"]),
        st.booleans()).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + (1 if t[3] else 0):])
    return st.one_of(st.just(b"\\N"), sane, sane, mutated)


NAMES = ["int4", None, "date", "enum", "json", "timestamptz", "numeric(14,4)", "bytea"]
rows = st.lists(st.tuples(*[_field(n) for n in NAMES]), min_size=1, max_size=40)


def _body(rs: list[tuple[bytes, ...]]) -> bytes:
    return b"".join(b"\t".join(r) + b"\n" for r in rs)


@settings(max_examples=200, deadline=None)
@given(rows)
@pytest.mark.parametrize("text", [ANY_TEXT, UTF8_TEXT], ids=["any", "utf8"])
def test_re2_reads_the_row_pattern_as_re_does(text: str, rs: list[tuple[bytes, ...]]) -> None:
    row, covered = row_pattern(ROW_TYPES, "utf-8", text)
    assert covered == {0, 2, 3, 5, 6, 7}
    body = _body(rs)
    want = re.fullmatch(b"(?:" + row.encode() + b")*", body) is not None
    assert BatchMatcher(row).matches(body) == want


def _problems(types: list[PgType], body: bytes, pattern: bool = True) -> list[str]:
    """The problems the checker reports; ``pattern`` False: as before the row patterns
    (the Arrow path, then the exact one where it fails)."""
    layout = TableLayout("public", "t", tuple(Column(f"c{i}", t) for i, t in enumerate(types)))
    tc = typecheck.TypeChecker(layout)
    if not pattern:
        tc._rows_re = None
    tc.feed(body + b"\\.\n\n\n")
    return [str(p) for p in tc.finish()]


@settings(max_examples=150, deadline=None)
@given(rows)
def test_checker_reports_what_it_reported_without_patterns(rs: list[tuple[bytes, ...]]
                                                           ) -> None:
    """Same problems, same rows and messages, with and without the row pattern (the
    Arrow path alone takes a year 0 date, the exact path does not: the pattern must not
    change what is reported, that included)."""
    types = [TYPES[n] if n in TYPES else PgType("json", "json") if n else PgType("text", "t")
             for n in NAMES]
    body = _body(rs)
    assert _problems(types, body) == _problems(types, body, pattern=False)


def test_valid_rows_take_only_the_row_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    """pg_dump's forms of every covered type: neither Arrow nor the exact path runs."""
    def never(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("a slower path ran")

    monkeypatch.setattr(ArrowDecoder, "_fast", never)
    monkeypatch.setattr(typecheck.TypeChecker, "_exact_check", never)
    names = list(WRITTEN)
    width = max(len(v) for v in WRITTEN.values())
    body = b"".join(b"\t".join(WRITTEN[n][i % len(WRITTEN[n])].encode() for n in names)
                    + b"\n" for i in range(width)) * 2000  # several batches
    body += b"\t".join(b"\\N" for _ in names) + b"\n"
    assert len(body) > 2 * typecheck.BATCH
    assert _problems([TYPES[n] for n in names], body) == []


def test_bad_value_in_a_covered_column_is_found_with_its_row() -> None:
    types = [TYPES["int8"], PgType("text", "text"), TYPES["date"]]
    body = b"1\ta\t2000-01-01\n" * 5000 + b"2\tb\t2023-02-29\n" + b"3\tc\t2000-01-01\n"
    assert _problems(types, body) == [
        "row 5001, column 'c2': day 29 out of range for month 2 (date): '2023-02-29'"]


def test_columns_the_pattern_leaves_out_are_checked_on_the_arrow_path() -> None:
    types = [TYPES["int4"], PgType("json", "json"), TYPES["date"]]
    body = b"1\t[1]\t2000-01-01\n" * 3000 + b"2\t{bad\t2000-01-01\n"
    assert _problems(types, body) == ["row 3001, column 'c1': not valid JSON (json): '{bad'"]


def test_a_pattern_that_fails_on_most_batches_is_dropped() -> None:
    """2100000000 is an int4 the pattern leaves to the slow paths: after 8 batches they
    take over alone, and report what they reported before."""
    types = [TYPES["int4"], TYPES["date"]]
    body = b"2100000000\t2000-01-01\n" * 600_000 + b"1\t2023-02-29\n"
    layout = TableLayout("public", "t", tuple(Column(f"c{i}", t) for i, t in enumerate(types)))
    tc = typecheck.TypeChecker(layout)
    data = body + b"\\.\n\n\n"
    for i in range(0, len(data), 1 << 18):
        tc.feed(data[i:i + (1 << 18)])
    assert [str(p) for p in tc.finish()] == [
        "row 600001, column 'c1': day 29 out of range for month 2 (date): '2023-02-29'"]
    assert tc._rows_re is None and tc._tried == 8


def test_no_row_pattern_for_very_wide_rows() -> None:
    def checker(n: int) -> typecheck.TypeChecker:
        return typecheck.TypeChecker(TableLayout("public", "w", tuple(
            Column(f"c{i}", TYPES["timestamptz"]) for i in range(n))))

    assert checker(50)._rows_re is not None
    wide = checker(400)
    assert wide._rows_re is None
    row = b"\t".join([b"2024-01-01 00:00:00+00"] * 399 + [b"2024-02-30 00:00:00+00"]) + b"\n"
    wide.feed(row * 3 + b"\\.\n\n\n")
    assert [p.row for p in wide.finish()] == [1, 2, 3]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=30).map(lambda b: b.translate(None, b"\n\\")), max_size=20),
       st.integers(1, 50))
def test_row_cutter_without_shape_checks_counts_rows(lines: list[bytes], cut: int) -> None:
    rows = b"".join(x + b"\n" for x in lines) * 300  # past the vectorised count's threshold
    data = rows + b"\\.\n\n\n"
    cutter = RowCutter(1, target=4096, check_shape=False)
    batches = [b for i in range(0, len(data), cut * 97) for b in cutter.feed(
        data[i:i + cut * 97])] + cutter.finish()
    assert b"".join(b.data for b in batches) == rows
    assert sum(b.rows for b in batches) == rows.count(b"\n")
    assert [b.first_row for b in batches] == [
        1 + sum(x.rows for x in batches[:i]) for i in range(len(batches))]
