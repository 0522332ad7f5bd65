"""Running Steps on one connection, as pg_restore runs its entries connected to a server.

The renderer (:mod:`pgarchive.script.renderer`) gives each entry's statements as typed
parts; here each part becomes what ``pg_backup_archiver.c`` and ``pg_backup_db.c`` do with
it when restoring straight into a database: comments and psql meta-commands are not sent;
each SQL or SET part is one PQexec (``ExecuteSqlCommand``); BEGIN and COMMIT are run as
they come; a CONNECT part connects to the new database (``_reconnectToDB``); a COPY part
starts COPY and the entry's data is fed to it from the archive (``PQputCopyData``), or,
without COPY, split into statements as ``ExecuteSimpleCommands`` splits INSERT-style
data; large objects are written with ``lo_open``/``lowrite``/``lo_close``.

A statement that fails is an error of its entry, shown with the entry and the statement
and counted, and the restore goes on (``warn_or_exit_horribly``), unless -e.  A failed SET
SESSION AUTHORIZATION or ``lo_open`` ends the restore, as in pg_restore.

With --resume each step runs in a transaction of its own that also records it as done
(:mod:`.state`).  Inside that transaction a failing statement would undo the others, which
pg_restore (committing each statement) keeps; so when one fails, the step is rolled back
and run again with a savepoint before each statement: the same statements succeed and fail
as they do for pg_restore, and only then is it committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn, cast

from ...archive import Archive
from ...copytext import CopyChecker
from ...errors import ArchiveError
from ...format.constants import K_VERS_1_12
from ...format.model import TocEntry
from ...script import model as m
from ...script.quoting import fmt_qualified_id
from ...script.renderer import Renderer
from ...script.target import Adapter
from ..runner import PgError
from . import state
from .connection import ConnectionLost, Failure, Session
from .pipeline import one_statement

INV_WRITE = 0x20000
#: table data asked of the archive in pieces of this size (as the script writer does)
DATA_PIECE = 256 << 10
#: large objects are written in pieces of at most this size (pg_restore: 16 kB; the
#: object's bytes are the same, fewer round trips)
LO_PIECE = 1 << 20
#: an error shows at most this much of its statement
SHOWN_STATEMENT = 4000
DB_DESCS = frozenset({"DATABASE", "DATABASE PROPERTIES"})
ADAPTED = "-- pgarchive --target-version "


class Stop(Exception):
    """The restore stops: -e and an error, a fatal error, or an interruption."""


class _Redo(Exception):
    """A statement failed inside a --resume step's transaction: redo the step carefully."""


def statement_text(statement: str) -> str:
    """A statement as an error message shows it: cut after SHOWN_STATEMENT characters."""
    text = statement.strip()
    if len(text) > SHOWN_STATEMENT:
        text = f"{text[:SHOWN_STATEMENT]}... ({len(text) - SHOWN_STATEMENT} more characters)"
    return text


class ErrorLog:
    """The errors of a restore, shared by its connections: shown as they happen (secrets
    masked), counted, and, with -e, the end of the restore."""

    def __init__(self, mask: Callable[[str], str], on_error: Callable[[PgError], None] | None,
                 exit_on_error: bool) -> None:
        self.mask = mask
        self.on_error = on_error
        self.exit_on_error = exit_on_error
        self.errors: list[PgError] = []
        self.lock = threading.Lock()
        self.stopped: str | None = None
        #: Ctrl-C: what fails from now on is the interruption, not an error
        self.interrupted = False

    def error(self, entry: TocEntry | None, message: str, statement: str | None = None,
              fatal: bool = False) -> None:
        """warn_or_exit_horribly(): one error of ``entry``; raises Stop with -e (or when
        ``fatal``)."""
        if self.interrupted:
            self.stop("interrupted")
        head = f"pgarchive: error: TOC entry {entry.label}: " if entry else "pgarchive: error: "
        text = head + message.rstrip()
        if statement is not None:
            text += "\nCommand was: " + statement_text(statement)
        err = PgError(self.mask(text), entry.dump_id if entry else None)
        with self.lock:
            self.errors.append(err)
        if self.on_error:
            self.on_error(err)
        if fatal or self.exit_on_error:
            self.stop("stopped at the first error (-e)" if not fatal else
                      "stopped: the error above ends the restore")

    def stop(self, why: str) -> NoReturn:
        """Stop every connection's work (the first reason wins) and unwind this one."""
        with self.lock:
            if self.stopped is None:
                self.stopped = why
        raise Stop(why)

    def note(self, text: str) -> None:
        """A message that is shown and not counted (a server WARNING, an adaptation)."""
        if self.on_error:
            self.on_error(PgError(self.mask(text), None))


