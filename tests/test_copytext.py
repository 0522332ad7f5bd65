"""The streaming COPY checker against a plain whole-stream reading of the same rules.

The checker keeps no piece and vectorises whole rows, so what it reports must not depend
on where the stream is cut into pieces; the reference below reads the stream as one bytes
object, row by row and byte by byte, with none of the checker's machinery.
"""

from __future__ import annotations

import itertools
import re
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgarchive import copytext
from pgarchive.copytext import MAX_FINDINGS, TRAILER, CopyChecker

OCTAL = b"01234567"
HEX = b"0123456789abcdefABCDEF"


def reference(data: bytes, columns: int | None) -> tuple[int, list[tuple[str, int, int]]]:
    """Rows and findings (kind, row, offset) of a whole stream, read byte by byte as
    PostgreSQL's CopyReadLineText and CopyReadAttributesText do."""
    findings: list[tuple[str, int, int]] = []
    i = start = rows = tabs = 0
    bad = False
    while i < len(data):
        b = data[i]
        if b == 0x5C:  # a backslash: the next byte is escaped, whatever it is
            if i + 1 >= len(data):
                break
            e = data[i + 1]
            j = i + 2
            if e == 0x2E:  # \.
                if i == start:
                    if j >= len(data):
                        break
                    if data[j] == 0x0A:
                        after = data[j + 1:]
                        if not b"\n\n".startswith(after[:3]):
                            findings.append(("after", 0, j + 1))
                        elif after != b"\n\n":
                            findings.append(("ending", 0, i))
                        return rows, findings
                bad = True
            elif e in OCTAL:
                while j < min(i + 4, len(data)) and data[j] in OCTAL:
                    j += 1
                bad = bad or int(data[i + 1:j], 8) & 0xFF == 0
            elif e == 0x78:
                while j < min(i + 4, len(data)) and data[j] in HEX:
                    j += 1
                bad = bad or (j > i + 2 and int(data[i + 2:j], 16) == 0)
            i = j
            continue
        if b == 0x09:
            tabs += 1
        elif b == 0x0A:
            rows += 1
            if bad:
                findings.append(("content", rows, start))
            if columns is not None and tabs + 1 != columns:
                findings.append(("columns", rows, start))
            start, tabs, bad = i + 1, 0, False
        elif b in (0x0D, 0x00):
            bad = True
        i += 1
    findings.append(("truncated", 0, len(data)))
    return rows, findings


def kind(message: str) -> str:
    if re.match(r"row \d+ has \d+ columns", message):
        return "columns"
    if re.match(r"row \d+ ", message):
        return "content"
    for word, k in (("after", "after"), ("two empty", "ending"), ("does not end", "truncated")):
        if word in message:
            return k
    raise AssertionError(message)


def fed(pieces: list[bytes], columns: int | None) -> CopyChecker:
    """A checker fed ``pieces`` as bytes, one call each, and finished."""
    c = CopyChecker(columns)
    for p in pieces:
        c.feed(p)
    c.finish()
    return c


def checked(pieces: list[bytes], columns: int | None) -> tuple[int, list[tuple[str, int, int]]]:
    c = fed(pieces, columns)
    out = []
    for f in c.findings:
        m = re.match(r"row (\d+) ", f.message)
        out.append((kind(f.message), int(m.group(1)) if m else 0, f.offset))
    return c.rows, out


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


field_bytes = st.sampled_from([b"a", b"xyz", b"\\\\", b"\\n", b"\\N", b"\\t", b"1.5",
                               b"\\", b"\\.", b".", b"\\q", b"\t", b"\\\\\\", b"\x01", b"\x08",
                               b"\\0", b"\\1", b"\\000", b"\\400", b"\\101", b"\\x", b"\\x0",
                               b"\\x41", b"\\x4", b"0", b"7", b"f", b"\\\n", b"\\\t", b"\r",
                               b"\\\r", b"\x00", b"\\\\.", b"\x0b", b"\x0c"])
row = st.lists(st.lists(field_bytes, max_size=3).map(b"".join), min_size=1, max_size=4)
stream = st.tuples(
    st.lists(row.map(b"\t".join), max_size=12).map(lambda rs: b"".join(r + b"\n" for r in rs)),
    st.sampled_from([TRAILER, b"", b"\\.\n", b"\\.\n\n", TRAILER + b"x", b"\\.\nrow\n",
                     b"par\\", TRAILER[:-1] + b"\t"]),
).map(b"".join)


@pytest.mark.parametrize("vector_min", [0, copytext._VECTOR_MIN])
@settings(max_examples=400, deadline=None)
@given(stream, st.sampled_from([None, 1, 2, 3]), st.lists(st.integers(0, 200), max_size=8))
def test_checker_agrees_with_whole_stream_reading(vector_min: int, data: bytes,
                                                  columns: int | None, cuts: list[int]) -> None:
    """With the vector path taken for every range, and only for large ones."""
    saved, copytext._VECTOR_MIN = copytext._VECTOR_MIN, vector_min
    try:
        rows, expected = reference(data, columns)
        got_rows, got = checked(cut(data, cuts), columns)
    finally:
        copytext._VECTOR_MIN = saved
    assert got_rows == rows
    assert got == expected[:MAX_FINDINGS]


