"""The restore of :func:`pgarchive.restore.run` when the native engine does it: --resume's
look at the target before anything is written, and the engine's run with the same
checks, progress, errors and row counts as a pg_restore run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..archive import Archive
from ..errors import ArchiveError
from ..script.options import ScriptOptions, check
from ..selection import Decision, Req, Selection, chosen
from .conninfo import Target
from .engine import EngineRequest, RetryPolicy, run_engine
from .engine import state as resume_state
from .plan import RestoreRequest
from .preflight import Facts
from .rowcheck import MATCH, TableCheck, archive_row_counts, compare_rows, counted_entries

if TYPE_CHECKING:
    import psycopg

    from .outcome import RestoreEvents, RestoreOutcome


def script_options(req: RestoreRequest) -> ScriptOptions:
    """The request's options as the renderer takes them."""
    return ScriptOptions(
        clean=req.clean, if_exists=req.if_exists, no_owner=req.no_owner, role=req.role,
        superuser=req.superuser, use_set_session_authorization=req.use_set_session_authorization,
        disable_triggers=req.disable_triggers, enable_row_security=req.enable_row_security,
        single_transaction=req.single_transaction,
        transaction_size=req.transaction_size or 0, no_tablespaces=req.no_tablespaces,
        no_table_access_method=req.no_table_access_method, restrict_key="pgarchive")


class Resume:
    """--resume before anything is written: is there a record of this restore in the
    target (or, with -C, in the database it creates)?"""

    def __init__(self, req: RestoreRequest, sel: Selection, decisions: list[Decision],
                 archive: Archive) -> None:
        self.fingerprint = resume_state.fingerprint(
            archive.header, decisions, script_options(req),
            {"create": sel.restore.create, "no_data_for_failed_tables":
             req.no_data_for_failed_tables, "with_deps": sel.with_deps})
        self.found: resume_state.Found | None = None
        #: -C: the database exists, and the restore continues in it
        self.resume_db: str | None = None
        #: no record, but the target holds every table with the archive's row counts: the
        #: restore had finished (the record goes last; a run killed just after that left
        #: nothing to resume), and these are the checks that say so
        self.finished: list[TableCheck] | None = None
        self._archive = archive
        self._entries = [d.entry for d in chosen(decisions)]

    def look(self, conn: psycopg.Connection[Any], target: Target, dbname: str | None,
             facts: Facts) -> bool:
        """Look for the record; True when the restore resumes (or the record is another
        restore's: then an error is among the findings), so the target is not expected to
        be empty."""
        import psycopg

        if dbname is None:
            found = resume_state.find(conn)
        else:
            row = conn.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s",
                               (dbname,)).fetchone()
            if row is None:
                return False
            try:
                with target.with_dbname(dbname).connect() as other:
                    found = resume_state.find(other)
                    empty = found is None and not _relations(other)
            except psycopg.Error:
                return False
            if found is None:
                if not empty:
                    try:
                        with target.with_dbname(dbname).connect() as other:
                            return self._had_finished(other, facts)
                    except psycopg.Error:
                        return False
                # made by a run that stopped before it could record anything in it
                found = resume_state.Found(self.fingerprint)
            self.resume_db = dbname
        if found is None:
            return dbname is None and self._had_finished(conn, facts)
        if found.fingerprint != self.fingerprint:
            facts.error(f"the target holds the --resume record ({resume_state.SCHEMA}) of "
                        f"another restore, started {found.started or 'earlier'}: another "
                        "archive or other options. Finish that restore with its own command, "
                        f"or DROP SCHEMA {resume_state.SCHEMA} CASCADE to forget it")
            return True
        self.found = found
        return True


    def _had_finished(self, conn: psycopg.Connection[Any], facts: Facts) -> bool:
        """No record in a non-empty target: did this restore finish there?  Yes when every
        table the archive loads is present with the archive's row count."""
        if not _relations(conn):
            return False
        counted = counted_entries(self._entries)
        if not counted:
            return False
        try:
            counts = archive_row_counts(self._archive, counted)
        except ArchiveError:
            return False
        checks = compare_rows(conn, counted, counts, {})
        if len(checks) != len(counted) or any(c.status != MATCH for c in checks):
            return False
        self.finished = checks
        facts.warning("--resume: the target holds no record of this restore, but every "
                      f"table ({len(checks)}) is there with the archive's row count: the "
                      "restore had finished; nothing to do")
        return True


