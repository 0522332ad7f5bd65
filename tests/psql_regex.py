"""psql's patterns as the regular expressions they stood for (the old, backtracking
translation): the plain reference that the hostile-input property and the pattern fuzz
target compare pgarchive's compiled patterns with.  No pytest here: the atheris fuzzer
imports it too."""

from __future__ import annotations

import re


def reference_regex(pattern: str) -> list[str]:
    """The regular expression of each dot-separated part of ``pattern``."""
    parts, cur, quoted, i = [], "", False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == '"':
            if quoted and pattern[i + 1:i + 2] == '"':
                cur += re.escape('"')
                i += 2
                continue
            quoted = not quoted
        elif quoted:
            cur += re.escape(ch)
        elif ch == ".":
            parts.append(cur)
            cur = ""
        elif ch == "*":
            cur += ".*"
        elif ch == "?":
            cur += "."
        else:
            cur += re.escape(ch.lower())
        i += 1
    return [*parts, cur]
