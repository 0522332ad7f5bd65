"""Options and output helpers shared by every command: pg_restore's selection switches,
``--format``/``--json``, and writing results to stdout or a file."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError
from ..format.constants import Section
from .exits import EXIT_ERROR as EXIT_ERROR  # (the quick paths end with it too)

if TYPE_CHECKING:
    from ..selection import RestoreOptions, Selection

F = TypeVar("F", bound=Callable[..., Any])

EXIT_DAMAGED = 1


def output_options(*formats: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` with the given choices and ``--json`` as its shorthand, for any command."""

    def deco(fn: F) -> F:
        @click.option("--format", "-F", "fmt", type=click.Choice(formats), default=default,
                      show_default=True, help="Output format.")
        @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
        @click.option("--raw", is_flag=True,
                      help="Names exactly as stored: control characters not escaped in "
                           "tables, info and messages, no formula guard in CSV.")
        @functools.wraps(fn)
        def wrapper(*args: Any, fmt: str, as_json: bool, **kw: Any) -> Any:
            return fn(*args, fmt="json" if as_json else fmt, **kw)

        return wrapper  # type: ignore[return-value]

    return deco


def selection_options(fn: F) -> F:
    """pg_restore's selection switches, with pg_restore's meaning; shared by every command
    that works on a subset of the archive."""
    opts = [
        click.option("-n", "--schema", "schemas", multiple=True, metavar="NAME",
                     help="Only objects in this schema (repeatable; psql patterns such as "
                          "'app*' allowed)."),
        click.option("-N", "--exclude-schema", "exclude_schemas", multiple=True,
                     metavar="NAME", help="Leave out objects in this schema (repeatable)."),
        click.option("-t", "--table", "tables", multiple=True, metavar="NAME",
                     help="Only this relation: table, view, materialized view, sequence or "
                          "foreign table (repeatable; 'schema.name' and patterns allowed). "
                          "As in pg_restore, without --with-deps its indexes, constraints "
                          "and triggers stay out."),
        click.option("-I", "--index", "indexes", multiple=True, metavar="NAME",
                     help="Only this index (repeatable)."),
        click.option("-P", "--function", "functions", multiple=True, metavar="NAME(ARGS)",
                     help="Only this function, e.g. 'f(integer, text)' (repeatable)."),
        click.option("-T", "--trigger", "triggers", multiple=True, metavar="NAME",
                     help="Only this trigger, as 'table trigger' (repeatable)."),
        click.option("--section", "sections", multiple=True,
                     type=click.Choice(["pre-data", "data", "post-data"]),
                     help="Only this section (repeatable)."),
        click.option("-s", "--schema-only", is_flag=True,
                     help="Definitions only, no data."),
        click.option("-a", "--data-only", is_flag=True,
                     help="Data only, no definitions (the tables must exist already)."),
        click.option("-C", "--create", is_flag=True,
                     help="Include the DATABASE entry: create the database itself."),
        click.option("-x", "--no-acl", "--no-privileges", "no_acl", is_flag=True,
                     help="Leave out privileges (GRANT/REVOKE)."),
        click.option("--no-comments", is_flag=True, help="Leave out comments."),
        click.option("--no-policies", is_flag=True,
                     help="Leave out row security policies."),
        click.option("--no-publications", is_flag=True, help="Leave out publications."),
        click.option("--no-subscriptions", is_flag=True, help="Leave out subscriptions."),
        click.option("--no-security-labels", is_flag=True, help="Leave out security labels."),
        click.option("--no-statistics", is_flag=True,
                     help="Leave out optimizer statistics (archives of pg_dump 18)."),
        click.option("--no-data", is_flag=True, help="Leave out data (keep statistics)."),
        click.option("--no-schema", is_flag=True, help="Leave out definitions."),
        click.option("--statistics", "with_statistics", is_flag=True,
                     help="Statistics too (with -a or -s, pg_restore refuses it)."),
        click.option("--statistics-only", is_flag=True,
                     help="Only statistics, no schema or data."),
        click.option("-L", "--use-list", "use_list", type=click.Path(dir_okay=False),
                     help="Only the entries of this list file (as ls --format list writes "
                          "it), in its order."),
        click.option("--strict-names", is_flag=True,
                     help="Refuse a -n/-t/-I/-P/-T name that matches nothing (without it: "
                          "a warning)."),
        click.option("--filter", "filter_file", type=click.Path(dir_okay=False),
                     help="Read include/exclude patterns from a filter file (pg_restore 17 "
                          "syntax)."),
        click.option("--exclude-table-data", multiple=True, metavar="PATTERN",
                     help="Keep the table's definition, leave out its data (repeatable)."),
        click.option("--with-deps", is_flag=True,
                     help="Also what the selected objects own (data, indexes, constraints, "
                          "triggers, policies, sequences...) and what they need (schema, "
                          "types, functions, extensions)."),
        click.option("--with-fks", is_flag=True,
                     help="With --with-deps: also every table a selected table references "
                          "through a foreign key, transitively and with its data, so that "
                          "every foreign key holds."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


#: Ignored -L lines shown one by one; the rest are counted.
SHOWN_WARNINGS = 20


def build_selection(entries: Iterable[Any], kw: dict[str, Any], validate: bool = True
                    ) -> Selection:
    """Turn the selection switches into a Selection (popping them from kw); ``validate``:
    refuse pg_restore's contradictions here (restore refuses them itself, with why)."""
    from ..fileio import read_limited, text_lines  # (tempfile: not at start-up)
    from ..limits import MAX_FILTER_FILE
    from ..patterns import parse_filter_file
    from ..selection import Selection

    filter_file = kw.pop("filter_file")
    if filter_file:
        extra = parse_filter_file(text_lines(read_limited(filter_file, MAX_FILTER_FILE,
                                                          "filter file")))
        for key, names in extra.items():
            kw[key] = (*kw[key], *names)
    if kw["with_fks"] and not kw["with_deps"]:
        raise UsageError("--with-fks needs --with-deps: it adds the tables that selected "
                         "tables reference, with what they need")
    restore = build_options(entries, kw)
    if validate:
        restore.validate()
    return Selection(restore, exclude_table_data=tuple(kw.pop("exclude_table_data")),
                     with_deps=kw.pop("with_deps"), with_fks=kw.pop("with_fks"))


def warn_unmatched(entries: list[Any], selection: Selection) -> list[str]:
    """Warn on stderr about each name option that matched nothing; return them."""
    from ..strictnames import unmatched

    missing = unmatched(entries, selection.restore)
    for text in missing:
        click.echo(f"pgarchive: warning: {text}", err=True)
    return missing


def build_options(entries: Iterable[Any], kw: dict[str, Any]) -> RestoreOptions:
    """Turn pg_restore's switches into RestoreOptions (popping them from kw)."""
    from ..selection import RestoreOptions, list_file_ids

    section_map = {"pre-data": Section.PRE_DATA, "data": Section.DATA,
                   "post-data": Section.POST_DATA}
    sections = kw.pop("sections")
    use_list_path = kw.pop("use_list")
    use_list = None
    if use_list_path:
        from ..fileio import read_limited
        from ..limits import MAX_LIST_FILE
        from ..terminal import bytes_for_terminal

        shown = 0

        def warn(line: bytes) -> None:
            nonlocal shown
            shown += 1
            if shown <= SHOWN_WARNINGS:
                text = bytes_for_terminal(line.rstrip(b"\r")[:200])
                click.echo(f"pgarchive: warning: line ignored: {text}", err=True)

        use_list, ignored = list_file_ids(
            entries, read_limited(use_list_path, MAX_LIST_FILE, "list file"), warn)
        if ignored > SHOWN_WARNINGS:
            click.echo(f"pgarchive: warning: {ignored - SHOWN_WARNINGS} more lines ignored",
                       err=True)
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
        use_list=use_list, no_data=kw.pop("no_data"), no_schema=kw.pop("no_schema"),
        with_statistics=kw.pop("with_statistics"), statistics_only=kw.pop("statistics_only"),
        strict_names=kw.pop("strict_names"),
    )


def write_out(data: bytes | Iterable[bytes], output: str | None) -> None:
    """Write a command's output to ``output`` (atomically) or stdout.  Output given in
    pieces is held in a spool (memory, then a temporary file past 8 MiB) until it is
    complete, so an error half-way prints one error line and no partial answer."""
    if output and output != "-":
        from ..fileio import atomic_write  # (tempfile: not at start-up)

        atomic_write(output, data)
        return
    if isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        import tempfile

        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
            for piece in data:
                spool.write(piece)
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
