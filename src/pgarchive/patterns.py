"""Name patterns for the selection options: pg_restore's exact names, or psql patterns.

An argument with none of ``* ? . "`` is an exact name, compared with the TOC entry as
pg_restore compares it (so ``-t orders`` means what it means to pg_restore).  Otherwise it
is a psql-style pattern as pg_dump takes it: unquoted letters fold to lower case, ``*`` is
any text, ``?`` any one character, ``.`` separates schema and name, and double quotes keep
text exactly (``""`` is a quote).  Patterns match whole names.

Matching takes time linear in the name for each piece of the pattern (at most
O(name x pattern)), whatever the pattern: psql's translation to a regular expression
(``*`` becomes ``.*``) makes a backtracking engine take time exponential in the number of
stars (``*a*a*a*b`` against a long name ran for minutes).  A pattern is cut at its stars
into pieces of fixed length; the first must match at the start, the last at the end, and
each one between at its leftmost place after the one before -- which is exact for globs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import UsageError

_META = set('*?."')
#: a token of a compiled pattern part: one literal character, ANY_ONE ('?') or ANY_TEXT ('*')
ANY_ONE = 1
ANY_TEXT = 2


@dataclass(frozen=True, slots=True)
class _Piece:
    """A piece of a pattern between stars: fixed length, literal or with '?' in it."""

    length: int
    literal: str | None      # the text, when it has no '?'
    regex: re.Pattern[str] | None  # else literal characters and '.' (never a quantifier)

    def at(self, text: str, pos: int) -> bool:
        if self.literal is not None:
            return text.startswith(self.literal, pos)
        assert self.regex is not None
        return self.regex.match(text, pos) is not None

    def find(self, text: str, pos: int, end: int) -> int:
        """The leftmost place >= pos where the piece lies wholly before ``end``, or -1."""
        if self.literal is not None:
            return text.find(self.literal, pos, end)
        assert self.regex is not None
        m = self.regex.search(text, pos, end)
        return m.start() if m else -1


@dataclass(frozen=True, slots=True)
class Glob:
    """One dotted part of a psql pattern (``*``, ``?`` and literal characters), matched
    against a whole name in linear time."""

    pieces: tuple[_Piece, ...]  # cut at the stars: len(pieces) == stars + 1

    @classmethod
    def of(cls, tokens: list[str | int]) -> Glob:
        """The glob of a pattern's tokens: literal runs split at each ``*``."""
        pieces: list[_Piece] = []
        cur: list[str | int] = []
        for t in [*tokens, ANY_TEXT]:
            if t != ANY_TEXT:
                cur.append(t)
                continue
            if ANY_ONE in cur:
                rx = "".join("." if c == ANY_ONE else re.escape(str(c)) for c in cur)
                pieces.append(_Piece(len(cur), None, re.compile(rx, re.S)))
            else:
                pieces.append(_Piece(len(cur), "".join(map(str, cur)), None))
            cur = []
        return cls(tuple(pieces))

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of ``text`` matches, as the pattern's regular expression would."""
        pieces = self.pieces
        first, last = pieces[0], pieces[-1]
        if len(pieces) == 1:
            return len(text) == first.length and first.at(text, 0)
        end = len(text) - last.length
        if end < first.length or not first.at(text, 0) or not last.at(text, end):
            return False
        pos = first.length
        for piece in pieces[1:-1]:
            found = piece.find(text, pos, end)
            if found < 0:
                return False
            pos = found + piece.length
        return True


@dataclass(frozen=True)
class NamePattern:
    """One -n/-t/... name: psql's pattern of an optional schema part and a name part, or an
    exact name when it has no pattern characters."""

    text: str
    schema: Glob | None
    name: Glob | None
    exact: bool

    def matches(self, name: str, schema: str | None = None) -> bool:
        """Whether an object ``name`` in ``schema`` matches this pattern."""
        if self.exact:
            return name == self.text
        if self.schema is not None and (schema is None or not self.schema.fullmatch(schema)):
            return False
        return self.name is None or self.name.fullmatch(name)


def _parts(text: str) -> list[list[str | int]]:
    """Split a psql pattern on unquoted dots into parts of tokens."""
    parts: list[list[str | int]] = []
    cur: list[str | int] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if quoted and text[i + 1:i + 2] == '"':
                cur.append('"')
                i += 2
                continue
            quoted = not quoted
        elif quoted:
            cur.append(ch)
        elif ch == ".":
            parts.append(cur)
            cur = []
        elif ch == "*":
            cur.append(ANY_TEXT)
        elif ch == "?":
            cur.append(ANY_ONE)
        else:
            cur.extend(ch.lower())
        i += 1
    if quoted:
        raise UsageError(f"unterminated quoted name in pattern {text!r}")
    parts.append(cur)
    return parts