def _relations(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON "
        "n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'").fetchone()
    return int(row[0]) if row else 0


def restore_natively(req: RestoreRequest, sel: Selection, a: Archive, out: RestoreOutcome,
                     facts: Facts, dbname: str | None, decisions: list[Decision],
                     resuming: Resume | None, ev: RestoreEvents) -> None:
    """Run the native engine (the checks have passed and ``ev.ready`` was called) and
    compare the row counts, filling in ``out``."""
    from .outcome import ResumeInfo

    found = resuming.found if resuming is not None else None
    out.resume = ResumeInfo(len(found.done), found.started) if found else \
        (ResumeInfo() if req.resume else None)
    left_out = facts.left_out
    for d in decisions:
        if d.entry.dump_id in left_out:
            d.reqs = Req.NONE
    done = set(found.done) if found else set()
    if resuming is not None and resuming.resume_db:  # -C: the database is there already
        for d in decisions:
            if d.entry.desc == "DATABASE":
                done |= {(d.entry.dump_id, "schema"), (d.entry.dump_id, "drop")}
            elif d.entry.desc == "DATABASE PROPERTIES":
                done.add((d.entry.dump_id, "drop"))
    if found is not None:
        found.done = done
    elif resuming is not None and resuming.resume_db:
        found = resume_state.Found(resuming.fingerprint, done)
    opts = check(sel.restore, script_options(req))
    eng = EngineRequest(
        req.archive, a.header, a.encoding, req.target, decisions, opts,
        create=sel.restore.create, dump_schema=sel.restore.dump_schema, jobs=req.jobs,
        exit_on_error=req.stops_at_first_error,
        no_data_for_failed_tables=req.no_data_for_failed_tables, resume=req.resume,
        keep_state=req.keep_state, retry=RetryPolicy(req.retries),
        server_major=facts.server_major,
        fingerprint=resuming.fingerprint if resuming else "",
        left_out=sorted(left_out), found=found,
        resume_db=resuming.resume_db if resuming else None,
        data_length=lambda e: a.stored_size(e) or 0)
    result = run_engine(eng, ev.progress, ev.error)
    out.run = result.run
    out.interrupted = result.interrupted
    if out.resume is not None:
        out.resume.skipped = result.skipped
        out.resume.kept = result.state_kept
    counts = dict(result.counts)
    missing = [e for e in counted_entries(out.entries) if e.dump_id not in counts]
    try:  # the tables a previous run loaded (--resume), or whose COPY was refused
        counts.update(archive_row_counts(a, missing))
    except ArchiveError as e:
        out.count_error = str(e)
        return
    _compare(req, out, facts, result.database, counts, result.not_loaded, result.uncertain)


def _compare(req: RestoreRequest, out: RestoreOutcome, facts: Facts, database: str,
             counts: dict[int, int], not_loaded: dict[int, str], uncertain: str | None
             ) -> None:
    import psycopg

    from .rowcheck import NOT_RESTORED

    conn = facts.conn
    if conn is not None and conn.info.dbname == database:
        out.tables = compare_rows(conn, out.entries, counts, not_loaded, uncertain)
        return
    try:
        other = req.target.with_dbname(database).connect()
    except psycopg.Error:
        out.tables = [TableCheck(e, counts[e.dump_id], None, NOT_RESTORED,
                                 f"database {database!r} cannot be reached")
                      for e in out.entries if e.dump_id in counts]
        return
    with other:
        out.tables = compare_rows(other, out.entries, counts, not_loaded, uncertain)