@settings(max_examples=400, deadline=None)
@given(stream, st.sampled_from([1, 2, 3]), st.lists(st.integers(0, 200), max_size=8))
def test_hints_worked_out_ahead_change_nothing(data: bytes, columns: int,
                                              cuts: list[int]) -> None:
    """verify's read-ahead thread hands each piece on with prescan()'s vector pass over
    its whole rows when it has time: the checker, which uses it only where its own pass
    would cover exactly those rows (not past an end marker, nor after a row that needs
    the exact path), finds the same either way."""
    saved, copytext._VECTOR_MIN = copytext._VECTOR_MIN, 0
    try:
        pieces = cut(data, cuts)
        hinted = CopyChecker(columns)
        for p in pieces:
            hinted.feed(p, copytext.prescan(p, columns))
        hinted.finish()
        plain = fed(pieces, columns)
    finally:
        copytext._VECTOR_MIN = saved
    assert (hinted.rows, hinted.findings) == (plain.rows, plain.findings)


@pytest.mark.parametrize("vector_min", [0, copytext._VECTOR_MIN])
@settings(max_examples=300, deadline=None)
@given(stream, st.sampled_from([None, 1, 2, 3]), st.lists(st.integers(0, 200), max_size=8),
       st.booleans())
def test_pieces_read_in_place_in_a_memory_map(vector_min: int, data: bytes,
                                             columns: int | None, cuts: list[int],
                                             hinted: bool) -> None:
    """verify's child process leaves each piece in a slot of a shared memory map, where
    the checks read it in place (with the child's vector pass, its offsets counted from
    the slot, or without): the same answer as the pieces as bytes."""
    import mmap

    saved, copytext._VECTOR_MIN = copytext._VECTOR_MIN, vector_min
    ring = mmap.mmap(-1, 4096)
    try:
        pieces = cut(data, cuts)
        mapped = CopyChecker(columns)
        for i, p in enumerate(pieces):
            at = 7 + 13 * i  # somewhere in the map, bytes before and after it
            ring[:] = bytes(4096)
            ring[at:at + len(p)] = p
            hint = copytext.prescan(ring, columns, at, at + len(p)) if hinted else None
            mapped.feed(ring, hint, at, at + len(p))
        mapped.finish()
        plain = fed(pieces, columns)
    finally:
        copytext._VECTOR_MIN = saved
        ring.close()
    assert (mapped.rows, mapped.findings) == (plain.rows, plain.findings)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, 2]), st.lists(st.integers(0, 300)))
def test_arbitrary_bytes_cut_anywhere_give_the_same_answer(data: bytes, columns: int | None,
                                                           cuts: list[int]) -> None:
    rows, expected = reference(data, columns)
    assert checked(cut(data, cuts), columns) == checked([data], columns)
    assert checked(cut(data, cuts), columns) == (rows, expected[:MAX_FINDINGS])


def test_large_pieces_take_the_vector_path() -> None:
    good = b"1\tabc\\\\d\t\\N\n" * 5000
    bad_at = len(good)
    data = good + b"2\tonly two\n" + good + b"3\t\\x0\tz\n" + TRAILER
    rows, expected = reference(data, 3)
    assert checked(cut(data, [70_000, 70_001]), 3) == (rows, expected)
    assert expected[0] == ("columns", 5001, bad_at)
    assert expected[1][:2] == ("content", 10002)
    assert rows == 10002


def test_raw_bytes_copy_rejects_are_found_in_large_pieces() -> None:
    """The vector path finds a raw carriage return or zero byte in the middle of a large
    piece among the separators (one pass), and lets the other raw control bytes pass."""
    good = b"1\tab\x01\x0b\x0cc\t\\N\n" * 5000
    data = good + b"2\tcarriage\rreturn\tz\n" + good + b"3\tzero\x00byte\tz\n" + TRAILER
    rows, expected = reference(data, 3)
    assert checked([data], 3) == checked(cut(data, [1, 90_000]), 3) == (rows, expected)
    assert [(k, r) for k, r, _o in expected] == [("content", 5001), ("content", 10002)]


def test_intact_stream() -> None:
    data = b"1\ta\n2\t\\N\n" + TRAILER
    assert checked(cut(data, [1, 5, 13]), 2) == (2, [])


def test_a_row_without_newline_costs_constant_memory() -> None:
    c = CopyChecker(2)
    piece = b"x" * (1 << 20)
    tracemalloc.start()
    for _ in range(64):
        c.feed(piece)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 256 << 10
    c.feed(b"\tend\n" + TRAILER)
    c.finish()
    assert c.rows == 1 and c.findings == []
