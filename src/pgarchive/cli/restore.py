"""``pgarchive restore``: the real pg_restore, checked before and after."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .. import archive as archive_mod
from .app import cli
from .options import EXIT_DAMAGED, EXIT_ERROR, build_selection, selection_options


@cli.command()
@click.argument("archive")
@click.option("-d", "--dbname", "target", required=True, metavar="CONNINFO_OR_URL",
              help="Where to restore: a libpq connection string or URL (PG* variables and "
                   "service files work as for psql).")
@selection_options
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("-c", "--clean", is_flag=True, help="Drop objects before creating them.")
@click.option("--if-exists", is_flag=True, help="With --clean: DROP ... IF EXISTS.")
@click.option("-O", "--no-owner", is_flag=True, help="Do not set object owners.")
@click.option("--role", help="SET ROLE before restoring.")
@click.option("-1", "--single-transaction", is_flag=True)
@click.option("--dry-run", is_flag=True, help="Print the command and list; change nothing.")
@click.option("--pg-restore", "pg_restore_path", type=click.Path(dir_okay=False),
              help="The pg_restore to run (default: the newest that reads the archive).")
@click.option("--force", is_flag=True,
              help="Restore even if the checks before it fail (non-empty target, pooler...).")
# --- pre-flight prediction (issue #14) ---
@click.option("--no-tablespaces", is_flag=True,
              help="Do not select tablespaces (pg_restore --no-tablespaces).")
@click.option("--no-table-access-method", "no_table_am", is_flag=True,
              help="Do not select table access methods (pg_restore 15+).")
@click.option("--skip-unrestorable", is_flag=True,
              help="Leave out the entries predicted to fail on this target (and what "
                   "depends on them); add -O, --no-tablespaces or --no-table-access-method "
                   "where only an entry's owner, tablespace or access method would fail.")
@click.option("--exit-on-prediction", is_flag=True,
              help="Stop before writing anything when an entry is predicted to fail.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the predicted failures as JSON on stdout (with --dry-run: and "
                   "the command).")
def restore(archive: str, target: str, jobs: int, clean: bool, if_exists: bool,
            no_owner: bool, role: str | None, single_transaction: bool,
            dry_run: bool, pg_restore_path: str | None, force: bool,
            no_tablespaces: bool, no_table_am: bool, skip_unrestorable: bool,
            exit_on_prediction: bool, as_json: bool, **kw: Any) -> None:
    """Restore ARCHIVE (or the selected part) with the real pg_restore, checked before,
    visible while it runs, and verified by row counts afterwards.

    Before anything is written, the target's catalogs are read (as the restoring role)
    and the entries pg_restore would report errors for are predicted, grouped by cause
    with their fix; --dry-run prints that report with the command and list.

    Exit status: 0 restored and every row count matches; 1 pg_restore reported errors or
    counts differ; 2 nothing was done (checks failed, bad usage, --exit-on-prediction).
    """
    import tempfile

    from ..listing import render_list
    from ..progress import StepProgress
    from ..restore import (
        RestoreRequest,
        archive_row_counts,
        build_command,
        choose_pg_restore,
        compare_rows,
        parse_target,
        preflight,
        run_pg_restore,
    )
    from ..selection import chosen, select

    no_acl, create = kw["no_acl"], kw["create"]
    tgt = parse_target(target)
    with archive_mod.open(archive) as a:
        decisions = chosen(select(a.entries, build_selection(a.entries, kw)))
        entries = [d.entry for d in decisions]
        listing = render_list(a.header, a.format_name, entries).encode(a.encoding,
                                                                        "surrogateescape")
        pg = choose_pg_restore(a.header.vmaj, a.header.vmin, pg_restore_path)
        req = RestoreRequest(os.path.abspath(archive), tgt, jobs, clean, if_exists,
                             create, no_owner, no_acl, role, single_transaction,
                             no_tablespaces, no_table_am)
        # --- pre-flight prediction (issue #14) -------------------------------------
        fc = _forecast(a, entries, req, pg.major, skip_unrestorable, as_json, dry_run,
                       force)
        left_out = ""
        if fc is not None and fc.plan is not None and skip_unrestorable:
            from ..restore.prediction_report import skip_summary
            from ..restore.preflight import apply_plan

            req = apply_plan(req, fc.plan)
            kept = {e.dump_id for e in fc.plan.entries}
            entries = [e for e in entries if e.dump_id in kept]
            listing = render_list(a.header, a.format_name, entries).encode(
                a.encoding, "surrogateescape")
            left_out = skip_summary(fc.plan)
        remaining = (None if fc is None else fc.plan.remaining
                     if fc.plan is not None and skip_unrestorable else fc.prediction)
        if exit_on_prediction and remaining is not None and remaining.failures and not dry_run:
            click.echo(f"pgarchive: error: {len(remaining.failures)} entries are predicted "
                       "to fail (--exit-on-prediction): nothing was restored", err=True)
            sys.exit(EXIT_ERROR)
        # --- end of pre-flight prediction ------------------------------------------
        if dry_run:
            argv = build_command(pg, req, "LIST_FILE")
            shown = [tgt.masked if x == tgt.conninfo else x for x in argv]
            if as_json:  # pre-flight prediction (issue #14)
                _print_json(fc, shown, pg.version, entries, skip_unrestorable)
                return
            click.echo("# " + " ".join(_shell_quote(x) for x in shown))
            click.echo(f"# pg_restore {pg.version} ({pg.path}); LIST_FILE is:")
            sys.stdout.flush()
            sys.stdout.buffer.write(listing)
            return
        findings = preflight(a, entries, req, force)
        for f in findings:
            click.echo(f"pgarchive: {f.level}: {f.message}", err=True)
        if any(f.level == "error" for f in findings):
            sys.exit(EXIT_ERROR)
        expected = archive_row_counts(a, entries)
    with tempfile.NamedTemporaryFile("wb", prefix="pgarchive-", suffix=".list") as lf:
        lf.write(listing)
        lf.flush()
        argv = build_command(pg, req, lf.name)
        bar = StepProgress(len(entries))

        def show_error(line: str) -> None:
            bar.clear()
            click.echo(line, err=True)

        try:
            result = run_pg_restore(argv, tgt, dict(os.environ), on_progress=bar,
                                    on_error=show_error)
        finally:
            bar.close()
    db_target = tgt
    if create:
        db_target = tgt.with_dbname(next((e.tag for e in entries if e.desc == "DATABASE"),
                                         a.header.dbname or ""))
    mismatches = compare_rows(db_target, entries, expected)
    for m in mismatches:
        got = "missing" if m.target_rows is None else f"{m.target_rows} rows"
        click.echo(f"pgarchive: rows differ: {m.entry}: archive {m.archive_rows} rows, "
                   f"target {got}", err=True)
    failures = len(result.errors) or result.ignored_errors
    summary = (f"restored {len(entries)} entries with pg_restore {pg.version} into "
               f"{db_target.masked}; {len(expected) - len(mismatches)}/{len(expected)} tables "
               f"with matching row counts; {failures} pg_restore errors")
    if left_out:  # pre-flight prediction (issue #14)
        summary += f"; {left_out}"
    click.echo(summary, err=True)
    if result.returncode != 0 or failures or mismatches:
        sys.exit(EXIT_DAMAGED)


# --- pre-flight prediction (issue #14) -----------------------------------------------


def _forecast(a: Any, entries: list[Any], req: Any, pg_major: int, skip: bool,
              as_json: bool, dry_run: bool, force: bool) -> Any:
    """Predict the failures and print the report (stderr for a real run, stdout for a
    dry run; --json prints it as JSON on stdout in a real run).  None when the target
    cannot be reached: the checks that follow say why."""
    import psycopg

    from ..restore.conninfo import mask_text
    from ..restore.prediction_report import report_json, report_text
    from ..restore.preflight import forecast, looks_pooled

    if looks_pooled(req.target) and not force:
        return None  # refused by the checks that follow
    try:
        fc = forecast(a, entries, req, pg_major, skip or dry_run)
    except psycopg.Error as e:
        detail = mask_text(" ".join(str(e).split()), req.target.masked)
        click.echo(f"pgarchive: warning: cannot predict failures: {detail}", err=True)
        return None
    if dry_run and as_json:
        return fc
    if as_json:
        import json

        click.echo(json.dumps(report_json(fc.prediction, fc.facts, fc.plan), indent=2))
    elif dry_run:
        click.echo(report_text(fc.prediction, fc.facts, fc.plan, skip), nl=False)
    elif fc.prediction.failures:
        text = report_text(fc.prediction, fc.facts, fc.plan)
        click.echo("pgarchive: warning: " + text, err=True, nl=False)
    return fc


def _print_json(fc: Any, argv: list[str], version: str, entries: list[Any],
                applied: bool) -> None:
    import json

    from ..restore.prediction_report import report_json

    out: dict[str, Any] = {"command": argv, "pg_restore": version,
                           "entries": [e.dump_id for e in entries]}
    if fc is not None:
        out["prediction"] = report_json(fc.prediction, fc.facts, fc.plan, applied)
    click.echo(json.dumps(out, indent=2))


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