@functools.lru_cache(maxsize=1024)
def compile_pattern(text: str, qualified: bool = True) -> NamePattern:
    """Compile a name argument; ``qualified`` allows ``schema.name`` (not for -n)."""
    if not _META.intersection(text):
        return NamePattern(text, None, None, True)
    parts = _parts(text)
    if not qualified:
        if len(parts) != 1:
            raise UsageError(f"improper qualified name (too many dotted names): {text}")
        return NamePattern(text, None, Glob.of(parts[0]), False)
    if len(parts) > 2:
        raise UsageError(f"improper qualified name (too many dotted names): {text}")
    if len(parts) == 2:
        return NamePattern(text, Glob.of(parts[0]), Glob.of(parts[1]), False)
    return NamePattern(text, None, Glob.of(parts[0]), False)


def any_matches(patterns: tuple[str, ...], name: str | None, schema: str | None = None,
                qualified: bool = True) -> bool:
    """Whether any of the name arguments matches (one pattern at a time: for reports)."""
    if name is None:
        return False
    return any(compile_pattern(p, qualified).matches(name, schema) for p in patterns)


class NameMatcher:
    """Several name arguments of one option at once: exact names (pg_restore's) by one set
    lookup, so that a filter file of a million names costs the same per entry as one name;
    patterns one by one."""

    def __init__(self, texts: Iterable[str], qualified: bool = True) -> None:
        self.exact: set[str] = set()
        self.patterns: list[NamePattern] = []
        seen: set[str] = set()
        for t in texts:
            if not _META.intersection(t):
                self.exact.add(t)
            elif t not in seen:
                seen.add(t)
                self.patterns.append(compile_pattern(t, qualified))

    def __bool__(self) -> bool:
        return bool(self.exact or self.patterns)

    def matches(self, name: str | None, schema: str | None = None) -> bool:
        """Whether ``name`` (in ``schema``) matches any of the option's names or patterns."""
        if name is None:
            return False
        if name in self.exact:
            return True
        return any(p.matches(name, schema) for p in self.patterns)


def parse_filter_file(text: str | Iterable[str]) -> dict[str, list[str]]:
    """A pg_restore filter file (PostgreSQL 17 syntax): ``include|exclude TYPE NAME`` lines,
    as one text or as its lines (read a line at a time: names are all that is kept).

    pg_restore accepts include of table, index, function, trigger and schema, and exclude
    of schema; ``#`` starts a comment.  Returns option name -> names.
    """
    allowed = {("include", "table"): "tables", ("include", "index"): "indexes",
               ("include", "function"): "functions", ("include", "trigger"): "triggers",
               ("include", "schema"): "schemas", ("exclude", "schema"): "exclude_schemas"}
    out: dict[str, list[str]] = {v: [] for v in allowed.values()}
    lines = text.splitlines() if isinstance(text, str) else text
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split(None, 2)
        if len(words) < 3:
            raise UsageError(f"invalid format in filter read from file on line {lineno}: "
                             "missing object name pattern")
        action, kind, rest = words[0].lower(), words[1].lower(), words[2]
        if action not in ("include", "exclude"):
            raise UsageError(f"invalid format in filter on line {lineno}: \"include\" or "
                             "\"exclude\" expected")
        key = allowed.get((action, kind))
        if key is None:
            raise UsageError(f"invalid format in filter on line {lineno}: {action} filter for "
                             f"\"{kind}\" is not allowed")
        name = _filter_name(rest, lineno)
        out[key].append(name)
    return out


def _filter_name(rest: str, lineno: int) -> str:
    """The name part of a filter line: a quoted name (kept quoted) or text up to a comment."""
    rest = rest.strip()
    if rest.startswith('"'):
        i = 1
        while i < len(rest):
            if rest[i] == '"':
                if rest[i + 1:i + 2] == '"':
                    i += 2
                    continue
                break
            i += 1
        else:
            raise UsageError(f"invalid format in filter on line {lineno}: unexpected end of "
                             "line in quoted name")
        tail = rest[i + 1:].strip()
        if tail and not tail.startswith("#"):
            raise UsageError(f"invalid format in filter on line {lineno}: unexpected extra "
                             "data after pattern")
        return rest[:i + 1]
    return rest.split("#", 1)[0].strip()
