"""The native restore from start to end: pg_restore's RestoreArchive, serial or parallel.

Serial (-j 1): the fixed settings, --clean's drops, then every entry in TOC order in
three passes (main, ACLs, post-ACL), all on one connection.  Parallel (-j N): the leader
does the same up to the end of the pre-data entries of the main pass, then N worker
connections restore the rest as :mod:`.scheduler` allows, and the leader mops up what
no pass could take.  Unlike pg_restore, a tar or piped custom archive restores in
parallel too: each connection reads the archive file on its own (every format is read
through a memory map, so any entry's data can be found from anywhere).

The engine runs in a thread of its own; the calling thread waits, so that Ctrl-C reaches
it at once: the running statements are cancelled, the connections closed (what was in
flight is rolled back), and with --resume the same command finishes the restore later.
A lost connection is connected again (bounded, with back-off) when the step that was
running can be redone: with --resume, outside -1 and --transaction-size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ... import archive as archive_mod
from ...format.model import Header, TocEntry
from ...script import model as m
from ...script.options import ScriptOptions
from ...script.renderer import PASS_MAIN, Renderer, restore_pass
from ...script.target import Adapter
from ...selection import Decision, Req
from ..conninfo import Target
from ..rowcheck import counted_entries
from ..runner import PgError, RunResult
from . import state
from .connection import ConnectionLost, RetryPolicy, Session
from .executor import DB_DESCS, ErrorLog, Executor, Shared, Stop
from .scheduler import Job, Plan

_WANTED = int(Req.SCHEMA | Req.DATA | Req.STATS)
NEWEST_RULES = 18  # --target-version's rules adapt statements for servers before this


@dataclass
class EngineRequest:
    """What the native engine restores, where, and how."""

    archive_path: str
    header: Header
    codec: str
    target: Target
    #: every entry in restore order; what is not restored has reqs 0
    decisions: list[Decision]
    opts: ScriptOptions
    create: bool = False
    dump_schema: bool = True
    jobs: int = 1
    exit_on_error: bool = False
    no_data_for_failed_tables: bool = False
    resume: bool = False
    keep_state: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    server_major: int | None = None
    #: --resume: what identifies this restore, and what --with-deps left out
    fingerprint: str = ""
    left_out: Sequence[int] = ()
    #: --resume: the state found in the target (None: a fresh start)
    found: state.Found | None = None
    #: -C with --resume: the database exists already; connect straight to it
    resume_db: str | None = None
    #: the stored size of an entry's data (the parallel priority)
    data_length: Callable[[TocEntry], int] = lambda _e: 0


@dataclass
class EngineResult:
    """What the engine did: the errors (as a pg_restore run's), the rows it streamed,
    and which tables' data did not go in, and why."""

    run: RunResult
    counts: dict[int, int]
    not_loaded: dict[int, str]
    database: str
    skipped: int = 0
    interrupted: bool = False
    stopped: str | None = None
    state_kept: bool = False
    uncertain: str | None = None


class Engine:
    """One native restore."""

    def __init__(self, req: EngineRequest, on_progress: Callable[[str], None] | None,
                 on_error: Callable[[PgError], None] | None) -> None:
        self.req = req
        self.on_progress = on_progress
        self.log = ErrorLog(req.target.mask, on_error, req.exit_on_error)
        found = req.found
        done = set(found.done) if found else set()
        self.inhibited: set[int] = {i for i, p in done if p == "inhibited"}
        done |= {(i, m.DATA_PHASE) for i in self.inhibited}
        self.shared = Shared(req.archive_path, self.log, req.resume, done)
        self.renderer = Renderer(req.header, req.decisions, req.opts, create=req.create,
                                 dump_schema=req.dump_schema, warn=self._warn,
                                 comments=False)
        self.sessions: list[Session] = []
        self.sessions_lock = threading.Lock()
        self.interrupted = False
        self.finished_ids: set[int] = set()
        self.table_data: dict[int, Decision] = {
            d.entry.dependencies[0]: d for d in req.decisions
            if d.entry.desc == "TABLE DATA" and d.entry.dependencies}
        self.database = req.target.dbname or ""
        self.completed = False

    # -- small helpers -----------------------------------------------------------------

    def _warn(self, text: str) -> None:
        self.log.note(f"pgarchive: warning: {text}")

    def _adapter(self) -> Adapter | None:
        major = self.req.server_major
        return Adapter(major) if major is not None and major < NEWEST_RULES else None

    def _session(self) -> Session:
        s = Session(self.req.target, self.req.codec, self.req.retry,
                    on_retry=lambda text: self.log.note(f"pgarchive: warning: {text}"))
        with self.sessions_lock:
            self.sessions.append(s)
        return s

    def _executor(self, session: Session, archive: archive_mod.Archive, renderer: Renderer,
                  worker: bool) -> Executor:
        o = self.req.opts
        ex = Executor(session, archive, renderer, self.shared, self._adapter(),
                      global_txn=not worker and (o.single_transaction or
                                                 o.transaction_size > 0),
                      parallel=worker, clean=o.clean)

        def notice(text: str) -> None:
            entry = ex.notice_entry()
            where = f"TOC entry {entry.label}: " if entry is not None else ""
            self.log.note(f"pgarchive: warning: {where}{text}")

        session.on_notice = notice
        ex.on_connect = self._connected
        return ex

    def _progress(self, step: m.Step) -> None:
        e = step.entry
        if e is None or self.on_progress is None:
            return
        name = f"{e.namespace}.{e.tag}" if e.namespace else e.tag
        verb = {m.DROP: "dropping", m.DATA_PHASE: "processing data for",
                m.STATS: "restoring statistics for"}.get(step.phase, "creating")
        self.on_progress(f"{verb} {e.desc} \"{name}\"")

    def interrupt(self) -> None:
        """Ctrl-C: stop, cancelling what runs (from the waiting thread)."""
        self.interrupted = True
        self.log.interrupted = True
        with self.sessions_lock:
            for s in self.sessions:
                s.cancel()

    # -- the state of --resume ---------------------------------------------------------

    def _make_state(self, ex: Executor) -> None:
        for sql in state.create_statements(self.req.fingerprint, self.req.left_out):
            ex._must(sql, None)

    def _connected(self, ex: Executor) -> None:
        """After the CONNECT of -C: the new database holds the state."""
        self.database = ex.session.dbname
        if self.req.resume:
            self._make_state(ex)

    def _record(self, ex: Executor, dump_id: int, phase: str) -> None:
        if self.req.resume:
            ex._must(state.record_statement(dump_id, phase), None)

    def _drop_state(self) -> None:
        """The restore is complete: forget its record (on a new connection, made again
        if it is lost, as any step's would be: a record left behind makes the next
        --resume take a finished restore for a half-done one)."""
        s = Session(self.req.target.with_dbname(self.database), self.req.codec,
                    self.req.retry)

        def drop() -> None:
            s.open()
            failure = s.execute(state.DROP_STATEMENT)
            if failure is not None:
                self._warn(f"could not drop the resume state ({state.SCHEMA}): "
                           f"{failure.message.strip()}")

        try:
            self._again(drop, " to drop the resume state")
        except ConnectionLost as e:
            self._warn(f"could not drop the resume state ({state.SCHEMA}): {e}")
        finally:
            s.close()

    def _again(self, attempt: Callable[[], None], purpose: str = "",
               retry: bool = True) -> None:
        """Run ``attempt``, connecting again after a lost connection with the retry
        policy's back-off (when ``retry``, and not after Ctrl-C); ConnectionLost once the
        retries are spent."""
        delays = self.req.retry.delays()
        while True:
            try:
                attempt()
                return
            except ConnectionLost as lost:
                delay = next(delays, None) if retry and not self.interrupted else None
                if delay is None:
                    raise
                self._warn(f"connection lost ({lost}); connecting again in {delay:g} s"
                           f"{purpose}")
                self.req.retry.sleep(delay)

    # -- steps and entries -------------------------------------------------------------

    def _can_retry(self, ex: Executor, step: m.Step) -> bool:
        e = step.entry
        return (self.req.resume and not ex.global_txn and not self.interrupted and
                (e is None or e.desc not in DB_DESCS))

    def _step(self, ex: Executor, step: m.Step,
              saved: tuple[str | None, str | None, str | None, str | None]) -> int:
        """One step, done again on a new connection if the connection is lost."""
        delays = self.req.retry.delays()
        while True:
            try:
                return ex.run(step)
            except ConnectionLost as lost:
                if self.interrupted:
                    raise Stop("interrupted") from None
                if not self._can_retry(ex, step):
                    hint = ("" if self.req.resume else
                            "; restore with --resume to survive a lost connection")
                    self.log.error(step.entry, f"connection lost: {lost}{hint}", fatal=True)
                delay = next(delays, None)
                if delay is None:
                    self.log.error(step.entry, f"connection lost: {lost}; gave up after "
                                   f"{self.req.retry.retries} retries", fatal=True)
                    raise AssertionError("unreachable") from None
                self._warn(f"connection lost ({lost}); connecting again in {delay:g} s and "
                           "redoing the step that was in flight")
                self.req.retry.sleep(delay)
                try:
                    self._reconnect(ex, saved)
                except ConnectionLost:
                    continue  # counts against the retries
                e = step.entry
                if e is not None and step.phase in state.RECORDED and \
                        ex.recorded(e, step.phase):
                    return 0  # its COMMIT made it before the connection went

    def _open(self, ex: Executor, dbname: str) -> None:
        """Connect a worker (or the leader after the workers) and set its session up; with
        --resume a connection lost meanwhile (a terminated backend) is made again."""

        def connect() -> None:
            ex.session.open(dbname)
            ex.run(ex.adapt(m.Step(None, m.PREAMBLE, ex.renderer.fixed_state())))

        self._again(connect, retry=self.req.resume)

    def _reconnect(self, ex: Executor,
                   saved: tuple[str | None, str | None, str | None, str | None]) -> None:
        ex.session.open(ex.session.dbname)
        ex.run(ex.adapt(m.Step(None, m.PREAMBLE, ex.renderer.fixed_state())))
        ex.run(m.Step(None, m.PREAMBLE, ex.renderer.restore_session(saved)))

    def _entry(self, ex: Executor, d: Decision) -> None:
        """restore_toc_entry(): every step of one entry."""
        if not int(d.reqs) & _WANTED:
            return
        e = d.entry
        steps = ex.renderer.entry(d)
        while True:
            saved = ex.renderer.session()
            step = next(steps, None)
            if step is None:
                break
            self._progress(step)
            was_done = (e.dump_id, step.phase) in self.shared.done
            errors = self._step(ex, ex.adapt(step), saved)
            if e.desc == "TABLE" and step.phase == m.SCHEMA:
                self._table_made(ex, e, errors == 0 or was_done)
        self.finished_ids.add(e.dump_id)

    def _table_made(self, ex: Executor, e: TocEntry, ok: bool) -> None:
        """mark_create_done() or, with --no-data-for-failed-tables,
        inhibit_data_for_failed_table()."""
        data = self.table_data.get(e.dump_id)
        if data is None:
            return
        if ok:
            self.shared.created.add(data.entry.dump_id)
        elif self.req.no_data_for_failed_tables and int(data.reqs) & int(Req.DATA):
            self._warn(f"table \"{e.tag}\" could not be created, will not restore its data")
            data.reqs = Req(int(data.reqs) & ~int(Req.DATA))
            self.inhibited.add(data.entry.dump_id)
            self._record(ex, data.entry.dump_id, "inhibited")

    # -- the whole restore -------------------------------------------------------------

    def main(self) -> None:
        """Run the whole restore: the leader's connection, the workers, the record of what is
        done."""
        req = self.req
        a = archive_mod.open(req.archive_path, read_toc=False)
        leader = self._session()
        try:
            leader.open(req.resume_db)
            if req.resume_db:
                self.database = req.resume_db
            ex = self._executor(leader, a, self.renderer, worker=False)
            if req.resume and (not req.create or req.resume_db):
                self._make_state(ex)
            ex.run(ex.adapt(self.renderer.preamble()))
            if req.opts.clean:
                saved = self.renderer.session()
                for step in self.renderer.drops():
                    self._progress(step)
                    self._step(ex, ex.adapt(step), saved)
                    saved = self.renderer.session()
            if req.jobs > 1:
                self._parallel(ex)
            else:
                ex.pipeline = self._may_send_ahead()
                self._serial(ex)
                ex.settle()
                ex.pipeline = False
            ex.run(ex.adapt(self.renderer.epilogue()))
            self.completed = True
        finally:
            leader.close()
            a.close()

    def _may_send_ahead(self) -> bool:
        """Whether the serial restore may send statements without waiting for each result
        (:mod:`.pipeline`): only where no statement's outcome changes what is sent after
        it -- not with -e (nothing runs after the first error), -1 or --transaction-size
        (an error aborts the transaction the next statements run in), --resume (each step
        is a transaction with its record) or --no-data-for-failed-tables (a table's
        failure decides whether its data goes)."""
        req, o = self.req, self.req.opts
        return not (req.exit_on_error or req.resume or req.no_data_for_failed_tables or
                    o.single_transaction or o.transaction_size > 0)

    def _serial(self, ex: Executor) -> None:
        later: list[list[Decision]] = [[], []]
        for d in self.req.decisions:
            if not int(d.reqs) & _WANTED:
                continue
            which = restore_pass(d.entry)
            if which == PASS_MAIN:
                self._entry(ex, d)
            else:
                later[which - 1].append(d)
        for group in later:
            for d in group:
                self._entry(ex, d)

    def _parallel(self, leader: Executor) -> None:
        req = self.req
        plan = Plan(req.decisions, req.data_length, req.header.version)
        for job in plan.prefork():
            self._entry(leader, job.decision)
        if req.opts.transaction_size > 0:
            leader._must("COMMIT", None)
        dbname = leader.session.dbname
        leader.session.close()  # N connections in all, as pg_restore keeps to
        outbox: queue.Queue[tuple[_Worker, Job | None, BaseException | None]] = queue.Queue()
        workers = [_Worker(self, i, dbname, outbox) for i in range(req.jobs)]
        for w in workers:
            w.start()
        try:
            self._dispatch(plan, workers, outbox)
        finally:
            for w in workers:
                w.inbox.put(None)
            for w in workers:
                w.join()
        self._open(leader, dbname)
        for job in plan.leftovers():
            self._entry(leader, job.decision)

    def _dispatch(self, plan: Plan, workers: list[_Worker],
                  outbox: queue.Queue[tuple[_Worker, Job | None, BaseException | None]]
                  ) -> None:
        """restore_toc_entries_parallel()'s loop."""
        plan.start()
        idle: list[_Worker] = []
        running: dict[_Worker, Job] = {}
        failure: BaseException | None = None
        started = 0

        def handle(w: _Worker, job: Job | None, exc: BaseException | None) -> None:
            nonlocal failure, started
            if job is None:  # the worker connected (or could not)
                started += 1
                if exc is None:
                    idle.append(w)
                elif failure is None:
                    failure = exc
                return
            del running[w]
            if exc is None:
                plan.finished(job)
                idle.append(w)
            elif failure is None:
                failure = exc

        while True:
            try:
                while True:
                    handle(*outbox.get_nowait())
            except queue.Empty:
                pass
            stopping = failure is not None or self.interrupted
            job = plan.pop(running.values()) if idle and not stopping else None
            if job is not None:
                if not job.wanted:  # not restored: it only passes its dependencies on
                    plan.finished(job)
                    continue
                w = idle.pop()
                running[w] = job
                w.inbox.put(job)
                continue
            if not running and started == len(workers):
                if stopping or not plan.advance():
                    break
                continue
            handle(*outbox.get())
        if failure is not None:
            raise failure
        if self.interrupted:
            raise Stop("interrupted")

    # -- the result --------------------------------------------------------------------

    def result(self) -> EngineResult:
        """What the restore did, in the form of a pg_restore run (errors, finished entries)."""
        req = self.req
        errors = list(self.log.errors)
        completed = self.completed
        run = RunResult(0 if completed and not errors else 1, errors,
                        len(errors) if completed else None, set(self.finished_ids))
        for note, n in sorted(self.shared.adapted.items()):
            times = f" ({n} statements)" if n > 1 else ""
            self.log.note(f"pgarchive: note: adapted for the PostgreSQL {req.server_major} "
                          f"server{times}: {note}")
        failed = {e.entry for e in errors if e.entry is not None}
        done_before = {i for i, p in self.shared.done if p == m.DATA_PHASE}
        not_loaded: dict[int, str] = {}
        o = req.opts
        for e in counted_entries([d.entry for d in req.decisions
                                  if int(d.reqs) & int(Req.DATA) or
                                  d.entry.dump_id in self.inhibited]):
            i = e.dump_id
            if i in self.inhibited:
                not_loaded[i] = ("its table could not be created "
                                 "(--no-data-for-failed-tables)")
            elif o.single_transaction and not completed:
                not_loaded[i] = "-1 rolled the whole restore back"
            elif i in self.shared.loaded or i in done_before:
                continue
            elif i in failed:
                not_loaded[i] = "its data could not be loaded (errors above)"
            elif not completed:
                not_loaded[i] = ("the restore was interrupted before it" if self.interrupted
                                 else "the restore stopped before it")
            else:
                not_loaded[i] = "its data was not loaded"
        uncertain = None
        if o.transaction_size and not completed:
            uncertain = ("the restore stopped inside a --transaction-size batch; the rows of "
                         "that batch were rolled back")
        return EngineResult(run, dict(self.shared.counts), not_loaded, self.database,
                            self.shared.skipped, self.interrupted, self.log.stopped,
                            req.resume and (req.keep_state or not completed), uncertain)


class _Worker(threading.Thread):
    """A parallel worker: its own connection, archive reader and session state."""

    def __init__(self, engine: Engine, index: int, dbname: str,
                 outbox: queue.Queue[tuple[_Worker, Job | None, BaseException | None]]
                 ) -> None:
        super().__init__(name=f"pgarchive-worker-{index}", daemon=True)
        self.engine = engine
        self.dbname = dbname
        self.outbox = outbox
        self.inbox: queue.Queue[Job | None] = queue.Queue()

    def run(self) -> None:
        eng = self.engine
        session = eng._session()
        archive = None
        try:
            try:
                archive = archive_mod.open(eng.req.archive_path, read_toc=False)
                ex = eng._executor(session, archive, eng.renderer.worker(), worker=True)
                eng._open(ex, self.dbname)
            except BaseException as exc:  # reported to the leader, which stops
                self.outbox.put((self, None, exc))
                return
            self.outbox.put((self, None, None))
            while True:
                job = self.inbox.get()
                if job is None:
                    return
                try:
                    eng._entry(ex, job.decision)
                except BaseException as exc:  # reported to the leader, which stops
                    self.outbox.put((self, job, exc))
                    return
                self.outbox.put((self, job, None))
        finally:
            session.close()
            if archive is not None:
                archive.close()


def run_engine(req: EngineRequest, on_progress: Callable[[str], None] | None = None,
               on_error: Callable[[PgError], None] | None = None) -> EngineResult:
    """Restore natively; returns when done, stopped, or interrupted by Ctrl-C."""
    engine = Engine(req, on_progress, on_error)
    failure: list[BaseException] = []

    def main() -> None:
        try:
            engine.main()
        except Stop:
            pass
        except ConnectionLost as e:
            engine.log.stopped = engine.log.stopped or "stopped: the connection was lost"
            engine.log.errors.append(PgError(req.target.mask(f"pgarchive: error: {e}"),
                                             None))
            if engine.log.on_error:
                engine.log.on_error(engine.log.errors[-1])
        except BaseException as e:  # re-raised in the calling thread
            failure.append(e)

    thread = threading.Thread(target=main, name="pgarchive-engine", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.25)
    except KeyboardInterrupt:
        engine.interrupt()
        thread.join()
    if failure:
        raise failure[0]
    result = engine.result()
    if engine.completed and req.resume and not req.keep_state:
        engine._drop_state()
    return result