@dataclass
class Shared:
    """What the connections of one restore share (the leader's thread changes the sets;
    a worker only adds to counts and notes)."""

    archive_path: str
    log: ErrorLog
    resume: bool
    #: (dump id, phase) already done (--resume)
    done: set[tuple[int, str]] = field(default_factory=set)
    #: TABLE DATA dump ids whose table this run (or the run it resumes) created
    created: set[int] = field(default_factory=set)
    #: rows streamed per TABLE DATA entry (the archive's side of the row check)
    counts: dict[int, int] = field(default_factory=dict)
    #: TABLE DATA dump ids whose data went in
    loaded: set[int] = field(default_factory=set)
    #: statements adapted for an older server: note -> times
    adapted: dict[str, int] = field(default_factory=dict)
    #: steps skipped because a previous run did them
    skipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Executor:
    """Runs the Steps of one connection (the leader's, or a worker's)."""

    def __init__(self, session: Session, archive: Archive, renderer: Renderer,
                 shared: Shared, adapter: Adapter | None, *, global_txn: bool,
                 parallel: bool, clean: bool) -> None:
        self.session = session
        self.archive = archive
        self.renderer = renderer
        self.shared = shared
        self.log = shared.log
        self.adapter = adapter
        self.global_txn = global_txn  # -1 or --transaction-size on this connection
        self.parallel = parallel      # a worker: TRUNCATE before COPY into a new table
        self.clean = clean
        self.old_lo_style = archive.header.version < K_VERS_1_12
        self.on_connect: Callable[[Executor], None] | None = None
        #: the entry being restored (server warnings are shown with it)
        self.current: TocEntry | None = None
        self._careful = False
        self._silent = False
        self._errors = 0
        #: send single statements ahead without waiting (:mod:`.pipeline`): set by the
        #: driver where no answer can change what is sent next
        self.pipeline = False
        session.on_failure = self._sent_failed

    def _sent_failed(self, context: object, failure: Failure) -> None:
        e, text, kind = cast("tuple[TocEntry | None, str, int]", context)
        self._statement_failed(e, text, kind, failure)

    def notice_entry(self) -> TocEntry | None:
        """The entry a server notice belongs to: the one whose statement sent ahead is
        being answered, else the one being restored."""
        reading = self.session.reading
        if reading is not None:
            return cast("tuple[TocEntry | None, str, int]", reading)[0]
        return self.current

    def settle(self) -> None:
        """Read the results of every statement sent ahead (their errors are reported)."""
        self.session.settle()

    # -- one step ----------------------------------------------------------------------

    def adapt(self, step: m.Step) -> m.Step:
        """The step adapted to an older server (once: before running it)."""
        return step if self.adapter is None else self.adapter(step)

    def run(self, step: m.Step) -> int:
        """Run one (adapted) step; returns how many of its statements failed."""
        e = step.entry
        self.current = e
        if e is None or step.phase not in state.RECORDED or not self.shared.resume:
            return self._run(step, wrapped=False)
        key = (e.dump_id, step.phase)
        if key in self.shared.done:
            with self.shared.lock:
                self.shared.skipped += 1
            self.renderer.forget_session()
            return 0
        if e.desc in DB_DESCS:  # CREATE DATABASE cannot run in a transaction block
            return self._run(step, wrapped=False)
        if self.global_txn:  # the record goes into -1's or --transaction-size's transaction
            errors = self._run(step, wrapped=False)
            self._must(state.record_statement(*key), e)
            return errors
        return self._run_wrapped(step, key)

    def _run_wrapped(self, step: m.Step, key: tuple[int, str]) -> int:
        """The step and its record in one transaction; if a statement fails, the step is
        rolled back and run again with a savepoint before each statement."""
        e = step.entry
        careful = False
        while True:
            self._must("BEGIN", e)
            try:
                errors = self._run(step, wrapped=True, careful=careful,
                                   silent=not careful and not self.log.exit_on_error)
            except _Redo:
                self._must("ROLLBACK", e)
                careful = True
                continue
            except Stop:
                self._rollback()
                raise
            if errors:
                self.renderer.forget_session()
            self._must(state.record_statement(*key), e)
            failure = self.session.execute("COMMIT")
            if failure is None:
                return errors
            # a deferred check failed at commit: pg_restore's statement would have failed
            # the same way; the error is its entry's, and the step is done
            self._rollback()
            self.renderer.forget_session()
            self.log.error(e, f"could not commit: {failure.message}")
            self._must(state.record_statement(*key), e)
            return errors + 1

    def _rollback(self) -> None:
        try:
            if self.session.conn is not None and self.session.in_transaction:
                self.session.execute("ROLLBACK")
        except ConnectionLost:
            pass

    def _must(self, sql: str, e: TocEntry | None) -> None:
        """A statement of the engine's own (transaction control, the record): it failing
        ends the restore."""
        failure = self.session.execute(sql)
        if failure is not None:
            self.log.error(e, f"could not execute query: {failure.message}", sql, fatal=True)

    def recorded(self, e: TocEntry, phase: str) -> bool:
        """Whether a step is recorded done (after a lost connection: did its COMMIT make
        it?)."""
        value, failure = self.session.query_value(state.is_recorded_statement(e.dump_id,
                                                                              phase))
        return failure is None and value is not None

    # -- the parts ---------------------------------------------------------------------

    def _run(self, step: m.Step, wrapped: bool, careful: bool = False,
             silent: bool = False) -> int:
        self._careful, self._silent, self._errors = careful, silent, 0
        e = step.entry
        copy_stmt: str | None = None
        for kind, text in step.parts:
            if kind == m.COMMENT:
                if text.startswith(ADAPTED):
                    self._adapted(text)
                continue
            if kind == m.META:
                continue
            if copy_stmt is not None and kind != m.DATA:  # a COPY without data: no rows
                self._copy(step, copy_stmt, with_data=False)
                copy_stmt = None
            if kind in (m.SQL, m.SESSION):
                self._statement(e, text, kind)
            elif kind == m.TRANSACTION:
                if not wrapped:
                    for stmt in transaction_statements(text):
                        self._statement(e, stmt, kind)
            elif kind == m.CONNECT:
                assert e is not None
                self.session.settle()
                self.session.open(e.tag)
                self.renderer.forget_session()
                if self.on_connect is not None:
                    self.on_connect(self)
            elif kind == m.COPY:
                copy_stmt = text
            elif kind == m.DATA:
                assert e is not None
                if copy_stmt is not None:
                    self._copy(step, copy_stmt, with_data=True)
                    copy_stmt = None
                else:
                    self._simple_commands(e)
            elif kind == m.LARGE_OBJECTS:
                assert e is not None
                self._large_objects(e)
        if copy_stmt is not None:
            self._copy(step, copy_stmt, with_data=False)
        return self._errors

    def _adapted(self, text: str) -> None:
        note = text[len(ADAPTED):].strip()
        with self.shared.lock:
            self.shared.adapted[note] = self.shared.adapted.get(note, 0) + 1

    def _failed(self, e: TocEntry | None, message: str, statement: str | None = None,
                fatal: bool = False) -> None:
        if self.log.interrupted:
            self.log.stop("interrupted")
        if self._silent:
            raise _Redo
        self._errors += 1
        self.log.error(e, message, statement, fatal)

    def _exec(self, sql: str | bytes) -> Failure | None:
        """One statement; in careful mode behind a savepoint, rolled back to if it fails."""
        if not self._careful:
            return self.session.execute(sql)
        self.session.execute("SAVEPOINT pgarchive_statement")
        failure = self.session.execute(sql)
        if failure is not None:
            self.session.execute("ROLLBACK TO SAVEPOINT pgarchive_statement")
        return failure

    def _statement(self, e: TocEntry | None, text: str, kind: int) -> None:
        if not text.strip():  # pg_restore sends "\n" here and there: an empty query
            return
        if self.pipeline and (kind == m.SQL or (kind == m.SESSION and not text.startswith(
                "SET SESSION AUTHORIZATION"))) and one_statement(text):
            self.session.send(text, (e, text, kind))
            return
        failure = self._exec(text)
        if failure is not None:
            self._statement_failed(e, text, kind, failure)

    def _statement_failed(self, e: TocEntry | None, text: str, kind: int,
                          failure: Failure) -> None:
        """A statement of ``e`` failed: its error, in pg_restore's words."""
        if kind == m.SESSION and text.startswith("SET SESSION AUTHORIZATION"):
            self._failed(e, f"could not set session user: {failure.message}", text,
                         fatal=True)
        elif kind == m.SESSION and text.startswith("SET search_path = "):
            schema = _unquoted(text[len("SET search_path = "):].split(", pg_catalog")[0])
            self._failed(e, f"could not set \"search_path\" to \"{schema}\": "
                            f"{failure.message}", text)
        elif kind == m.SESSION and text.startswith("SET default_tablespace = "):
            want = text[len("SET default_tablespace = "):].rstrip().rstrip(";")
            self._failed(e, f"could not set \"default_tablespace\" to {want}: "
                            f"{failure.message}", text)
        elif kind == m.SESSION and text.startswith("SET default_table_access_method"):
            self._failed(e, "could not set \"default_table_access_method\": "
                            f"{failure.message}", text)
        elif kind == m.TRANSACTION:
            what = "start" if text.startswith("BEGIN") else "commit"
            self._failed(e, f"could not {what} database transaction: {failure.message}", text)
        else:
            self._failed(e, f"could not execute query: {failure.message}", text)
        # a SET that failed is taken as done, as pg_restore takes it (_selectTablespace
        # and its kind record the value whatever the server said): not sent again

    # -- table data --------------------------------------------------------------------

    def _copy(self, step: m.Step, statement: str, with_data: bool) -> None:
        e = step.entry
        assert e is not None
        truncate = (self.parallel and e.dump_id in self.shared.created and
                    not load_via_partition_root(e))
        # parallel restore into a table this run created: TRUNCATE in the COPY's own
        # transaction (no WAL for its rows with wal_level=minimal), as pg_restore does; a
        # --resume step is in its transaction already
        own_txn = truncate and not self.session.in_transaction
        if own_txn:
            self._statement(e, "BEGIN", m.TRANSACTION)
        if truncate:
            self._statement(e, f"TRUNCATE TABLE ONLY {self._qualified(e)};\n\n", m.SQL)
        counter = CopyChecker(None)
        started = False

        def chunks() -> Iterator[bytes]:
            nonlocal started
            started = True
            if not with_data:
                return
            for piece in self.archive.data(e, DATA_PIECE):
                if self.log.interrupted:  # leave the COPY now, not at the table's end
                    self.log.stop("interrupted")
                counter.feed(piece)
                yield piece

        failure = self._copy_guarded(e, statement, chunks)
        if failure is None:
            with self.shared.lock:
                self.shared.counts[e.dump_id] = counter.rows
                self.shared.loaded.add(e.dump_id)
        elif not started:  # the COPY statement itself was refused; its data is dropped
            self._failed(e, f"could not execute query: {failure.message}", statement)
        else:
            self._failed(e, f"COPY failed for table \"{e.tag}\": {failure.message}")
        if own_txn:
            self._statement(e, "COMMIT", m.TRANSACTION)

    def _copy_guarded(self, e: TocEntry, statement: str,
                      chunks: Callable[[], Iterator[bytes]]) -> Failure | None:
        if self._careful:
            self.session.execute("SAVEPOINT pgarchive_statement")
        try:
            failure = self.session.copy(statement, chunks)
        except ArchiveError as err:  # a damaged archive: pg_restore stops too
            self.log.error(e, f"could not read the archive: {err}", fatal=True)
            raise AssertionError("unreachable") from None
        if failure is not None and self._careful:
            self.session.execute("ROLLBACK TO SAVEPOINT pgarchive_statement")
        return failure

    def _qualified(self, e: TocEntry) -> str:
        return fmt_qualified_id(e.namespace, e.tag, self.renderer.encoding)

    def _simple_commands(self, e: TocEntry) -> None:
        """INSERT-style table data (and old BLOB COMMENTS): ExecuteSimpleCommands."""
        splitter = SimpleCommands(self.renderer.std_strings)
        ok = True
        try:
            for piece in self.archive.data(e, DATA_PIECE):
                for command in splitter.feed(piece):
                    failure = self._exec(command)
                    if failure is not None:
                        ok = False
                        self._failed(e, f"could not execute query: {failure.message}",
                                     command.decode(self.session.codec, "replace"))
        except ArchiveError as err:
            self.log.error(e, f"could not read the archive: {err}", fatal=True)
        if ok and e.desc == "TABLE DATA":
            with self.shared.lock:
                self.shared.loaded.add(e.dump_id)

    # -- large objects -----------------------------------------------------------------

    def _large_objects(self, e: TocEntry) -> None:
        """StartRestoreLO / lo_write / EndRestoreLO for each large object of a BLOBS
        entry (the BEGIN and COMMIT around them are parts of the step)."""
        s = self.session
        try:
            for lo in self.archive.large_objects(e, LO_PIECE):
                if self.old_lo_style:
                    if self.clean:
                        self._statement(e, "SELECT pg_catalog.lo_unlink(oid) FROM "
                                           "pg_catalog.pg_largeobject_metadata WHERE oid = "
                                           f"'{lo.oid}';\n", m.SQL)
                    failure = s.lo_create(lo.oid)
                    if failure is not None:
                        self._failed(e, f"could not create large object {lo.oid}: "
                                        f"{failure.message}", fatal=True)
                fd, failure = s.lo_open(lo.oid, INV_WRITE)
                if failure is not None or fd is None:
                    self._failed(e, f"could not open large object {lo.oid}: "
                                    f"{failure.message if failure else ''}", fatal=True)
                    return
                for piece in lo.chunks:
                    for at in range(0, len(piece), LO_PIECE):
                        failure = s.lo_write(fd, piece[at:at + LO_PIECE])
                        if failure is not None:
                            self._failed(e, "could not write to large object: "
                                            f"{failure.message}")
                s.lo_close(fd)
        except ArchiveError as err:
            self.log.error(e, f"could not read the archive: {err}", fatal=True)


