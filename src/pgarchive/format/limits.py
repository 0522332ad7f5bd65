"""The limits on TOC fields the format readers enforce, and how every limit is read from the
environment.  Part of :mod:`pgarchive.limits` (README: "Limits"), kept here so that the
readers at the bottom import nothing from above."""

from __future__ import annotations

import os


def env_limit(name: str, default: int) -> int:
    """``PGARCHIVE_MAX_<name>`` if it is a positive decimal number, else ``default``: how a
    user raises a limit for an unusual but real archive."""
    raw = os.environ.get(f"PGARCHIVE_MAX_{name}")
    if raw is None:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        return default
    return value if value > 0 else default


#: A name field of a TOC entry: tag, desc, namespace, owner, tablespace, table access
#: method, oid strings, dependency ids, file name.  pg_dump's longest are function
#: signatures (100 arguments of qualified type names: ~30 kB).
MAX_NAME = env_limit("NAME", 1 << 20)
#: A definition, drop or COPY statement of one TOC entry.  The longest pg_dump writes are
#: function bodies, view definitions and (pg_dump 18) statistics of wide tables: megabytes.
MAX_DEFN = env_limit("DEFN", 64 << 20)
