"""pg_restore -l text: render it byte for byte as PostgreSQL 18 does (list files are read
back by :mod:`pgarchive.listfile`)."""

from __future__ import annotations

from collections.abc import Iterable

from .format.model import Header, TocEntry

_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " "})


def sanitize(text: str | None, hyphen: bool = False) -> str:
    """One place that makes a name safe for a one-line-per-entry list: CR and LF become
    spaces (as pg_restore's sanitize_line); NULL becomes '-' or ''."""
    if text is None:
        return "-" if hyphen else ""
    return text.translate(_LINE_BREAKS)


def header_lines(header: Header, format_name: str) -> list[str]:
    """The comment block that opens pg_restore 18's -l output."""
    lines = [
        ";",
        f"; Archive created at {header.created_text()}",
        f";     dbname: {sanitize(header.dbname)}",
        f";     TOC Entries: {header.toc_count}",
        f";     Compression: {header.compression_name}",
        f";     Dump Version: {header.version_text}",
        f";     Format: {format_name}",
        f";     Integer: {header.int_size} bytes",
        f";     Offset: {header.off_size} bytes",
    ]
    if header.server_version is not None:
        lines.append(f";     Dumped from database version: {header.server_version}")
    if header.dump_version is not None:
        lines.append(f";     Dumped by pg_dump version: {header.dump_version}")
    lines += [";", ";", "; Selected TOC Entries:", ";"]
    return lines


def entry_line(e: TocEntry) -> str:
    """``dumpId; tableoid oid desc schema tag owner`` as pg_restore -l prints it."""
    return (f"{e.dump_id}; {e.table_oid} {e.oid} {e.desc} {sanitize(e.namespace, True)} "
            f"{sanitize(e.tag)} {sanitize(e.owner)}")


def render_list(header: Header, format_name: str, entries: Iterable[TocEntry],
                verbose_deps: bool = False, reasons: dict[int, str] | None = None) -> str:
    """The whole -l text for the given (already selected and ordered) entries.

    ``reasons`` adds a comment line after each entry saying why it was selected; pg_restore
    -L ignores comment lines.
    """
    out = header_lines(header, format_name)
    for e in entries:
        out.append(entry_line(e))
        if reasons is not None:
            out.append(f";\twhy: {sanitize(reasons.get(e.dump_id, ''))}")
        if verbose_deps and e.dependencies:
            out.append(";\tdepends on: " + " ".join(map(str, e.dependencies)))
    return "\n".join(out) + "\n"
