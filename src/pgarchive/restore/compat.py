"""Known harmless errors of a newer pg_restore against an older server.

Each was seen with the real binaries (tests/restore/ runs pg_restore 18 against PostgreSQL
15).  pg_restore counts them in "errors ignored on restore" and exits 1; pgarchive shows
them once, explained, and counts them out.  With -e, -1 or --transaction-size pg_restore
stops at the first error, so there a known error is fatal: the pre-flight says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownError:
    """An error a pg_restore of major ``since`` or later gets from servers older than
    ``server_below``, recognised by both the error text and the command."""

    since: int
    server_below: int
    error: str
    command: str
    why: str

    def matches(self, text: str) -> bool:
        """Whether pg_restore's error ``text`` is this known error."""
        return self.error in text and self.command in text


KNOWN_ERRORS = (
    KnownError(17, 17, 'unrecognized configuration parameter "transaction_timeout"',
               "SET transaction_timeout = 0",
               "pg_restore 17 and later turn off transaction_timeout when they connect; "
               "servers before PostgreSQL 17 have no such setting, and nothing restored "
               "depends on it"),
)


def expected(pg_major: int, server_major: int) -> list[KnownError]:
    """The known errors this pg_restore will get from this server."""
    return [k for k in KNOWN_ERRORS if pg_major >= k.since and server_major < k.server_below]


def recognise(text: str, known: list[KnownError]) -> KnownError | None:
    """The known error an error record of pg_restore's output is, if any."""
    return next((k for k in known if k.matches(text)), None)
