"""Statements sent without waiting for each result (libpq's pipeline mode), with the
outcome of pg_restore's one PQexec per statement.

pg_restore waits for every statement's result before it sends the next: on a schema of
tens of thousands of objects, the server and the client take turns, each idle while the
other works.  Here a statement that is certainly one command goes with the extended query
protocol and a Sync of its own, so the server runs and commits it alone, as it runs a
PQexec in autocommit; its result is read later, in order, and a failure is handed back
with what the sender attached to it (its entry), so that the restore reports it as that
entry's error and goes on, as pg_restore does.  Only what cannot change what is sent next
is sent this way (see Executor): the caller settles the pipeline -- reads every result --
before anything that waits for an answer (a COPY, a query, a reconnection).  After Ctrl-C
the statement running is cancelled and the connection closed; statements sent after it
(at most DEPTH) may have run by then, each committed on its own, as they would have been a
moment later without the pipeline (it is not used with --resume, whose steps are
transactions).
"""

from __future__ import annotations

import select
from collections import deque
from collections.abc import Callable
from typing import Any

#: statements in flight at most; then the oldest results are read (bounds what the
#: client and the server buffer)
DEPTH = 256

#: the libpq statuses (pq.ExecStatus) read here, as ints: the pipeline reads one per
#: statement, and an enum's lookup costs more than the comparison
FATAL_ERROR = 7
PIPELINE_SYNC = 10


def one_statement(text: str) -> bool:
    """Whether ``text`` is certainly a single command that the extended protocol runs as
    the simple protocol would: one semicolon, at its end, and no dollar sign (no dollar
    quoting, no parameter symbol) or COPY in it.  (Anything else goes the usual way.)"""
    t = text.rstrip()
    return (t.endswith(";") and t.count(";") == 1 and "$" not in t and "\0" not in t
            and "copy" not in t.lower())


def wait_socket(pgconn: Any, write: bool = False, read: bool = True) -> None:
    """Wait (the GIL released) until the connection's socket can be read or written."""
    poller = select.poll()
    poller.register(pgconn.socket, (select.POLLIN if read else 0) |
                    (select.POLLOUT if write else 0))
    poller.poll()


class Pipeline:
    """The statements of one connection whose results are still to be read."""

    def __init__(self, pgconn: Any, failed: Callable[[object, Any], None],
                 lost: Callable[[str], BaseException]) -> None:
        self.pgconn = pgconn
        self.failed = failed  # (context, PGresult of the error): report it
        self.lost = lost      # message -> the exception of a lost connection
        self.pending: deque[object] = deque()
        #: the context of the statement whose result is being read (notices name it)
        self.reading: object | None = None

    def send(self, data: bytes, context: object) -> None:
        """Send one statement and a Sync; read the oldest results once DEPTH are pending."""
        import psycopg

        pgconn = self.pgconn
        try:
            if not pgconn.pipeline_status:
                pgconn.enter_pipeline_mode()
            pgconn.send_query_params(data, None)
            pgconn.pipeline_sync()
            while pgconn.flush():  # the server is behind: read what it sent meanwhile
                wait_socket(pgconn, write=True)
                pgconn.consume_input()
        except psycopg.OperationalError as e:
            raise self.lost(str(e).strip()) from None
        self.pending.append(context)
        if len(self.pending) >= DEPTH:
            while len(self.pending) > DEPTH // 2:
                self._read_one()

    def settle(self) -> None:
        """Read every pending result (reporting failures in order) and leave pipeline
        mode, so that the connection can be used the usual way."""
        import psycopg

        while self.pending:
            self._read_one()
        if self.pgconn.pipeline_status:
            try:
                self.pgconn.exit_pipeline_mode()
            except psycopg.OperationalError as e:
                raise self.lost(str(e).strip()) from None

    def _read_one(self) -> None:
        context = self.pending.popleft()
        self.reading = context
        try:
            error = None
            while (res := self._next()) is not None:  # the statement's results, then NULL
                if res.status == FATAL_ERROR and error is None:
                    error = res
            sync = self._next()
            if sync is None or sync.status != PIPELINE_SYNC:
                message = (sync.error_message if sync is not None else b"") or \
                    self.pgconn.error_message
                raise self.lost(bytes(message or b"").decode("utf-8", "replace").strip() or
                                "the pipeline lost its place")
            if error is not None:
                self.failed(context, error)
        finally:
            self.reading = None

    def _next(self) -> Any:
        import psycopg

        pgconn = self.pgconn
        try:
            while pgconn.is_busy():
                wait_socket(pgconn)
                pgconn.consume_input()
        except psycopg.OperationalError as e:
            raise self.lost(str(e).strip()) from None
        return pgconn.get_result()
