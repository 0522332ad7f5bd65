"""``pgarchive restore``: options in, ``pgarchive.restore.run``, the outcome rendered."""

from __future__ import annotations

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
        archive if archive == "-" else os.path.abspath(archive), parse_target(target),
        selection, jobs=jobs, clean=clean,
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
        # (no terminal: no progress line, and no step's name made for it)
        outcome = run(request, RestoreEvents(ready, bar if bar.enabled else None, error))
    finally:
        bar.close()
    render(outcome, as_json)
    sys.exit(outcome.exit_code)


def say(text: str, level: str = "note") -> None:
    """One ``pgarchive: LEVEL: TEXT`` line on stderr."""
    click.echo(f"pgarchive: {level}: {text}", err=True)


def render_checks(out: RestoreOutcome) -> None:
    """What the checks found, before pg_restore runs (or instead of it), on stderr."""
    from ..restore.outcome_report import check_messages

    for text, level in check_messages(out):
        say(text, level)


def render_forecast(out: RestoreOutcome) -> None:
    """Before pg_restore runs: the predicted failures on stderr."""
    from ..restore.outcome_report import forecast_message

    said = forecast_message(out)
    if said is not None:
        say(*said)


def render(out: RestoreOutcome, as_json: bool = False) -> None:
    """The outcome as the user reads it: stdout for a dry run's report, command and list
    (or the JSON document), stderr for everything else."""
    from ..restore.outcome_report import dry_run_text, outcome_json, run_messages, summary_line

    if as_json:
        import json

        click.echo(json.dumps(outcome_json(out), indent=2))
        sys.stdout.flush()
    if out.run is None:  # refused, or a dry run: the checks were not shown yet
        text = "" if as_json else dry_run_text(out)
        if text:
            click.echo(text, nl=False)
            sys.stdout.flush()
        render_checks(out)
        if not out.request.dry_run:
            render_forecast(out)
        return
    for text, level in run_messages(out):
        say(text, level)
    click.echo(summary_line(out), err=True)
