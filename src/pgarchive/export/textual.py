"""COPY text to CSV (or tab-separated CSV) exactly as the server writes
``COPY t TO STDOUT (FORMAT csv, HEADER)``: pure, bytes in, bytes out.

The server's CopyAttributeOutCSV: NULL is an empty field; a value is quoted when it is empty,
holds the delimiter, a quote, a newline or a carriage return, or, in a one-column table, is
``\\.``; quotes inside are doubled.  Values are the de-escaped COPY text, byte for byte, in
the archive's encoding (the values' text forms are the server's own: pg_dump wrote them).

Vectorised: numpy finds the separators, the NULL and empty fields and the fields holding a
backslash, quote, delimiter or carriage return; only those few are rebuilt in Python, and
the rest of the batch is copied with its tabs turned into delimiters in one ``translate``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..copytext import vector_module
from ..values import NULL, unescape


def quote_field(value: bytes, delim: bytes, single_column: bool) -> bytes:
    """One non-NULL value as CopyAttributeOutCSV writes it."""
    if not value or (single_column and value == b"\\.") or delim in value \
            or b'"' in value or b"\n" in value or b"\r" in value:
        return b'"' + value.replace(b'"', b'""') + b'"'
    return value


def header_line(names: Sequence[str], codec: str, delim: bytes) -> bytes:
    """The HEADER line: the column names, quoted by the same rules."""
    single = len(names) == 1
    return delim.join(quote_field(n.encode(codec, "surrogateescape"), delim, single)
                      for n in names) + b"\n"


def copy_to_csv(body: bytes, columns: int, delim: bytes = b",") -> bytes:
    """Whole rows of COPY text (checked: ``columns`` fields each) to CSV rows."""
    if columns == 0 or not body:
        return body
    translate = delim != b"\t"
    # Bytes that make a value need work: a raw tab is always a separator (a tab in a value
    # comes from an escape), so with a tab delimiter the backslash already finds them.
    specials = [c for c in (b"\\", b'"', b"\r", delim if translate else b"") if c and c in body]
    single = columns == 1
    np = vector_module()
    v = np.frombuffer(body, np.uint8)
    seps = np.flatnonzero(v <= 10)
    if len(seps) and bool((v[seps] < 9).any()):  # raw control bytes, which COPY lets through
        seps = seps[v[seps] >= 9]
    starts = np.empty_like(seps)
    starts[0] = 0
    starts[1:] = seps[:-1] + 1
    lens = seps - starts
    empty = np.flatnonzero(lens == 0)
    if translate:
        buf = bytearray(body)
        w = np.frombuffer(buf, np.uint8)
        w[seps[v[seps] == 9]] = delim[0]
        src: bytes | bytearray = buf
    else:
        src = body
    if not specials and not len(empty):
        return bytes(src)
    edit_starts = [starts[empty]]
    edit_ends = [starts[empty]]
    repl: list[bytes] = [b'""'] * len(empty)
    if specials:
        mask = v == specials[0][0]
        for c in specials[1:]:
            mask |= v == c[0]
        fields = np.searchsorted(seps, np.flatnonzero(mask))
        if len(fields) > 1:
            fields = fields[np.concatenate(([True], fields[1:] != fields[:-1]))]
        fs = starts[fields]
        fl = lens[fields]
        is_null = fl == 2
        if bool(is_null.any()):
            at = fs[is_null]
            is_null[is_null] = (v[at] == 92) & (v[at + 1] == 78)
        nulls = fs[is_null]
        edit_starts.append(nulls)
        edit_ends.append(nulls + 2)
        repl += [b""] * len(nulls)
        other = ~is_null
        os_, oe = fs[other], fs[other] + fl[other]
        edit_starts.append(os_)
        edit_ends.append(oe)
        repl += [quote_field(unescape(body[s:e]), delim, single)
                 for s, e in zip(os_.tolist(), oe.tolist(), strict=True)]
    es = np.concatenate(edit_starts)
    ee = np.concatenate(edit_ends)
    order = np.argsort(es, kind="stable")
    out: list[bytes | bytearray] = []
    prev = 0
    for i, s, e in zip(order.tolist(), es[order].tolist(), ee[order].tolist(), strict=True):
        out.append(src[prev:s])
        out.append(repl[i])
        prev = e
    out.append(src[prev:])
    return b"".join(out)


def copy_text_header(names: Sequence[str], codec: str) -> bytes:
    """The HEADER line of COPY's text format (PostgreSQL 15+): names escaped as values."""
    out = []
    for n in names:
        raw = n.encode(codec, "surrogateescape")
        for a, b in ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"),
                     (b"\b", b"\\b"), (b"\f", b"\\f"), (b"\v", b"\\v")):
            raw = raw.replace(a, b)
        out.append(raw)
    return b"\t".join(out) + b"\n"


__all__ = ["NULL", "copy_text_header", "copy_to_csv", "header_line", "quote_field"]
