"""Which name options matched nothing: pg_restore's --strict-names check, for every command.

pg_restore marks a -n/-t/-I/-P/-T name "touched" when some entry of the right kind carries
it, and with --strict-names fails on the first untouched one.  pgarchive asks the same of
every pattern: ``restore`` refuses an empty selection naming them, ``ls`` warns.  Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from .format.model import TocEntry
from .patterns import any_matches
from .selection import FUNCTION_LIKE, TABLE_LIKE, RestoreOptions

#: option letter, the RestoreOptions field, what pg_restore calls the object, its descs
_KINDS: tuple[tuple[str, str, str, frozenset[str] | None], ...] = (
    ("-n", "schemas", "schema", None),
    ("-t", "tables", "table", TABLE_LIKE),
    ("-I", "indexes", "index", frozenset({"INDEX"})),
    ("-P", "functions", "function", FUNCTION_LIKE),
    ("-T", "triggers", "trigger", frozenset({"TRIGGER"})),
)


def unmatched(entries: Sequence[TocEntry], opts: RestoreOptions) -> list[str]:
    """``-t nosuch matched nothing`` for every name option no entry matches, with a hint
    when only the letter case differs (pg_restore's names are exact)."""
    out: list[str] = []
    for flag, field_name, _, descs in _KINDS:
        for pattern in getattr(opts, field_name):
            if descs is None:
                names = {e.namespace for e in entries if e.namespace}
                hit = any(any_matches((pattern,), n, qualified=False) for n in names)
            else:
                names = {e.tag for e in entries if e.desc in descs}
                hit = any(any_matches((pattern,), e.tag, e.namespace) for e in entries
                          if e.desc in descs)
            if hit:
                continue
            text = f"{flag} {pattern} matched nothing"
            close = sorted(n for n in names if n.lower() == pattern.lower() and n != pattern)
            if close:
                text += f" (did you mean {', '.join(close)}? names are case-sensitive)"
            out.append(text)
    return out
