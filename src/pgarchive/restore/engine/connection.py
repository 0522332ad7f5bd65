"""One connection of the native engine, used as pg_restore uses its ArchiveHandle's.

Statements go one at a time with the simple query protocol (libpq's PQexec, as
ExecuteSqlCommand sends them: a string of several statements is one implicit transaction),
table data through COPY FROM STDIN fed from the archive, large objects through the
server's large-object functions.  A statement that fails is a :class:`Failure` (the run
decides whether to go on); a connection that is lost is :class:`ConnectionLost`, which the
run may survive by connecting again (:class:`RetryPolicy`: bounded, with back-off).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..conninfo import Target
from ..preflight import connection_error
from .pipeline import Pipeline, wait_socket

if TYPE_CHECKING:
    import psycopg

#: what a new connection calls itself (pg_stat_activity.application_name)
APPLICATION_NAME = "pgarchive"
#: SQLSTATEs of a connection the server ended or refused for now: admin_shutdown
#: (pg_terminate_backend, a fast shutdown), crash_shutdown, cannot_connect_now (starting
#: up or shutting down), too_many_connections, and class 08 (connection exceptions).
TRANSIENT = frozenset({"57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004",
                       "08006"})
#: connection errors that waiting does not cure: authentication, a missing database or role
PERMANENT = frozenset({"28000", "28P01", "3D000", "42501", "42704"})
INT4, OID, BYTEA = 23, 26, 17


class ConnectionLost(Exception):
    """The connection broke (or could not be made again within the retries)."""


@dataclass(frozen=True)
class Failure:
    """A statement the server refused: its message as libpq words it (``ERROR:  ...``,
    with DETAIL and HINT lines) and its SQLSTATE."""

    message: str
    sqlstate: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a lost or refused connection is tried again: delays
    of ``first``, doubling, at most ``longest`` seconds, ``retries`` times in all."""

    retries: int = 5
    first: float = 1.0
    longest: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delays(self) -> Iterator[float]:
        """The waits between attempts: doubling from ``first`` up to ``longest``."""
        delay = self.first
        for _ in range(self.retries):
            yield delay
            delay = min(delay * 2, self.longest)


def transient(err: BaseException) -> bool:
    """Whether a connection error may go away by itself (a server restarting, a managed
    service scaling from zero, a terminated backend) rather than needing a fix."""
    import psycopg

    if not isinstance(err, psycopg.OperationalError):
        return False
    state = err.sqlstate
    if state is not None:
        return state in TRANSIENT or (state not in PERMANENT and state.startswith("08"))
    text = str(err).lower()
    return not any(w in text for w in ("password", "authentication", "does not exist",
                                       "no pg_hba.conf entry", "permission denied"))


