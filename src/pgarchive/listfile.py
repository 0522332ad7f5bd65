"""-L list files, read exactly as pg_restore's SortTocFromFile reads them, from a stream of
byte chunks: memory stays bounded by the number of distinct ids whatever the file's size
or its longest line, and time is linear (pure: chunks in, ids out).

For each line (split at ``\\n``): everything from the first ``;`` is a comment; a line of
only `` \\t\\r\\n`` is skipped; otherwise the id is ``strtol(line, &end, 10)`` assigned to
a C ``int``: leading C-locale white space, a sign, ASCII digits only (Arabic-Indic
digits are no number), saturation at LONG_MAX, then the low 32 bits.  Lines without a
number, ids <= 0 or above the largest dump id, and repeats are ignored with a warning.

A NUL byte ends a C string: pg_restore's line reader (fgets, then strlen) loses the rest of
that line and, having no newline yet, appends the next line to what came before the NUL
(``8\\0x`` then ``3`` reads as ``83``).  That is followed for lines of ordinary length;
in a line of more than 1 kB, fgets' buffer sizes decide how much is lost, and here all of
it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

_BLANK = b" \t\r\n"
_NUMBER = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)")
_SPACE_RUN = re.compile(rb"[ \t\n\v\f\r]*")
LONG_MAX = (1 << 63) - 1
#: A line longer than this (no newline yet) is cut to what decides its id.
KEEP = 64 << 10
#: Digits (after the sign) that decide an id: more saturate strtol anyway.
_ID_SPAN = 32


@dataclass
class ListIds:
    """The ids of a list file in order; ``ignored`` counts the lines pg_restore warns about."""

    ids: list[int] = field(default_factory=list)
    ignored: int = 0


def strtol_int(text: bytes) -> int | None:
    """``(int) strtol(text, &end, 10)`` as pg_restore computes a DumpId; None when no
    digits were read (``end == text``).  ``text`` must hold no NUL byte."""
    m = _NUMBER.match(text)
    if m is None:
        return None
    digits = m.group(2).lstrip(b"0")
    if len(digits) > 19:
        value = LONG_MAX + (1 if m.group(1) == b"-" else 0)
    else:
        value = min(int(digits or b"0"), LONG_MAX + (1 if m.group(1) == b"-" else 0))
    if m.group(1) == b"-":
        value = -value
    value &= 0xFFFFFFFF  # long to int: the low 32 bits, as every platform pg runs on does
    return value - (1 << 32) if value >= 1 << 31 else value


def line_id(line: bytes) -> int | bool | None:
    """False for a line pg_restore skips silently (blank or comment only); else its id
    (None when it has no number)."""
    nul = line.find(b"\0")
    c = line if nul < 0 else line[:nul]
    semi = c.find(b";")
    if semi >= 0:
        line = c = c[:semi]
    if not line.strip(_BLANK):
        return False
    return strtol_int(c)


def _squeeze(partial: bytes) -> tuple[bytes, bool]:
    """Cut an unfinished long line to what decides its fate: (kept bytes, whether the rest
    of the line can be skipped)."""
    nul = partial.find(b"\0")
    c = partial if nul < 0 else partial[:nul]
    semi = c.find(b";")
    if semi >= 0:
        return c[:semi + 1], True
    if nul >= 0 and nul < KEEP:
        return partial[:nul + 1], True
    k = _SPACE_RUN.match(partial).end()  # type: ignore[union-attr]
    space = partial[:k]
    # strtol skips \v and \f, but they make the line non-blank
    run = (b"\v" if b"\v" in space or b"\f" in space else b"") + (b" " if space else b"")
    if k == len(partial):
        return run, False
    return run + partial[k:k + _ID_SPAN], True


def parse_list_chunks(chunks: Iterable[bytes], max_id: int,
                      on_ignored: Callable[[bytes], None] | None = None) -> ListIds:
    """The ids of a list file given as byte chunks, in list order (see the module doc);
    ``on_ignored`` receives each ignored line (cut to at most KEEP bytes)."""
    out = ListIds()
    seen: set[int] = set()

    def take(line: bytes) -> None:
        got = line_id(line)
        if got is False:
            return
        if got is None or got is True or got <= 0 or got > max_id or got in seen:
            out.ignored += 1
            if on_ignored is not None:
                on_ignored(line[:KEEP])
            return
        seen.add(got)
        out.ids.append(got)

    joined = b""  # what came before a NUL byte: the next line is appended to it

    def physical(line: bytes) -> None:
        nonlocal joined
        nul = line.find(b"\0")
        if nul < 0:
            take(joined + line)
            joined = b""
            return
        joined += line[:nul]
        if len(joined) > KEEP:
            joined = _squeeze(joined)[0]

    carry = b""
    skipping = False  # the rest of the current (long) line does not matter
    for chunk in chunks:
        start = 0
        if skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            physical(carry)
            carry, skipping, start = b"", False, nl + 1
        lines = chunk[start:].split(b"\n")
        if len(lines) > 1:
            physical(carry + lines[0])
            for line in lines[1:-1]:
                physical(line)
            carry = lines[-1]
        else:
            carry += lines[0]
        if len(carry) > KEEP:
            carry, skipping = _squeeze(carry)
    if carry:
        physical(carry)
    if joined:  # the file ends after a NUL byte: what came before it is a line
        take(joined)
    return out
