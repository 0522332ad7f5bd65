"""The whole restore as one library call: ``run(request) -> RestoreOutcome``.

Open the archive, select, refuse what pg_restore would refuse and empty selections, find
the pg_restores that can do it, connect once and run every read-only check (which also
picks the pg_restore by the server's version), predict which entries will fail on the
target and why (the forecast; with --skip-unrestorable its plan reduces the list and adds
flags), then, unless it is a dry run or a check failed, run pg_restore with a list file
of dump ids and compare the row counts of every table whose data it loaded.  Nothing is
written to the target before the checks pass.
"""

from __future__ import annotations

import os
import tempfile
import threading

from ..archive import Archive
from ..archive import open as open_archive
from ..errors import UsageError
from ..format.model import TocEntry, database_name
from ..listing import id_list, render_list
from ..selection import Decision, Selection, chosen, select
from ..strictnames import unmatched
from . import forecast
from .binaries import READS_UP_TO, PgRestore, choose, find_pg_restores, usable
from .compat import expected
from .forecast import Forecast
from .native import Resume as _Resume
from .outcome import (  # (re-exported: the outcome types are run's API)
    RestoreEvents,
    RestoreOutcome,
    ResumeInfo,
)
from .plan import RestoreRequest, build_command, check_options, needed_major
from .preflight import (
    Facts,
    Finding,
    check_needed,
    check_pooler,
    check_privileges,
    check_roles,
    check_target,
    connect,
    connection_error,
    dumped_from_major,
    looks_pooled,
)
from .rowcheck import (
    NOT_RESTORED,
    TableCheck,
    archive_row_counts,
    compare_rows,
    not_loaded,
)
from .runner import run_pg_restore


def resolve_selection(req: RestoreRequest, entries: list[TocEntry]) -> Selection:
    """The request's selection, built from the TOC when it is a function (for -L files)."""
    return req.selection(entries) if callable(req.selection) else req.selection


def run(req: RestoreRequest, events: RestoreEvents | None = None) -> RestoreOutcome:
    """Restore as ``req`` asks (see the module docstring); raises UsageError for requests
    pg_restore would refuse or that select nothing."""
    ev = events or RestoreEvents()
    with open_archive(req.archive) as a:
        sel = resolve_selection(req, a.entries)
        check_options(req, sel)
        sel.restore.validate()  # the rest of pg_restore's refusals, in its words
        decisions = select(a.entries, sel)
        picked = chosen(decisions)
        missing = unmatched(a.entries, sel.restore)
        if not picked:
            what = "; ".join(missing) if missing else "the options select no entry"
            raise UsageError(f"nothing to restore: {what}")
        if missing and req.strict_names:
            raise UsageError(f"--strict-names: {'; '.join(missing)}")
        vmaj, vmin = a.header.vmaj, a.header.vmin
        major, options = needed_major(req)
        able, native_why = _pg_restores(req, a, vmaj, vmin, major, options)
        entries = [d.entry for d in picked]
        dbname = database_name(entries, a.header.dbname or "") if sel.restore.create else None
        out = RestoreOutcome(req, entries, unmatched=missing)
        resuming = _Resume(req, sel, decisions, a) if req.resume else None
        facts = _preflight(req, sel, decisions, entries, dbname,
                           a.can_seek_data or native_why is not None, a.kind,
                           a.header.server_version, resuming)
        try:
            if native_why is None and req.engine == "auto" and not req.pg_restore:
                native_why = _unsuited(able, vmaj, vmin, facts.server_major, options)
            if native_why is None:
                out.choice = choose(able, vmaj, vmin, facts.server_major,
                                    bool(req.pg_restore), tuple(options))
                if out.choice.newer_than_server and facts.server_major is not None:
                    _newer_binary(req, out, facts, vmaj, vmin)
                pg_major = out.choice.pg.major
            else:  # the native engine speaks the server's dialect (at most pg_restore 18's)
                out.engine, out.engine_reason = "native", native_why
                pg_major = min(facts.server_major or 18, max(READS_UP_TO))
            out.left_out = [e for e in entries if e.dump_id in facts.left_out]
            entries = [e for e in entries if e.dump_id not in facts.left_out]
            if resuming is None or (resuming.found is None and resuming.finished is None):
                # (a resumed target is half restored by design, a finished one whole: its
                # record or its row counts, not a forecast, say what is left to do)
                out.forecast = _forecast(req, sel, facts, a.entries, entries, pg_major)
            if out.forecast is not None and out.forecast.applied:
                assert out.forecast.plan is not None
                kept = {e.dump_id for e in out.forecast.plan.entries}
                facts.left_out |= {e.dump_id for e in entries if e.dump_id not in kept}
                entries = list(out.forecast.plan.entries)
            effective = forecast.applied(req, out.forecast)
            out.findings = _forced(facts.findings, req.force)
            out.entries = entries
            if req.dry_run:  # (what a dry run shows; 0.5 s for 100,000 entries)
                out.listing = render_list(a.header, a.format_name, entries, safe=True)
            target = req.target.with_dbname(dbname) if dbname else req.target
            out.database = target.masked
            if out.refused or req.dry_run:
                if out.choice is not None:
                    out.command = build_command(out.choice.pg, effective, sel, "LIST_FILE",
                                                req.target.masked)
                return out
            if resuming is not None and resuming.finished is not None:
                out.engine, out.tables = "native", resuming.finished
                out.resume = ResumeInfo(skipped=len(entries))
                return out
            if ev.ready:
                ev.ready(out)
            if out.choice is None:
                from .native import restore_natively

                restore_natively(effective, sel, a, out, facts, dbname, decisions, resuming,
                                 ev)
            else:
                _execute(effective, sel, a, out, facts, dbname, ev)
        finally:
            if facts.conn is not None:
                facts.conn.close()
    return out


