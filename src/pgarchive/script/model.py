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

from collections.abc import Iterable, Iterator
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


class Step:
    """What the restore does for one entry in one phase (or, without an entry, at the
    start and end of the script).

    A plain class, not a dataclass: compiled, a dataclass is built through its generated
    ``__init__`` (Python code, a tenth of a 100,000-entry script's rendering)."""

    def __init__(self, entry: TocEntry | None, phase: str,
                 parts: list[Part] | None = None) -> None:
        self.entry = entry
        self.phase = phase
        self.parts: list[Part] = [] if parts is None else parts

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Step) and self.entry == other.entry and
                self.phase == other.phase and self.parts == other.parts)

    def __repr__(self) -> str:
        return f"Step(entry={self.entry!r}, phase={self.phase!r}, parts={self.parts!r})"

    def text(self) -> str:
        """The step's text parts joined (DATA and LARGE_OBJECTS are left out)."""
        return "".join(t for k, t in self.parts if k < DATA)


def runs(steps: Iterable[Step], size: int) -> Iterator[tuple[str, int, Step | None]]:
    """The script's text, as the writer writes it: the text parts of ``steps`` joined in
    runs of about ``size`` characters, each with what comes after it -- DATA or
    LARGE_OBJECTS and the step whose entry they stream (-1 and None: nothing, more text
    or the end).  Compiled, so that the writer's loop runs once a run, not once a part."""
    pending: list[str] = []
    n = 0
    for step in steps:
        for kind, text in step.parts:
            if kind < DATA:
                pending.append(text)
                n += len(text)
            else:
                yield "".join(pending), kind, step
                pending.clear()
                n = 0
        if n >= size:
            yield "".join(pending), -1, None
            pending.clear()
            n = 0
    if pending:
        yield "".join(pending), -1, None
