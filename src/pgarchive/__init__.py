"""pgarchive: read, verify and selectively restore PostgreSQL pg_dump archives.

The names below are loaded on first use (PEP 562), so that ``import pgarchive.cli`` for
``pgarchive --version`` or ``--help`` does not pay for the readers and decompressors.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # (typing itself is not imported: ~10 ms of every start-up)
if TYPE_CHECKING:
    from typing import Any

    from .archive import Archive, open
    from .errors import ArchiveError
    from .format.model import Header, TocEntry

__all__ = ["Archive", "ArchiveError", "Header", "TocEntry", "open"]
__version__ = "0.1.0"

#: public name -> the module that defines it
_WHERE = {"Archive": ".archive", "open": ".archive", "ArchiveError": ".errors",
          "Header": ".format.model", "TocEntry": ".format.model"}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'pgarchive' has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value
