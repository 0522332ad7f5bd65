"""``pgarchive restore``: options in, ``pgarchive.restore.run``, the outcome rendered."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

import click

from .app import cli
from .options import build_selection, selection_options

if TYPE_CHECKING:
    from ..restore import PgError, RestoreOutcome


@cli.command(short_help="Restore the archive, or the selected part, with pg_restore or "
                        "natively: checked before, watched while it runs, row counts "
                        "compared after.")
@click.argument("archive")
@click.option("-d", "--dbname", "target", required=True, metavar="CONNINFO_OR_URL",
              help="Where to restore: a libpq connection string or URL (PG* variables, "
                   ".pgpass and service files work as for psql). With -C, the database "
                   "to connect to first.")
@selection_options
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Parallel jobs (pg_restore -j): tables loaded and indexes built on N "
                   "connections. pg_restore needs a custom archive written to a file, or a "
                   "directory; the native engine also takes tar and piped custom archives.")
@click.option("-c", "--clean", is_flag=True,
              help="Drop each object before creating it (pg_restore -c); use with "
                   "--if-exists. Objects --with-deps adds only because they are needed are "
                   "never dropped.")
@click.option("--if-exists", is_flag=True,
              help="With --clean: DROP ... IF EXISTS, so objects the target lacks are no "
                   "error.")
@click.option("-O", "--no-owner", is_flag=True,
              help="Do not set owners: everything belongs to the role that restores.")
@click.option("--role", metavar="ROLE", help="SET ROLE to this role before restoring.")
@click.option("-1", "--single-transaction", is_flag=True,
              help="Restore in one transaction: all or nothing (stops at the first error).")
@click.option("-e", "--exit-on-error", is_flag=True,
              help="Stop at the first error instead of going on (pg_restore's default).")
@click.option("--disable-triggers", is_flag=True,
              help="With -a: disable triggers, foreign-key checks included, while loading "
                   "(needs a superuser); so tables linked by foreign keys load in any order.")
@click.option("-S", "--superuser", metavar="NAME",
              help="The superuser --disable-triggers acts as.")
@click.option("--no-tablespaces", is_flag=True,
              help="Create everything in the default tablespace.")
@click.option("--no-table-access-method", is_flag=True,
              help="Create tables with the default access method (pg_restore 15 or later).")
@click.option("--use-set-session-authorization", is_flag=True,
              help="Set owners with SET SESSION AUTHORIZATION instead of ALTER OWNER "
                   "(needs a superuser).")
@click.option("--enable-row-security", is_flag=True,
              help="Load data with row security on (for tables with policies, when not "
                   "restoring as their owner or a superuser).")
@click.option("--no-data-for-failed-tables", is_flag=True,
              help="Do not load the data of a table whose CREATE failed (e.g. it existed).")
@click.option("--transaction-size", type=click.IntRange(1, 2**31 - 1), metavar="N",
              help="Commit after every N objects (pg_restore 17 or later); stops at the "
                   "first error.")
@click.option("--dry-run", is_flag=True,
              help="Run every check (read-only) and print the predicted failures grouped by "
                   "cause, the pg_restore command and the entries; change nothing. Exits as "
                   "the restore would before starting.")
@click.option("--skip-unrestorable", is_flag=True,
              help="Leave out the entries predicted to fail on this target (and what depends "
                   "on them); add -O, --no-tablespaces or --no-table-access-method where "
                   "only an entry's owner, tablespace or access method would fail.")
@click.option("--exit-on-prediction", is_flag=True,
              help="Refuse (exit 2, nothing written) when any entry is predicted to fail.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the outcome as JSON on stdout: the predicted failures (dump_id, "
                   "desc, name, cause, because_of...), the checks, the command and, after a "
                   "real run, the row counts.")
@click.option("--pg-restore", "pg_restore_path", type=click.Path(dir_okay=False),
              help="The pg_restore to run (default: the newest not newer than the server "
                   "that reads the archive).")
@click.option("--force", is_flag=True,
              help="Go on when a check that can be overridden fails (non-empty target, "
                   "pooler, missing roles, owners the role cannot act as, existing "
                   "database).")
@click.option("--engine", type=click.Choice(["auto", "native", "pg_restore"]),
              default="auto", show_default=True,
              help="Who restores: pg_restore, or pgarchive's native engine (no PostgreSQL "
                   "client needed: statements, COPY and large objects sent over its own "
                   "connections, as pg_restore sends them). auto: pg_restore when one reads "
                   "the archive and is not newer than the server, else native.")
@click.option("--resume", is_flag=True,
              help="Native engine: record each finished entry in the target (schema "
                   "pgarchive_resume, in the entry's own transaction), and skip what is "
                   "recorded: after a crash, a lost connection or Ctrl-C, the same command "
                   "with --resume finishes the restore. Lost connections are also made again "
                   "and the entry in flight redone (see --retries).")
@click.option("--keep-state", is_flag=True,
              help="With --resume: keep the record (schema pgarchive_resume) when the "
                   "restore has finished, instead of dropping it.")
@click.option("--retries", type=click.IntRange(0, 1000), default=5, show_default=True,
              metavar="N",
              help="Native engine: how often a connection that cannot be made, or (with "
                   "--resume) one that is lost, is tried again, waiting 1, 2, 4 ... up to 30 "
                   "seconds in between.")
def restore(archive: str, target: str, jobs: int, clean: bool, if_exists: bool,
            no_owner: bool, role: str | None, single_transaction: bool, exit_on_error: bool,
            disable_triggers: bool, superuser: str | None, no_tablespaces: bool,
            no_table_access_method: bool, use_set_session_authorization: bool,
            enable_row_security: bool, no_data_for_failed_tables: bool,
            transaction_size: int | None, dry_run: bool, skip_unrestorable: bool,
            exit_on_prediction: bool, as_json: bool, pg_restore_path: str | None,
            force: bool, engine: str, resume: bool, keep_state: bool, retries: int,
            **kw: Any) -> None:
    """Restore ARCHIVE (or the selected part) with pg_restore or pgarchive's native
    engine, checked before, visible while it runs, and verified by row counts afterwards.

    Before anything is written, the target's catalogs are read (as the restoring role)
    and the entries pg_restore will fail on are predicted, with why and the fix: --dry-run
    prints that report, a real run warns with it and proceeds as pg_restore would.

    Exit status: 0 restored and every row count matches; 1 the restore reported errors,
    was interrupted, or counts differ; 2 nothing was done (checks failed, bad usage,
    --exit-on-prediction).

    \b
    Examples:
      pgarchive restore backup.dump -d 'dbname=shop' -t orders --with-deps --with-fks
      pgarchive restore backup.dump -d "$MANAGED_URL" --skip-unrestorable
      pgarchive restore backup.dump -d shop --engine native -j 4 --resume
    """
    import os

    from ..progress import StepProgress
    from ..restore import RestoreEvents, RestoreRequest, parse_target, run

    def selection(entries: Any) -> Any:
        return build_selection(entries, dict(kw), validate=False)  # run() refuses, with why

    request = RestoreRequest(
        os.path.abspath(archive), parse_target(target), selection, jobs=jobs, clean=clean,
        if_exists=if_exists, no_owner=no_owner, role=role,
        single_transaction=single_transaction, exit_on_error=exit_on_error,
        disable_triggers=disable_triggers, superuser=superuser,
        no_tablespaces=no_tablespaces, no_table_access_method=no_table_access_method,
        use_set_session_authorization=use_set_session_authorization,
        enable_row_security=enable_row_security, strict_names=kw["strict_names"],
        no_data_for_failed_tables=no_data_for_failed_tables,
        transaction_size=transaction_size, dry_run=dry_run, pg_restore=pg_restore_path,
        force=force, skip_unrestorable=skip_unrestorable,
        exit_on_prediction=exit_on_prediction, engine=engine, resume=resume,
        keep_state=keep_state, retries=retries)
    bar = StepProgress(1)

    def ready(out: RestoreOutcome) -> None:
        bar.total = max(len(out.entries), 1)
        render_checks(out)
        render_forecast(out)

    def error(err: PgError) -> None:
        if err.known is None:
            bar.clear()
            click.echo(err.text, err=True)

    try:
        outcome = run(request, RestoreEvents(ready, bar, error))
    finally:
        bar.close()
    render(outcome, as_json)
    sys.exit(outcome.exit_code)


def say(text: str, level: str = "note") -> None:
    click.echo(f"pgarchive: {level}: {text}", err=True)


def render_checks(out: RestoreOutcome) -> None:
    """What the checks found, before pg_restore runs (or instead of it)."""
    if out.engine == "native":
        say(f"using pgarchive's native engine: {out.engine_reason}")
    elif out.choice is not None:
        say(f"using {out.choice.reason}")
    if out.resume is not None and out.resume.found_steps:
        say(f"resuming the restore started {out.resume.started}: {out.resume.found_steps} "
            "steps are done already")
    for text in out.unmatched:
        say(text, "warning")
    for f in out.findings:
        say(f.message, f.level)
    if out.left_out:
        say(f"left out {len(out.left_out)} entr{'y' if len(out.left_out) == 1 else 'ies'} "
            "that --with-deps needs and the target already has: "
            + ", ".join(e.label for e in out.left_out[:8])
            + (" ..." if len(out.left_out) > 8 else ""))


def render_forecast(out: RestoreOutcome) -> None:
    """Before pg_restore runs (or instead of it): the predicted failures on stderr, as a
    warning when any remains (a note when --skip-unrestorable has left them all out)."""
    fc = out.forecast
    if fc is None or not fc.prediction.counted:
        return
    from ..restore.prediction_report import report_text

    level = "warning" if fc.remaining.counted else "note"
    say(report_text(fc.prediction, fc.facts, fc.plan, fc.applied).rstrip("\n"), level)


def render(out: RestoreOutcome, as_json: bool = False) -> None:
    """The outcome as the user reads it: stdout for a dry run's report, command and list
    (or the JSON document), stderr for everything else."""
    if as_json:
        import json

        click.echo(json.dumps(outcome_json(out), indent=2))
        sys.stdout.flush()
    if out.run is None:  # refused, or a dry run: the checks were not shown yet
        if out.request.dry_run and not as_json and out.forecast is not None:
            from ..restore.prediction_report import report_text

            f = out.forecast
            click.echo(report_text(f.prediction, f.facts, f.plan, f.applied))
        if out.request.dry_run and not as_json and out.engine == "native":
            click.echo("# the native engine restores these entries (no pg_restore):")
            click.echo(out.listing, nl=False)
            sys.stdout.flush()
        elif out.request.dry_run and not as_json and out.choice is not None:
            click.echo("# " + " ".join(shlex.quote(x) for x in out.command))
            click.echo("# LIST_FILE holds the dump id of each of these entries, in order:")
            click.echo(out.listing, nl=False)
            sys.stdout.flush()
        render_checks(out)
        if not out.request.dry_run:
            render_forecast(out)
        return
    harmless = out.run.harmless
    if harmless:
        k = harmless[0].known
        assert k is not None
        say(f"{len(harmless)} known harmless error{'s' if len(harmless) > 1 else ''} of "
            f"{out.choice.pg.describe() if out.choice else 'pg_restore'} not counted: "
            f"{k.command} fails with {k.error}; {k.why}")
    if out.count_error:
        say(f"the archive's rows could not be counted, so no row count was compared: "
            f"{out.count_error}", "error")
    for t in out.tables:
        if t.status == "not restored":
            say(f"not restored: {t.name}: {t.why}", "warning")
        elif t.status != "match":
            got = "no rows counted" if t.target_rows is None else f"target {t.target_rows} rows"
            say(f"rows differ: {t.name}: archive {t.archive_rows} rows, {got} ({t.why})",
                "error")
    loaded = [t for t in out.tables if t.status != "not restored"]
    matched = sum(1 for t in loaded if t.status == "match")
    errors = len(out.run.counted)
    native = out.engine == "native"
    who = ("the native engine" if native else
           f"pg_restore {out.choice.pg.version if out.choice else '?'}")
    counts = f"{matched}/{len(loaded)} tables with matching row counts"
    if out.not_restored:
        counts += f", {len(out.not_restored)} not restored"
    tail = (f"{counts}; {errors} {'' if native else 'pg_restore '}"
            f"error{'' if errors == 1 else 's'}"
            + (f" ({len(harmless)} harmless not counted)" if harmless else ""))
    fc = out.forecast
    if fc is not None and fc.applied and fc.plan is not None:
        from ..restore.prediction_report import skip_summary

        tail += "; " + skip_summary(fc.plan)
    _render_resume(out)
    if out.exit_code == 0:
        click.echo(f"restored {len(out.entries)} entries with {who} into "
                   f"{out.database}; {tail}", err=True)
    else:
        click.echo(f"restore into {out.database} with {who} did not fully "
                   f"succeed: {tail}", err=True)


def outcome_json(out: RestoreOutcome) -> dict[str, Any]:
    """The outcome as data (``--json``): the checks, the forecast (every predicted
    failure with dump_id, desc, name, cause, because_of), the command, and after a real
    run what pg_restore did and the row counts."""
    from ..restore.prediction_report import report_json

    fc = out.forecast
    data: dict[str, Any] = {
        "dry_run": out.request.dry_run,
        "exit_code": out.exit_code,
        "refused": out.refused,
        "engine": out.engine,
        "engine_reason": out.engine_reason,
        "pg_restore": None if out.choice is None else {
            "path": out.choice.pg.path, "version": out.choice.pg.version,
            "reason": out.choice.reason},
        "command": out.command,
        "database": out.database,
        "findings": [{"level": f.level, "message": f.message} for f in out.findings],
        "unmatched": out.unmatched,
        "left_out_existing": [e.dump_id for e in out.left_out],
        "entries": [e.dump_id for e in out.entries],
        "prediction": None if fc is None else report_json(fc.prediction, fc.facts, fc.plan,
                                                          fc.applied),
    }
    if out.run is not None:
        data["interrupted"] = out.interrupted
        data["pg_restore_errors"] = [{"entry": e.entry, "text": e.text, "harmless":
                                      e.known is not None} for e in out.run.errors]
        data["tables"] = [{"name": t.name, "status": t.status,
                           "archive_rows": t.archive_rows, "target_rows": t.target_rows,
                           "why": t.why} for t in out.tables]
        data["count_error"] = out.count_error
    return data


def _render_resume(out: RestoreOutcome) -> None:
    """What --resume did, and how to go on after an interruption."""
    r = out.resume
    if r is not None and r.skipped:
        say(f"--resume: skipped {r.skipped} steps a previous run had done")
    if out.interrupted:
        say("interrupted: what was in flight was rolled back"
            + ("; run the same command again (with --resume) to finish" if r is not None
               else "; with --resume, a restore can be finished after an interruption"),
            "warning")
    elif r is not None and r.kept:
        say("--resume's record is kept in the target (schema pgarchive_resume): run the "
            "same command again to finish, or DROP SCHEMA pgarchive_resume CASCADE")
