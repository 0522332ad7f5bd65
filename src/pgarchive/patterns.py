"""Name patterns for the selection options: pg_restore's exact names, or psql patterns.

An argument with none of ``* ? . "`` is an exact name, compared with the TOC entry as
pg_restore compares it (so ``-t orders`` means what it means to pg_restore).  Otherwise it
is a psql-style pattern as pg_dump takes it: unquoted letters fold to lower case, ``*`` is
any text, ``?`` any one character, ``.`` separates schema and name, and double quotes keep
text exactly (``""`` is a quote).  Patterns match whole names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import UsageError

_META = set('*?."')


@dataclass(frozen=True)
class NamePattern:
    text: str
    schema: re.Pattern[str] | None
    name: re.Pattern[str] | None
    exact: bool

    def matches(self, name: str, schema: str | None = None) -> bool:
        if self.exact:
            return name == self.text
        if self.schema is not None and (schema is None or not self.schema.fullmatch(schema)):
            return False
        return self.name is None or bool(self.name.fullmatch(name))


def _parts(text: str) -> list[str]:
    """Split a psql pattern on unquoted dots into regex parts."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if quoted and text[i + 1:i + 2] == '"':
                cur.append(re.escape('"'))
                i += 2
                continue
            quoted = not quoted
        elif quoted:
            cur.append(re.escape(ch))
        elif ch == ".":
            parts.append("".join(cur))
            cur = []
        elif ch == "*":
            cur.append(".*")
        elif ch == "?":
            cur.append(".")
        else:
            cur.append(re.escape(ch.lower()))
        i += 1
    if quoted:
        raise UsageError(f"unterminated quoted name in pattern {text!r}")
    parts.append("".join(cur))
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
        return NamePattern(text, None, re.compile(parts[0], re.S), False)
    if len(parts) > 2:
        raise UsageError(f"improper qualified name (too many dotted names): {text}")
    if len(parts) == 2:
        return NamePattern(text, re.compile(parts[0], re.S), re.compile(parts[1], re.S), False)
    return NamePattern(text, None, re.compile(parts[0], re.S), False)


def any_matches(patterns: tuple[str, ...], name: str | None, schema: str | None = None,
                qualified: bool = True) -> bool:
    if name is None:
        return False
    return any(compile_pattern(p, qualified).matches(name, schema) for p in patterns)


def parse_filter_file(text: str) -> dict[str, list[str]]:
    """A pg_restore filter file (PostgreSQL 17 syntax): ``include|exclude TYPE NAME`` lines.

    pg_restore accepts include of table, index, function, trigger and schema, and exclude
    of schema; ``#`` starts a comment.  Returns option name -> names.
    """
    allowed = {("include", "table"): "tables", ("include", "index"): "indexes",
               ("include", "function"): "functions", ("include", "trigger"): "triggers",
               ("include", "schema"): "schemas", ("exclude", "schema"): "exclude_schemas"}
    out: dict[str, list[str]] = {v: [] for v in allowed.values()}
    for lineno, raw in enumerate(text.splitlines(), 1):
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
