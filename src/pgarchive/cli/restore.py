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
def restore(archive: str, target: str, jobs: int, clean: bool, if_exists: bool,
            no_owner: bool, role: str | None, single_transaction: bool,
            dry_run: bool, pg_restore_path: str | None, force: bool, **kw: Any) -> None:
    """Restore ARCHIVE (or the selected part) with the real pg_restore, checked before,
    visible while it runs, and verified by row counts afterwards.

    Exit status: 0 restored and every row count matches; 1 pg_restore reported errors or
    counts differ; 2 nothing was done (checks failed, bad usage).
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
                             create, no_owner, no_acl, role, single_transaction)
        if dry_run:
            argv = build_command(pg, req, "LIST_FILE")
            shown = [tgt.masked if x == tgt.conninfo else x for x in argv]
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
    click.echo(summary, err=True)
    if result.returncode != 0 or failures or mismatches:
        sys.exit(EXIT_DAMAGED)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