def _unquoted(name: str) -> str:
    """fmtId() undone: the name pg_restore's messages show."""
    name = name.strip().rstrip(";").strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


def transaction_statements(text: str) -> list[str]:
    """"COMMIT;\\nBEGIN;\\n" -> ["COMMIT", "BEGIN"] (StartTransaction, CommitTransaction)."""
    return [s.strip() for s in text.split(";") if s.strip()]


def load_via_partition_root(e: TocEntry) -> bool:
    """is_load_via_partition_root(): the data goes to an ancestor partitioned table."""
    if e.defn and e.defn.startswith("-- load via partition root "):
        return True
    if e.copy_stmt:
        return not e.copy_stmt.startswith(f"COPY {fmt_qualified_id(e.namespace, e.tag)} ")
    return False


class SimpleCommands:
    """ExecuteSimpleCommands(): INSERT statements run together in pieces of any size,
    split at the semicolons outside quotes (the data holds no comments, E'' strings or
    dollar quotes).  Bytes in, one statement at a time out."""

    SCAN, SINGLE, DOUBLE = 0, 1, 2

    def __init__(self, std_strings: bool) -> None:
        self.std_strings = std_strings
        self.state = self.SCAN
        self.backslash = False
        self.current = bytearray()

    def feed(self, piece: bytes) -> Iterator[bytes]:
        """Take the next piece of the data; yields each statement it completes."""
        cur = self.current
        for ch in piece:
            if not (ch == 0x0A and not cur):  # newlines between commands are skipped
                cur.append(ch)
            if self.state == self.SCAN:
                if ch == 0x3B:  # ;
                    yield bytes(cur)
                    cur.clear()
                elif ch == 0x27:
                    self.state = self.SINGLE
                    self.backslash = False
                elif ch == 0x22:
                    self.state = self.DOUBLE
            elif self.state == self.SINGLE:
                if ch == 0x27 and not self.backslash:
                    self.state = self.SCAN
                elif ch == 0x5C and not self.std_strings:
                    self.backslash = not self.backslash
                else:
                    self.backslash = False
            elif ch == 0x22:
                self.state = self.SCAN
