"""The ``pgarchive`` command: a thin shell over the library.

Each command parses options, calls the library, and renders the result; all logic lives in
the modules it calls.  Every failure becomes one line ``pgarchive: error: ...`` on stderr.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import archive as archive_mod
from .errors import ArchiveError
from .fileio import atomic_write
from .format.constants import Section

if TYPE_CHECKING:
    from .selection import RestoreOptions, Selection

# The modules each command needs are imported in the command: start-up is a third of a
# small archive's ``ls``, and ``ls --format list`` needs none of them.

F = TypeVar("F", bound=Callable[..., Any])

EXIT_DAMAGED = 1
EXIT_ERROR = 2


def output_options(*formats: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` with the given choices and ``--json`` as its shorthand, for any command."""

    def deco(fn: F) -> F:
        @click.option("--format", "-F", "fmt", type=click.Choice(formats), default=default,
                      show_default=True, help="Output format.")
        @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
        @functools.wraps(fn)
        def wrapper(*args: Any, fmt: str, as_json: bool, **kw: Any) -> Any:
            return fn(*args, fmt="json" if as_json else fmt, **kw)

        return wrapper  # type: ignore[return-value]

    return deco


def selection_options(fn: F) -> F:
    """pg_restore's selection switches, with pg_restore's meaning; shared by every command
    that works on a subset of the archive."""
    opts = [
        click.option("-n", "--schema", "schemas", multiple=True, help="Only objects in schema."),
        click.option("-N", "--exclude-schema", "exclude_schemas", multiple=True,
                     help="Leave out objects in schema."),
        click.option("-t", "--table", "tables", multiple=True, help="Only this table."),
        click.option("-I", "--index", "indexes", multiple=True, help="Only this index."),
        click.option("-P", "--function", "functions", multiple=True,
                     help="Only this function, e.g. 'f(integer, text)'."),
        click.option("-T", "--trigger", "triggers", multiple=True,
                     help="Only this trigger, as 'table trigger'."),
        click.option("--section", "sections", multiple=True,
                     type=click.Choice(["pre-data", "data", "post-data"]),
                     help="Only this section (repeatable)."),
        click.option("-s", "--schema-only", is_flag=True, help="Definitions, no data."),
        click.option("-a", "--data-only", is_flag=True, help="Data, no definitions."),
        click.option("-C", "--create", is_flag=True, help="Include the DATABASE entry."),
        click.option("-x", "--no-acl", "--no-privileges", "no_acl", is_flag=True,
                     help="Leave out GRANT/REVOKE."),
        click.option("--no-comments", is_flag=True),
        click.option("--no-policies", is_flag=True),
        click.option("--no-publications", is_flag=True),
        click.option("--no-subscriptions", is_flag=True),
        click.option("--no-security-labels", is_flag=True),
        click.option("--no-statistics", is_flag=True),
        click.option("-L", "--use-list", "use_list", type=click.Path(dir_okay=False),
                     help="Restore only the entries of this list file, in its order."),
        click.option("--filter", "filter_file", type=click.Path(dir_okay=False),
                     help="Read include/exclude patterns from a filter file (pg_restore 17)."),
        click.option("--exclude-table-data", multiple=True, metavar="PATTERN",
                     help="Keep the table's definition, leave out its data."),
        click.option("--with-deps", is_flag=True,
                     help="Also what the selected objects own and what they need."),
        click.option("--with-fks", is_flag=True,
                     help="With --with-deps: every foreign key of a selected table."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def read_text_file(path: str, limit: int = 256 << 20) -> str:
    """A list or filter file, refused past ``limit`` bytes rather than read whole."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise ArchiveError(f"file of {size} bytes is too large (limit {limit})",
                                   path=path)
            return f.read(size).decode("utf-8", "surrogateescape")
    except OSError as e:
        raise ArchiveError(e.strerror or str(e), path=path) from None


def build_selection(entries: list[Any], kw: dict[str, Any]) -> Selection:
    """Turn the selection switches into a Selection (popping them from kw)."""
    from .patterns import parse_filter_file
    from .selection import Selection

    filter_file = kw.pop("filter_file")
    if filter_file:
        extra = parse_filter_file(read_text_file(filter_file))
        for key, names in extra.items():
            kw[key] = (*kw[key], *names)
    restore = build_options(entries, kw)
    return Selection(restore, exclude_table_data=tuple(kw.pop("exclude_table_data")),
                     with_deps=kw.pop("with_deps"), with_fks=kw.pop("with_fks"))


def build_options(entries: list[Any], kw: dict[str, Any]) -> RestoreOptions:
    """Turn pg_restore's switches into RestoreOptions (popping them from kw)."""
    from .selection import RestoreOptions, list_file_ids

    section_map = {"pre-data": Section.PRE_DATA, "data": Section.DATA,
                   "post-data": Section.POST_DATA}
    sections = kw.pop("sections")
    use_list_path = kw.pop("use_list")
    use_list = None
    if use_list_path:
        text = read_text_file(use_list_path)
        use_list, ignored = list_file_ids(entries, text)
        for line in ignored:
            click.echo(f"pgarchive: warning: line ignored: {line}", err=True)
    tables, indexes = tuple(kw.pop("tables")), tuple(kw.pop("indexes"))
    functions, triggers = tuple(kw.pop("functions")), tuple(kw.pop("triggers"))
    return RestoreOptions(
        schemas=tuple(kw.pop("schemas")), exclude_schemas=tuple(kw.pop("exclude_schemas")),
        tables=tables, indexes=indexes, functions=functions, triggers=triggers,
        sel_table=bool(tables), sel_index=bool(indexes), sel_function=bool(functions),
        sel_trigger=bool(triggers),
        sections=(frozenset(section_map[s] for s in sections) if sections
                  else RestoreOptions.sections),
        schema_only=kw.pop("schema_only"), data_only=kw.pop("data_only"),
        statistics=not kw.pop("no_statistics"), create=kw.pop("create"),
        no_acl=kw.pop("no_acl"), no_comments=kw.pop("no_comments"),
        no_policies=kw.pop("no_policies"), no_publications=kw.pop("no_publications"),
        no_subscriptions=kw.pop("no_subscriptions"),
        no_security_labels=kw.pop("no_security_labels"),
        use_list=use_list,
    )


def write_out(data: bytes, output: str | None) -> None:
    if output and output != "-":
        atomic_write(output, data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pgarchive")
def cli() -> None:
    """Inspect, verify and selectively restore PostgreSQL pg_dump archives."""


@cli.command()
@click.argument("archive")
@output_options("table", "json")
def info(archive: str, fmt: str) -> None:
    """Header facts, entry counts and stored data size of ARCHIVE."""
    from .output import render_json
    from .summary import archive_info

    with archive_mod.open(archive) as a:
        facts = archive_info(a)
    if fmt == "json":
        write_out(render_json(facts).encode(), None)
        return
    lines = []
    for key, value in facts.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k:<28} {v}" for k, v in value.items()]
        else:
            lines.append(f"{key + ':':<20} {'' if value is None else value}")
    write_out(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"), None)


@cli.command()
@click.argument("archive")
@output_options("table", "list", "json", "csv")
@selection_options
@click.option("--all", "show_all", is_flag=True,
              help="Every TOC entry, ignoring selection (like pg_restore -l -v).")
@click.option("-v", "--verbose", is_flag=True,
              help="With --format list: every entry and its dependencies (pg_restore -l -v).")
@click.option("--explain", is_flag=True, help="Say why each entry was selected.")
@click.option("-o", "--output", type=click.Path(), help="Write to this file (atomically).")
def ls(archive: str, fmt: str, show_all: bool, verbose: bool, explain: bool,
       output: str | None, **kw: Any) -> None:
    """List the table of contents of ARCHIVE.

    --format list is byte-identical to pg_restore -l (PostgreSQL 18) and can be edited and
    given to pg_restore -L.
    """
    plain = not (show_all or verbose or explain) and not any(
        v for k, v in kw.items() if k != "no_statistics")
    if fmt == "list" and plain:
        write_out(archive_mod.default_list(archive, not kw["no_statistics"]), output)
        return
    from .listing import render_list
    from .output import render
    from .selection import chosen, select
    from .summary import ENTRY_FIELDS, entry_record

    with archive_mod.open(archive) as a:
        decisions = select(a.entries, build_selection(a.entries, kw))
        picked = decisions if (show_all or verbose) else chosen(decisions)
        entries = [d.entry for d in picked]
        if fmt == "list":
            why = {d.entry.dump_id: d.reason for d in picked} if explain else None
            text = render_list(a.header, a.format_name, entries, verbose_deps=verbose,
                               reasons=why)
            write_out(text.encode(a.encoding, "surrogateescape"), output)
            return
        rows = [entry_record(a, d.entry) | ({"reason": d.reason} if explain else {})
                for d in picked]
    table_cols = ["dump_id", "section", "desc", "namespace", "tag", "owner", "stored_size"]
    fields = [*ENTRY_FIELDS, "reason"] if explain else list(ENTRY_FIELDS)
    if explain:
        table_cols.append("reason")
    text = render(rows, fmt, fields, table_cols, right=("dump_id", "stored_size"))
    write_out(text.encode("utf-8", "surrogateescape"), output)


@cli.command()
@click.argument("archive")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Cores to use: entries in parallel (custom with offsets, directory); "
                   "for one entry, a tar or a piped archive, reading and decompressing "
                   "ahead of the checks.")
@output_options("table", "json")
@click.option("--write-manifest", type=click.Path(),
              help="Record checksums, rows and sizes to this JSON file.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False),
              help="Compare with a manifest written earlier.")
@selection_options
def verify(archive: str, jobs: int, fmt: str, write_manifest: str | None,
           manifest_path: str | None, **kw: Any) -> None:
    """Read, decompress and check every data block of ARCHIVE.

    Exit status: 0 intact, 1 damaged (or different from --manifest), 2 unreadable.
    """
    from .manifest import build_manifest, compare, load_manifest
    from .output import render, render_json
    from .progress import ByteProgress
    from .selection import chosen, select
    from .verify import verify as run_verify

    manifest = load_manifest(manifest_path) if manifest_path else None
    only = None
    if any(v for v in kw.values()):
        with archive_mod.open(archive) as a:
            only = {d.entry.dump_id for d in chosen(select(a.entries,
                                                           build_selection(a.entries, kw)))}
    bar = ByteProgress()
    try:
        report = run_verify(archive, jobs=jobs, progress=bar, only=only,
                            on_total=bar.set_total)
    finally:
        bar.close()
    if manifest is not None and manifest_path:
        report.problems += compare(report, manifest, manifest_path)
    if write_manifest:
        atomic_write(write_manifest, (render_json(build_manifest(report))).encode())
    if fmt == "json":
        write_out(render_json(report.to_dict()).encode(), None)
    else:
        rows = [{"id": e.dump_id, "type": e.desc, "schema": e.namespace, "name": e.tag,
                 "rows": e.rows if e.rows is not None else (
                     f"{e.large_objects} LOs" if e.large_objects is not None else ""),
                 "raw bytes": e.raw_bytes, "stored bytes": e.stored_bytes,
                 "checksum": (e.checksum or "")[:16], "status": e.status}
                for e in report.entries]
        cols = ["id", "type", "schema", "name", "rows", "raw bytes", "stored bytes",
                "checksum", "status"]
        text = render(rows, "table", cols, right=("id", "rows", "raw bytes", "stored bytes"))
        for p in report.all_problems():
            text += f"damage: {p}\n"
        for note in report.notes:
            text += f"note: {note}\n"
        secs = max(report.elapsed, 1e-9)
        text += (f"{len(report.entries)} entries checked, {report.total_rows} rows, "
                 f"{report.total_raw} bytes ({report.total_stored} stored), "
                 f"{len(report.damaged)} damaged, {len(report.all_problems())} problems, "
                 f"{report.elapsed:.2f} s, {report.total_stored / secs / 1e6:.0f} MB/s stored, "
                 f"checksum {report.hash}, jobs {report.jobs}: "
                 f"{'OK' if report.ok else 'DAMAGED'}\n")
        write_out(text.encode("utf-8", "surrogateescape"), None)
    if not report.ok:
        sys.exit(EXIT_DAMAGED)


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

    from .listing import render_list
    from .progress import StepProgress
    from .restore import (
        RestoreRequest,
        archive_row_counts,
        build_command,
        choose_pg_restore,
        compare_rows,
        parse_target,
        preflight,
        run_pg_restore,
    )
    from .selection import chosen, select

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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line and an exit status."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `pgarchive ls x | head` ends quietly
    try:
        rv = cli.main(args=argv, prog_name="pgarchive", standalone_mode=False)
    except ArchiveError as e:
        _die(str(e), EXIT_ERROR)
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        sys.exit(EXIT_ERROR)
    except click.UsageError as e:
        _die(e.format_message(), EXIT_ERROR)
    except click.ClickException as e:
        _die(e.format_message(), e.exit_code or EXIT_ERROR)
    except click.exceptions.Abort:
        _die("interrupted", 130)
    except KeyboardInterrupt:
        _die("interrupted", 130)
    except OSError as e:
        _die(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}", EXIT_ERROR)
    except MemoryError:
        _die("out of memory", EXIT_ERROR)
    except Exception as e:  # a bug of ours: still one line, and a way to see the traceback
        if os.environ.get("PGARCHIVE_DEBUG"):
            raise
        _die(f"internal error: {type(e).__name__}: {e} (set PGARCHIVE_DEBUG=1 for the "
             "traceback, and please report it)", 70)
    sys.exit(rv if isinstance(rv, int) else 0)


def _die(message: str, status: int) -> None:
    try:
        sys.stderr.write(f"pgarchive: error: {' '.join(message.split())}\n")
        sys.stderr.flush()
    finally:
        os._exit(status) if status == 130 else sys.exit(status)
