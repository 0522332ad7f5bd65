"""What to run: the request, the option combinations pg_restore refuses, and the pg_restore
command line (no shell, no secret)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import UsageError
from ..format.model import TocEntry
from ..selection import Selection
from .binaries import PgRestore
from .conninfo import Target

SelectionSource = Selection | Callable[[Sequence[TocEntry]], Selection]
ENGINES = ("auto", "native", "pg_restore")


@dataclass(frozen=True)
class RestoreRequest:
    """Everything one restore needs: the archive, the target, the selection (or a function
    that builds it from the TOC, for -L files), and pg_restore's execution options."""

    archive: str
    target: Target
    selection: SelectionSource = field(default_factory=Selection)
    jobs: int = 1
    clean: bool = False
    if_exists: bool = False
    no_owner: bool = False
    role: str | None = None
    single_transaction: bool = False
    exit_on_error: bool = False
    disable_triggers: bool = False
    superuser: str | None = None
    no_tablespaces: bool = False
    no_table_access_method: bool = False
    use_set_session_authorization: bool = False
    enable_row_security: bool = False
    strict_names: bool = False
    no_data_for_failed_tables: bool = False
    transaction_size: int | None = None
    dry_run: bool = False
    pg_restore: str | None = None
    force: bool = False
    #: leave out the entries predicted to fail (and add -O, --no-tablespaces,
    #: --no-table-access-method where only such a statement fails)
    skip_unrestorable: bool = False
    #: refuse (before writing) when any entry is predicted to fail
    exit_on_prediction: bool = False
    #: "auto" (pg_restore when one reads the archive and suits the server, else the
    #: native engine), "pg_restore" or "native"
    engine: str = "auto"
    #: native engine: record each finished step in the target and skip what is recorded
    resume: bool = False
    #: with resume: keep the record when the restore has finished
    keep_state: bool = False
    #: native engine: how often a lost connection is made again (with back-off)
    retries: int = 5

    @property
    def stops_at_first_error(self) -> bool:
        """-e, and -1 and --transaction-size, which imply it in pg_restore."""
        return self.exit_on_error or self.single_transaction or bool(self.transaction_size)


#: The oldest pg_restore that has each option pgarchive may pass (others are older than 10).
OPTION_SINCE = {"transaction_size": (17, "--transaction-size"),
                "no_table_access_method": (15, "--no-table-access-method")}


def needed_major(req: RestoreRequest) -> tuple[int, list[str]]:
    """The oldest pg_restore major that has every option asked for, and those options."""
    major, names = 0, []
    for attr, (since, name) in OPTION_SINCE.items():
        if getattr(req, attr):
            major = max(major, since)
            names.append(name)
    return major, names


def check_options(req: RestoreRequest, sel: Selection) -> None:
    """Refuse what pg_restore refuses (pg_restore.c's option checks, its words), with why."""
    o = sel.restore
    refusals = [
        (o.schema_only and o.data_only,
         "options -s/--schema-only and -a/--data-only cannot be used together",
         "-s restores only definitions and -a only data; for both, give neither"),
        (o.data_only and req.clean,
         "options -c/--clean and -a/--data-only cannot be used together",
         "a data-only restore loads rows into the existing tables and drops nothing; empty "
         "the tables first (TRUNCATE), or restore definitions and data with --clean "
         "--if-exists"),
        (req.single_transaction and bool(req.transaction_size),
         "options -1/--single-transaction and --transaction-size cannot be used together",
         "-1 commits once at the end, --transaction-size every N objects"),
        (o.create and req.single_transaction,
         "options -C/--create and -1/--single-transaction cannot be used together",
         "a database cannot be created inside a transaction block"),
        (req.single_transaction and req.jobs > 1,
         "cannot specify both --single-transaction and multiple jobs",
         "one transaction lives on one connection; parallel jobs use several"),
        (req.if_exists and not req.clean,
         "option --if-exists requires option -c/--clean",
         "it changes the DROP commands that --clean issues"),
    ]
    for refused, message, why in refusals:
        if refused:
            raise UsageError(f"{message} ({why})")
    if req.engine not in ENGINES:
        raise UsageError(f"--engine {req.engine}: choose one of {', '.join(ENGINES)}")
    if req.resume and req.engine == "pg_restore":
        raise UsageError("--resume needs the native engine (pg_restore keeps no record of "
                         "what it has done): use --engine native or auto")
    if req.keep_state and not req.resume:
        raise UsageError("--keep-state keeps --resume's record: it needs --resume")
    if req.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if req.transaction_size is not None and req.transaction_size < 1:
        raise UsageError("--transaction-size must be in range 1..2147483647")


def build_command(pg: PgRestore, req: RestoreRequest, sel: Selection, list_file: str,
                  conninfo: str) -> list[str]:
    """argv for pg_restore: the list file, the options, the target without its secrets."""
    o = sel.restore
    argv = [pg.path, "--verbose", "--use-list", list_file, "--dbname", conninfo]
    flags = [
        (req.jobs > 1, ["--jobs", str(req.jobs)]),
        (req.clean, ["--clean"]),
        (req.if_exists, ["--if-exists"]),
        (o.create, ["--create"]),
        (o.schema_only, ["--schema-only"]),
        (o.data_only, ["--data-only"]),
        (req.no_owner, ["--no-owner"]),
        (o.no_acl, ["--no-acl"]),
        (bool(req.role), ["--role", req.role or ""]),
        (req.single_transaction, ["--single-transaction"]),
        (req.exit_on_error, ["--exit-on-error"]),
        (req.disable_triggers, ["--disable-triggers"]),
        (bool(req.superuser), ["--superuser", req.superuser or ""]),
        (req.no_tablespaces, ["--no-tablespaces"]),
        (req.no_table_access_method, ["--no-table-access-method"]),
        (req.use_set_session_authorization, ["--use-set-session-authorization"]),
        (req.enable_row_security, ["--enable-row-security"]),
        (req.no_data_for_failed_tables, ["--no-data-for-failed-tables"]),
        (bool(req.transaction_size), ["--transaction-size", str(req.transaction_size)]),
    ]
    for wanted, args in flags:
        if wanted:
            argv += args
    from ..containers.spool import readable_path  # "-", a pipe, a .gz: the local copy

    argv.append(readable_path(req.archive))
    return argv
