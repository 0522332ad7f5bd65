"""What a restore did, would do (dry run), or why it refused: the outcome that
:func:`pgarchive.restore.run` returns and the engines fill in, and the callbacks a caller
gives it (apart from run.py, which the native engine's module is called from)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..format.model import TocEntry
from .binaries import Choice
from .compat import KnownError
from .forecast import Forecast
from .plan import RestoreRequest
from .preflight import Finding
from .rowcheck import MATCH, NOT_RESTORED, TableCheck
from .runner import PgError, RunResult

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


@dataclass
class RestoreEvents:
    """Callbacks for what happens while the restore runs (all optional)."""

    #: the checks passed: the outcome so far (choice, findings, forecast, entries), before
    #: pg_restore
    ready: Callable[[RestoreOutcome], None] | None = None
    #: each verbose step of pg_restore
    progress: Callable[[str], None] | None = None
    #: each error or warning of pg_restore, as it happens
    error: Callable[[PgError], None] | None = None


@dataclass
class RestoreOutcome:
    """What a restore did, or would do (dry run), or why it refused."""

    request: RestoreRequest
    entries: list[TocEntry]
    choice: Choice | None = None
    findings: list[Finding] = field(default_factory=list)
    #: entries --with-deps needed that the target already has: left out
    left_out: list[TocEntry] = field(default_factory=list)
    #: name options that matched nothing
    unmatched: list[str] = field(default_factory=list)
    #: the pg_restore command, secrets masked (LIST_FILE in a dry run)
    command: list[str] = field(default_factory=list)
    #: the entries of the list file, in pg_restore -l form with control characters escaped
    #: (made for a dry run, whose report shows it)
    listing: str = ""
    expected_errors: list[KnownError] = field(default_factory=list)
    run: RunResult | None = None
    tables: list[TableCheck] = field(default_factory=list)
    #: the database the data went to (masked conninfo)
    database: str = ""
    #: why the archive's rows could not be counted (a damaged archive): nothing compared
    count_error: str | None = None
    #: which entries pg_restore is predicted to fail on, and why (None: the target could
    #: not be read); with --skip-unrestorable, its plan is applied to ``entries``
    forecast: Forecast | None = None
    #: which engine restores ("pg_restore" or "native") and why that one
    engine: str = "pg_restore"
    engine_reason: str = ""
    #: native engine: what --resume found and did
    resume: ResumeInfo | None = None
    #: native engine: Ctrl-C stopped it
    interrupted: bool = False

    @property
    def refused(self) -> bool:
        """A check failed: nothing was (or, in a dry run, would be) written."""
        return any(f.level == "error" for f in self.findings)

    @property
    def mismatches(self) -> list[TableCheck]:
        """The tables whose rows on the target differ from the archive's."""
        return [t for t in self.tables if t.status not in (MATCH, NOT_RESTORED)]

    @property
    def not_restored(self) -> list[TableCheck]:
        """The tables whose data was not loaded (nothing is claimed about their rows)."""
        return [t for t in self.tables if t.status == NOT_RESTORED]

    @property
    def exit_code(self) -> int:
        """0 restored and every row count matches (or a dry run whose checks pass);
        1 pg_restore failed or counts differ; 2 refused before anything was written."""
        if self.refused:
            return EXIT_REFUSED
        if self.run is None:
            return EXIT_OK
        if not self.run.ok or self.mismatches or self.not_restored or self.count_error:
            return EXIT_FAILED
        return EXIT_OK


@dataclass
class ResumeInfo:
    """--resume: the record found in the target (None: a fresh start), the steps skipped
    as done, and whether the record is kept."""

    found_steps: int = 0
    started: str = ""
    skipped: int = 0
    kept: bool = False
