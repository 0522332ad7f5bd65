"""Running pg_restore: argv only (no shell), secrets through the environment, its verbose
output turned into progress, its errors shown as they happen, tied to the TOC entry they
belong to, and counted (known harmless ones apart)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .compat import KnownError, recognise

_PROGRESS = re.compile(r"^pg_restore: (?:creating|processing data for|processing item|"
                       r"launching item|executing|restoring|finished item|processing BLOBS|"
                       r"restored \d+ large objects?|dropping|skipping item|connecting|"
                       r"entering|finished main parallel loop|implied|disabling triggers|"
                       r"enabling triggers)\b")
_FROM_ENTRY = re.compile(r"^pg_restore: from TOC entry (\d+);")
_FINISHED = re.compile(r"^pg_restore: finished item (\d+) ")
_IGNORED = re.compile(r"^pg_restore: warning: errors ignored on restore: (\d+)")
_STAGE = re.compile(r"^pg_restore: while [A-Z ]+:$")
#: pg_restore's logging writes "pg_restore:", " ", the level ("error: ") and the message
#: apart: under -j, two processes' prefixes can pile up at a line's start
_PREFIXES = re.compile(r"^(?:pg_restore: ?)+ *")
_ERROR = "pg_restore: error: "


@dataclass
class PgError:
    """One error pg_restore reported: its text (secrets masked), the dump id of the TOC
    entry it came from (None for errors outside any entry), and the known harmless error
    it is, if it is one."""

    text: str
    entry: int | None
    known: KnownError | None = None


@dataclass
class RunResult:
    """What a pg_restore run did, as far as its output and exit status say."""

    returncode: int
    errors: list[PgError] = field(default_factory=list)
    #: pg_restore's own "errors ignored on restore" count (printed when it ran to the end)
    ignored_errors: int | None = None
    #: dump ids of the entries pg_restore reported finished (parallel restores)
    finished: set[int] = field(default_factory=set)

    @property
    def counted(self) -> list[PgError]:
        """The errors that count: all but the known harmless ones."""
        return [e for e in self.errors if e.known is None]

    @property
    def harmless(self) -> list[PgError]:
        """The known harmless errors: shown once, not counted."""
        return [e for e in self.errors if e.known is not None]

    @property
    def completed(self) -> bool:
        """pg_restore went through its whole list (it did not stop at an error)."""
        return self.returncode == 0 or self.ignored_errors is not None

    @property
    def ok(self) -> bool:
        """No error that counts, and pg_restore did not fail in some other way.

        pg_restore's own count can be lower than the errors it printed (in parallel
        restores, errors of the workers' connection set-up are shown but not all counted),
        never higher: a higher count means an error we could not read, and that counts.
        """
        if self.counted:
            return False
        return self.returncode == 0 or (self.ignored_errors is not None and
                                        self.ignored_errors <= len(self.harmless))

    def failed_entries(self) -> set[int]:
        """The dump ids of the entries pg_restore reported an error for."""
        return {e.entry for e in self.counted if e.entry is not None}


class _Reader:
    """Folds pg_restore's lines into progress and error records."""

    def __init__(self, result: RunResult, known: list[KnownError],
                 on_progress: Callable[[str], None] | None,
                 on_error: Callable[[PgError], None] | None) -> None:
        self.result = result
        self.known = known
        self.on_progress = on_progress
        self.on_error = on_error
        self.entry: int | None = None
        #: an entry pg_restore named ("from TOC entry N") whose error has not come yet:
        #: pg_restore writes the two lines one after the other, but under -j another
        #: worker's progress can land between them, and must not unname the entry
        self.named: int | None = None
        self.record: list[str] | None = None
        #: an error whose first line another process's message took: its text is the
        #: next line that has no prefix
        self.glue = False
        #: the entry of the error being read (the one in effect when it began)
        self.record_entry: int | None = None

    def line(self, line: str) -> None:
        if line.startswith("pg_restore:"):  # two processes' writes interleaved: one prefix
            line = _PREFIXES.sub("pg_restore: ", line, count=1)
        if not line.startswith("pg_restore: "):
            if self.record is not None:  # DETAIL:, CONTEXT:, Command was:, the SQL...
                if self.glue:
                    self.record[-1] += line
                    self.glue = False
                else:
                    self.record.append(line)
            return
        self.flush()
        m = _FROM_ENTRY.match(line)
        if m:
            self.entry = self.named = int(m.group(1))
            return
        if _STAGE.match(line):
            if self.named is None:
                self.entry = None
            return
        m = _FINISHED.match(line)
        if m:
            self.result.finished.add(int(m.group(1)))
        m = _IGNORED.match(line)
        if m:
            self.result.ignored_errors = int(m.group(1))
            return
        if line.startswith(_ERROR):
            rest, entry, named = line[len(_ERROR):], self.entry, None
            if not rest or self._other_message("pg_restore: " + rest):
                # another process's whole message landed after this error's level: it is
                # read as its own line (an entry it names is for the error that follows
                # it), and this error's text comes on the next line
                if rest:
                    self.line("pg_restore: " + rest)
                    self.flush()
                    named = self.named if _FROM_ENTRY.match("pg_restore: " + rest) else None
                line, self.glue = _ERROR, True
            self.record, self.record_entry, self.named = [line], entry, named
            return
        if _PROGRESS.match(line):
            if self.on_progress:
                self.on_progress(line)
            if line.startswith(("pg_restore: processing data for", "pg_restore: creating",
                                "pg_restore: executing", "pg_restore: processing item")
                                ) and self.named is None:
                self.entry = None  # the next error's entry is named again
            return
        self.record = [line]  # a warning or another message: shown, not counted

    @staticmethod
    def _other_message(line: str) -> bool:
        """A line of pg_restore's that is not an error's text (progress, an entry named,
        a stage), found where an error's text should start."""
        return any(rx.match(line) for rx in (_PROGRESS, _FROM_ENTRY, _STAGE, _IGNORED))

    def flush(self) -> None:
        self.glue = False
        if self.record is None:
            return
        text = "\n".join(self.record)
        self.record = None
        if not text.startswith("pg_restore: error: "):
            if self.on_error:
                self.on_error(PgError(text, None, None))
            return
        err = PgError(text, self.record_entry, recognise(text, self.known))
        self.result.errors.append(err)
        if self.on_error:
            self.on_error(err)


def run_pg_restore(argv: Sequence[str], env: dict[str, str], mask: Callable[[str], str],
                   known: list[KnownError] | None = None,
                   on_progress: Callable[[str], None] | None = None,
                   on_error: Callable[[PgError], None] | None = None) -> RunResult:
    """Run pg_restore; ``on_progress`` gets each verbose step, ``on_error`` each error or
    warning (secrets masked) the moment it is complete."""
    proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    result = RunResult(0)
    reader = _Reader(result, known or [], on_progress, on_error)
    for raw in proc.stdout:
        reader.line(mask(raw.decode("utf-8", "replace").rstrip("\n")))
    reader.flush()
    result.returncode = proc.wait()
    unread = (result.ignored_errors or 0) - len(result.errors)
    if unread > 0 and not result.harmless:
        result.errors.append(PgError(f"pg_restore counted {result.ignored_errors} errors, "
                                     f"{len(result.errors)} of them could be read", None))
    return result