class Session:
    """One connection to the target, made (and made again) with the retry policy."""

    def __init__(self, target: Target, codec: str, policy: RetryPolicy,
                 on_notice: Callable[[str], None] | None = None,
                 on_retry: Callable[[str], None] | None = None) -> None:
        self.target = target
        self.codec = codec
        self.policy = policy
        self.on_notice = on_notice
        self.on_retry = on_retry
        self.conn: psycopg.Connection[Any] | None = None
        #: the statements sent ahead (:meth:`send`), until :meth:`settle`
        self.pipe: Pipeline | None = None
        #: told of a failure of a statement sent ahead: (its context, the failure)
        self.on_failure: Callable[[object, Failure], None] | None = None

    # -- connecting --------------------------------------------------------------------

    def open(self, dbname: str | None = None) -> None:
        """Connect (to ``dbname`` instead of the target's database if given), trying
        again with back-off while the failure looks transient."""
        import psycopg

        self.close()
        target = self.target.with_dbname(dbname) if dbname else self.target
        delays = self.policy.delays()
        while True:
            try:
                conn = target.connect(fallback_application_name=APPLICATION_NAME)
                break
            except psycopg.Error as e:
                why = target.mask(connection_error(str(e)))
                delay = next(delays, None) if transient(e) else None
                if delay is None:
                    raise ConnectionLost(f"cannot connect to {target.masked}: {why}") from None
                if self.on_retry:
                    self.on_retry(f"cannot connect to {target.masked} ({why}); trying again "
                                  f"in {delay:g} s")
                self.policy.sleep(delay)
        conn.add_notice_handler(self._notice)
        self.target = target
        self.conn = conn

    def _notice(self, diag: Any) -> None:
        if self.on_notice is not None:
            text = f"{diag.severity}:  {diag.message_primary}"
            if diag.message_detail:
                text += f"\nDETAIL:  {diag.message_detail}"
            if diag.message_hint:
                text += f"\nHINT:  {diag.message_hint}"
            self.on_notice(text)

    @property
    def dbname(self) -> str:
        """The database this session connects to."""
        return self.target.dbname or ""

    def close(self) -> None:
        """Close the connection, if any (a broken one quietly); results not read yet are
        dropped."""
        self.pipe = None
        if self.conn is not None:
            with contextlib.suppress(Exception):  # a broken connection: nothing to save
                self.conn.close()
            self.conn = None

    def cancel(self) -> None:
        """Ask the server to cancel what this connection is running (from another thread)."""
        conn = self.conn
        if conn is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to cancel
                conn.cancel()

    @property
    def _pgconn(self) -> Any:
        if self.conn is None:
            raise ConnectionLost("not connected")
        return self.conn.pgconn

    @property
    def backend_pid(self) -> int | None:
        """The process id of the server backend of the connection (None when not connected)."""
        return None if self.conn is None else self.conn.info.backend_pid

    @property
    def in_transaction(self) -> bool:
        """Inside a transaction block (open or failed)."""
        from psycopg import pq

        return int(self._pgconn.transaction_status) in (pq.TransactionStatus.INTRANS,
                                                         pq.TransactionStatus.INERROR)

    # -- statements --------------------------------------------------------------------

    def encode(self, sql: str) -> bytes:
        """SQL text as the server reads it, in the archive's encoding."""
        return sql.encode(self.codec, "surrogateescape")

    def send(self, sql: str, context: object) -> None:
        """Send a statement that is certainly one command (:func:`.pipeline.one_statement`)
        without waiting for its result: it runs and commits on its own, as with PQexec;
        its failure goes to ``on_failure`` with ``context`` when the results are read
        (at the latest, before the connection is used otherwise)."""
        if self.pipe is None:
            self.pipe = Pipeline(self._pgconn, self._pipelined_failure,
                                 lambda why: ConnectionLost(why or "the connection was lost"))
        self.pipe.send(self.encode(sql), context)

    def settle(self) -> None:
        """Read the results of the statements sent ahead, in order, reporting failures."""
        pipe, self.pipe = self.pipe, None
        if pipe is not None:
            pipe.settle()

    @property
    def reading(self) -> object | None:
        """The context of the statement sent ahead whose result is being read, if any."""
        return self.pipe.reading if self.pipe is not None else None

    def _pipelined_failure(self, context: object, res: Any) -> None:
        failure = self._failure(res)
        if self.on_failure is not None:
            self.on_failure(context, failure)

    def execute(self, sql: str | bytes) -> Failure | None:
        """PQexec: None when it worked, the server's refusal otherwise."""
        from psycopg import pq

        if self.pipe is not None:
            self.settle()
        data = sql if isinstance(sql, bytes) else self.encode(sql)
        pgconn = self._pgconn
        if b"\0" in data:  # libpq would send the part before it and drop the rest
            return Failure("ERROR:  the statement contains a NUL byte; not sent\n")
        res = pgconn.exec_(data)
        status = res.status
        if status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK,
                      pq.ExecStatus.EMPTY_QUERY):
            return None
        if status == pq.ExecStatus.COPY_IN:  # a COPY hidden in a statement: not fed
            pgconn.put_copy_end(b"pgarchive: COPY inside a statement")
            while pgconn.get_result() is not None:
                pass
            return Failure("ERROR:  a statement started COPY outside a COPY entry; "
                           "nothing was sent to it\n")
        return self._failure(res)

    def query_value(self, sql: str, params: list[bytes | None] | None = None,
                    types: list[int] | None = None, formats: list[int] | None = None
                    ) -> tuple[str | None, Failure | None]:
        """The first value of a one-row query (parameters in the extended protocol)."""
        from psycopg import pq

        if self.pipe is not None:
            self.settle()
        pgconn = self._pgconn
        res = pgconn.exec_params(self.encode(sql), params or [], types, formats)
        if res.status == pq.ExecStatus.TUPLES_OK:
            value = res.get_value(0, 0) if res.ntuples else None
            return (None if value is None else bytes(value).decode("ascii", "replace")), None
        message = self._message(res.error_message) or self._message(pgconn.error_message)
        if pgconn.status == pq.ConnStatus.BAD:
            raise ConnectionLost(message.strip() or "the connection was lost")
        state = res.error_field(pq.DiagnosticField.SQLSTATE)
        return None, Failure(message, state.decode("ascii", "replace") if state else None)

    def _message(self, raw: bytes | None) -> str:
        return (raw or b"").decode(self.codec, "replace")

    # -- COPY --------------------------------------------------------------------------

    def copy(self, statement: str, chunks: Callable[[], Iterable[bytes]]) -> Failure | None:
        """Run a ``COPY ... FROM stdin`` statement and feed it ``chunks()`` (asked for only
        once the server is ready to take data, so a COPY that fails reads nothing).

        As pg_restore does it: PQexec of the statement, PQputCopyData of each piece,
        PQputCopyEnd, the result; on the connection's own non-blocking socket, waiting in
        poll() (so other threads run while the server reads).  An empty table costs two
        round trips and a few calls, not psycopg's cursor and Copy objects."""
        from psycopg import pq

        if self.pipe is not None:
            self.settle()
        pgconn = self._pgconn
        data = self.encode(statement)
        if b"\0" in data:
            return Failure("ERROR:  the statement contains a NUL byte; not sent\n")
        res = pgconn.exec_(data)
        if res.status != pq.ExecStatus.COPY_IN:
            if res.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK,
                              pq.ExecStatus.EMPTY_QUERY):
                return Failure("ERROR:  the COPY entry's statement did not start COPY FROM "
                               "STDIN\n")
            return self._failure(res)
        refused = False
        try:
            for piece in chunks():
                if not self._put(pgconn, functools.partial(pgconn.put_copy_data, piece)):
                    refused = True  # the server gave up on the COPY: its error follows
                    break
        except BaseException:  # a damaged archive, an interruption: leave COPY, then go
            with contextlib.suppress(Exception):
                self._end_copy(pgconn, b"pgarchive: the restore stopped reading the data")
                self._copy_result(pgconn)  # the server's refusal of it, expected
            raise
        if not refused:
            self._end_copy(pgconn, None)
        return self._copy_result(pgconn)

    def _put(self, pgconn: Any, put: Callable[[], int]) -> bool:
        """``put`` (PQputCopyData or PQputCopyEnd) on the non-blocking connection until it
        is taken, then flushed; False when the COPY is no longer in progress (the server
        refused it meanwhile)."""
        import psycopg

        try:
            while put() == 0:
                wait_socket(pgconn, write=True, read=False)
            while pgconn.flush():
                wait_socket(pgconn, write=True, read=False)
        except psycopg.OperationalError as e:
            if self._lost(pgconn):
                raise ConnectionLost(str(e).strip() or "the connection was lost") from None
            return False
        return True

    def _end_copy(self, pgconn: Any, error: bytes | None) -> None:
        """PQputCopyEnd (with an error: the server cancels the COPY), flushed."""
        self._put(pgconn, functools.partial(pgconn.put_copy_end, error))

    def _copy_result(self, pgconn: Any) -> Failure | None:
        """The COPY's outcome: every result until the connection is idle again."""
        import psycopg
        from psycopg import pq

        failure: Failure | None = None
        while True:
            try:
                pgconn.consume_input()
                while pgconn.is_busy():
                    wait_socket(pgconn)
                    pgconn.consume_input()
            except psycopg.OperationalError as e:
                raise ConnectionLost(str(e).strip() or "the connection was lost") from None
            res = pgconn.get_result()
            if res is None:
                return failure
            if res.status == pq.ExecStatus.COPY_IN:  # not ended yet (a refused piece)
                self._end_copy(pgconn, None)
            elif res.status == pq.ExecStatus.FATAL_ERROR and failure is None:
                failure = self._failure(res)

    def _lost(self, pgconn: Any) -> bool:
        from psycopg import pq

        return bool(pgconn.status == pq.ConnStatus.BAD)

    def _failure(self, res: Any) -> Failure:
        """A refusal as a Failure (ConnectionLost when the connection went with it)."""
        from psycopg import pq

        pgconn = self._pgconn
        message = self._message(res.error_message) or self._message(pgconn.error_message)
        if self._lost(pgconn):
            raise ConnectionLost(message.strip() or "the connection was lost")
        state = res.error_field(pq.DiagnosticField.SQLSTATE)
        return Failure(message, state.decode("ascii", "replace") if state else None)

    # -- large objects -----------------------------------------------------------------

    def lo_create(self, oid: int) -> Failure | None:
        """lo_create: the large object with this oid (pg_restore keeps the archive's oids)."""
        _, failure = self.query_value("SELECT pg_catalog.lo_create($1)", [str(oid).encode()],
                                      [OID])
        return failure

    def lo_open(self, oid: int, mode: int) -> tuple[int | None, Failure | None]:
        """lo_open: a descriptor of the large object, or the server's refusal."""
        value, failure = self.query_value("SELECT pg_catalog.lo_open($1, $2)",
                                          [str(oid).encode(), str(mode).encode()], [OID, INT4])
        return (None if value is None else int(value)), failure

    def lo_write(self, fd: int, data: bytes) -> Failure | None:
        """lowrite: append ``data`` to the open large object."""
        _, failure = self.query_value("SELECT pg_catalog.lowrite($1, $2)",
                                      [str(fd).encode(), data], [INT4, BYTEA], [0, 1])
        return failure

    def lo_close(self, fd: int) -> Failure | None:
        """lo_close: close the descriptor."""
        _, failure = self.query_value("SELECT pg_catalog.lo_close($1)", [str(fd).encode()],
                                      [INT4])
        return failure