def _pg_restores(req: RestoreRequest, a: Archive, vmaj: int, vmin: int, major: int,
                 options: list[str]) -> tuple[list[PgRestore], str | None]:
    """The pg_restores that can do it, and why the native engine restores instead (None:
    it depends on the server, or pg_restore was asked for)."""
    if req.engine == "native":
        return [], "--engine native"
    if req.resume:
        return [], "--resume needs it (pg_restore keeps no record of what it has done)"
    if req.engine == "auto" and req.jobs > 1 and not a.can_seek_data and not req.pg_restore:
        kind = ("a tar archive" if a.kind == "tar"
                else "a custom archive written to a pipe")
        return [], (f"-j {req.jobs} with {kind}: pg_restore restores it with one connection "
                    "only")
    try:
        return usable(find_pg_restores(req.pg_restore), vmaj, vmin, req.pg_restore, major,
                      tuple(options)), None
    except UsageError as e:
        if req.engine == "pg_restore" or req.pg_restore:
            raise
        return [], f"no suitable pg_restore: {e}"


def _unsuited(able: list[PgRestore], vmaj: int, vmin: int, server_major: int | None,
              options: list[str]) -> str | None:
    """auto: why no pg_restore suits the server (None: one does)."""
    if server_major is None:
        return None
    choice = choose(able, vmaj, vmin, server_major, False, tuple(options))
    if not choice.newer_than_server:
        return None
    return (f"the only pg_restore that can do it ({choice.pg.describe()}) is newer than the "
            f"PostgreSQL {server_major} server and would send it statements it rejects")


def _preflight(req: RestoreRequest, sel: Selection, decisions: list[Decision],
               entries: list[TocEntry], dbname: str | None, can_seek: bool, kind: str,
               dumped_from: str | None, resuming: _Resume | None = None) -> Facts:
    facts = Facts()
    target = req.target
    if looks_pooled(target):
        facts.error(f"{target.masked} looks like a pooled (PgBouncer-style) endpoint; "
                    "pg_restore needs session state that poolers drop. Use the direct, "
                    "unpooled connection string of the database (or --force)", forcible=True)
        if not req.force:
            return facts
    if req.jobs > 1 and not can_seek:
        why = ("tar archives can only be read from start to end" if kind == "tar"
               else "this custom archive was written to a pipe and records no data offsets")
        facts.error(f"--jobs {req.jobs} is not possible: {why}. Restore with --jobs 1, or "
                    "re-dump with pg_dump -Fc -f FILE or -Fd for parallel restores")
    conn = connect(target, facts)
    if conn is None:
        return facts
    check_pooler(conn, target, facts)
    src = dumped_from_major(dumped_from)
    dst = facts.server_major
    if src is not None and dst is not None and dst < src:
        facts.warning(f"restoring into PostgreSQL {dst}, older than the PostgreSQL {src} the "
                      "archive was dumped from: objects using newer features may fail")
    if resuming is None or not resuming.look(conn, target, dbname, facts):
        check_target(conn, target, sel, entries, dbname, req.clean, facts)
    check_roles(conn, req.role, req.use_set_session_authorization, req.disable_triggers,
                req.superuser, facts)
    if resuming is not None and resuming.found is not None:
        facts.left_out = set(resuming.found.left_out)  # what the restore it resumes left out
    elif sel.with_deps and not sel.restore.create:
        check_needed(conn, decisions, req.clean, facts)
    if not sel.restore.create and not sel.restore.data_only:
        check_privileges(conn, [e for e in entries if e.dump_id not in facts.left_out],
                         req.role, facts)
    if req.disable_triggers and not sel.restore.data_only and any(
            e.defn and e.desc != "TABLE DATA" for e in entries):
        facts.warning("--disable-triggers acts only in a data-only restore (-a); this one "
                      "also creates objects, so pg_restore will not disable triggers")
    return facts


