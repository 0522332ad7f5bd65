"""What the renderer produces: for each TOC entry it acts on, a Step of typed Parts.

A Part is a ``(kind, text)`` pair.  The kinds say what a consumer must do with it:

* the SQL script writer prints every text as it is and streams DATA and LARGE_OBJECTS
  from the archive (see :mod:`pgarchive.script.writer`);
* a native restore engine runs SQL, SESSION and TRANSACTION parts on its connection (it
  tracks SESSION parts as session state: owner, search_path, tablespace, access method,
  role), drops COMMENT parts (pg_restore sends no comments to a server), reconnects on
  CONNECT, feeds DATA to ``COPY ... FROM STDIN`` (or runs it, when the entry has no COPY
  statement: INSERT-style data), and writes LARGE_OBJECTS with the large-object API;
* a pre-flight reads the SQL parts to know which statements an entry will run.

Parts are plain tuples: a 100,000-entry schema makes half a million of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ..format.model import TocEntry

COMMENT: Final = 0        # "--" lines pg_restore writes into scripts only
SQL: Final = 1            # statements of the entry (definition, ALTER ... OWNER, DROP ...)
SESSION: Final = 2        # SET statements that change session state (see module doc)
TRANSACTION: Final = 3    # BEGIN; / COMMIT; of -1, --transaction-size and large objects
META: Final = 4           # psql meta-commands: \restrict, \unrestrict
CONNECT: Final = 5        # \connect to another database (text: the psql lines)
COPY: Final = 6           # COPY ... FROM stdin; whose rows are the entry's DATA
DATA: Final = 7           # the entry's data, streamed from the archive (text unused)
LARGE_OBJECTS: Final = 8  # the large objects of a BLOBS entry, from the archive

KIND_NAMES: Final = ("comment", "sql", "session", "transaction", "meta", "connect", "copy",
                     "data", "large_objects")

Part = tuple[int, str]

#: Step phases.
PREAMBLE: Final = "preamble"
DROP: Final = "drop"
SCHEMA: Final = "schema"
DATA_PHASE: Final = "data"
STATS: Final = "statistics"
EPILOGUE: Final = "epilogue"


@dataclass(slots=True)
class Step:
    """What the restore does for one entry in one phase (or, without an entry, at the
    start and end of the script)."""

    entry: TocEntry | None
    phase: str
    parts: list[Part] = field(default_factory=list)

    def text(self) -> str:
        """The step's text parts joined (DATA and LARGE_OBJECTS are left out)."""
        return "".join(t for k, t in self.parts if k < DATA)
