"""Which name options matched nothing: pg_restore's --strict-names check, for every command.

pg_restore marks a -n/-t/-I/-P/-T name "touched" when some entry of the right kind carries
it, and with --strict-names fails on the first untouched one.  pgarchive asks the same of
every pattern: ``restore`` refuses an empty selection naming them, ``ls`` warns.  Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

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
    return unmatched_names(lambda: ((e.desc, e.tag, e.namespace) for e in entries), opts)


def unmatched_names(names: Callable[[], Iterable[tuple[str, str, str | None]]],
                    opts: RestoreOptions) -> list[str]:
    """:func:`unmatched` over ``names()``: a fresh pass of (desc, tag, namespace) per
    entry each call (:meth:`pgarchive.toctable.TocTable.names` holds no entry)."""
    out: list[str] = []
    for flag, field_name, _, descs in _KINDS:
        for pattern in getattr(opts, field_name):
            if descs is None:
                hit = any(any_matches((pattern,), ns, qualified=False)
                          for _, _, ns in names() if ns)
            else:
                hit = any(any_matches((pattern,), tag, ns) for desc, tag, ns in names()
                          if desc in descs)
            if hit:
                continue
            text = f"{flag} {pattern} matched nothing"
            # only the names that differ in case are kept (not every tag of a big TOC)
            folded = pattern.lower()
            close = sorted({n for desc, tag, ns in names()
                            for n in ((ns,) if descs is None else
                                      ((tag,) if desc in descs else ()))
                            if n and n.lower() == folded and n != pattern})
            if close:
                text += f" (did you mean {', '.join(close)}? names are case-sensitive)"
            out.append(text)
    return out