def _forecast(req: RestoreRequest, sel: Selection, facts: Facts,
              archive_entries: list[TocEntry], entries: list[TocEntry],
              pg_major: int) -> Forecast | None:
    """Predict the failures on the pre-flight's connection, and check what the forecast
    refuses (see :mod:`.forecast`); None when the target cannot be read."""
    import psycopg

    if facts.conn is None or not facts.role_usable:
        return None
    try:
        fc = forecast.make(facts.conn, req, sel, archive_entries, entries, pg_major)
    except psycopg.Error as e:
        facts.error("cannot read the target's catalogs to predict which entries will fail: "
                    f"{req.target.mask(connection_error(str(e)))} (--force restores without "
                    "a prediction)", forcible=True)
        return None
    forecast.check(fc, req, facts)
    return fc
def _newer_binary(req: RestoreRequest, out: RestoreOutcome, facts: Facts, vmaj: int,
                  vmin: int) -> None:
    """A pg_restore newer than the server: its known errors are harmless, unless the restore
    stops at the first error."""
    assert out.choice is not None and facts.server_major is not None
    out.expected_errors = expected(out.choice.pg.major, facts.server_major)
    if out.expected_errors and req.stops_at_first_error:
        first = out.expected_errors[0]
        what = ("-1" if req.single_transaction else
                "--transaction-size" if req.transaction_size else "-e")
        readers = [m for m, top in READS_UP_TO.items() if top >= (vmaj, vmin)]
        if readers and min(readers) > facts.server_major:
            fix = (f"no pg_restore of PostgreSQL {facts.server_major} or older reads archive "
                   f"version {vmaj}.{vmin}: leave {what} out, or restore into PostgreSQL "
                   f"{min(readers)} or later")
        else:
            fix = (f"install the pg_restore of PostgreSQL {facts.server_major}, which reads "
                   f"this archive, or leave {what} out")
        facts.error(f"{what} cannot work here: pg_restore {out.choice.pg.major} sends "
                    f"{first.command}, which PostgreSQL {facts.server_major} rejects, and "
                    f"{what} stops at the first error; {fix}")


def _forced(findings: list[Finding], force: bool) -> list[Finding]:
    if not force:
        return findings
    return [Finding("warning", f.message + " [--force: going on]") if f.forcible and
            f.level == "error" else f for f in findings]


def _execute(req: RestoreRequest, sel: Selection, a: Archive, out: RestoreOutcome,
             facts: Facts, dbname: str | None, ev: RestoreEvents) -> None:
    """Run pg_restore (counting the archive's rows meanwhile) and compare."""
    assert out.choice is not None
    counts: dict[int, int] = {}
    failure: list[BaseException] = []

    def count() -> None:
        try:
            counts.update(archive_row_counts(a, out.entries))
        except Exception as e:  # reported after the run
            failure.append(e)

    # The archive's rows are counted while pg_restore runs: its run is the server's work,
    # so the counting costs no wall time on a machine with a second core.
    counter = threading.Thread(target=count, name="pgarchive-row-count", daemon=True)
    counter.start()
    with tempfile.NamedTemporaryFile("wb", prefix="pgarchive-", suffix=".list") as lf:
        lf.write(id_list(out.entries))
        lf.flush()
        with req.target.for_child(dict(os.environ)) as (conninfo, env):
            argv = build_command(out.choice.pg, req, sel, lf.name, conninfo)
            out.command = build_command(out.choice.pg, req, sel, lf.name,
                                        req.target.masked)
            out.run = run_pg_restore(argv, env, req.target.mask, out.expected_errors,
                                     ev.progress, ev.error)
    counter.join()
    if failure:  # pg_restore has run: say what is known, and that counts are not
        out.count_error = str(failure[0])
        return
    skipped = not_loaded(out.entries, out.run, req.jobs > 1, req.single_transaction)
    uncertain = None
    if req.transaction_size and not out.run.completed:
        uncertain = ("pg_restore stopped at an error; the rows of its last --transaction-size "
                     "batch were rolled back")
    conn = facts.conn
    if dbname or conn is None:
        import psycopg

        target = req.target.with_dbname(dbname) if dbname else req.target
        try:
            conn = target.connect()
        except psycopg.Error:
            out.tables = [TableCheck(e, counts[e.dump_id], None, NOT_RESTORED,
                                     f"database {dbname!r} cannot be reached")
                          for e in out.entries if e.dump_id in counts]
            return
        with conn:
            out.tables = compare_rows(conn, out.entries, counts, skipped, uncertain)
        return
    out.tables = compare_rows(conn, out.entries, counts, skipped, uncertain)
