"""pg_restore -l text: render it byte for byte as PostgreSQL 18 does (list files are read back
by :mod:`pgarchive.listfile`).

pg_restore -l prints the entry's type and the header's version strings raw, and turns only
CR and LF into spaces in names; so archive content can put a line of its own into a list
built from it.  ``ls --format list`` keeps that (it is byte-identical to pg_restore -l);
:func:`render_list` with ``safe=True`` (``ls --safe-list``) escapes every control character
in the text part of each line instead, and :func:`id_list` is what ``restore`` hands to
pg_restore -L: the dump ids alone, where no archive content can add a line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

from .format.model import Header, TocEntry

_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " "})
#: Backslash, C0 and C1 controls, DEL, and lone surrogates (bytes that were not valid in the
#: archive's encoding, kept by surrogateescape).
_CONTROLS = "[\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff]"  # (compiled on first use: start-up)
_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@functools.cache
def _controls() -> re.Pattern[str]:
    return re.compile(_CONTROLS)


def _escape_one(m: re.Match[str]) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a raw byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str | None, hyphen: bool = False) -> str:
    """``text`` with every control character written as a backslash escape (``\\n``,
    ``\\x1b``, ``\\x9b``; a backslash as ``\\\\``): one line, safe for a terminal and for
    pg_restore -L, and unambiguous.  NULL becomes '-' or '' as in :func:`sanitize`."""
    if text is None:
        return "-" if hyphen else ""
    return _controls().sub(_escape_one, text)


def sanitize(text: str | None, hyphen: bool = False) -> str:
    """One place that makes a name safe for a one-line-per-entry list: CR and LF become
    spaces (as pg_restore's sanitize_line); NULL becomes '-' or ''."""
    if text is None:
        return "-" if hyphen else ""
    return text.translate(_LINE_BREAKS)


def header_lines(header: Header, format_name: str, safe: bool = False) -> list[str]:
    """The comment block that opens pg_restore 18's -l output (``safe``: control
    characters escaped in the strings that come from the archive)."""
    def raw(text: str | None) -> str | None:
        return escape_controls(text) if safe and text is not None else text

    lines = [
        ";",
        f"; Archive created at {header.created_text()}",
        f";     dbname: {escape_controls(header.dbname) if safe else sanitize(header.dbname)}",
        f";     TOC Entries: {header.toc_count}",
        f";     Compression: {header.compression_name}",
        f";     Dump Version: {header.version_text}",
        f";     Format: {format_name}",
        f";     Integer: {header.int_size} bytes",
        f";     Offset: {header.off_size} bytes",
    ]
    if header.server_version is not None:
        lines.append(f";     Dumped from database version: {raw(header.server_version)}")
    if header.dump_version is not None:
        lines.append(f";     Dumped by pg_dump version: {raw(header.dump_version)}")
    lines += [";", ";", "; Selected TOC Entries:", ";"]
    return lines


def header_text(header: Header, format_name: str, safe: bool = False) -> str:
    """:func:`header_lines` as text, each line ended: what every -l output starts with."""
    return "\n".join(header_lines(header, format_name, safe)) + "\n"


def entry_line(e: TocEntry) -> str:
    """``dumpId; tableoid oid desc schema tag owner`` as pg_restore -l prints it."""
    return (f"{e.dump_id}; {e.table_oid} {e.oid} {e.desc} {sanitize(e.namespace, True)} "
            f"{sanitize(e.tag)} {sanitize(e.owner)}")


def safe_entry_line(e: TocEntry) -> str:
    """:func:`entry_line` with every control character of the text part escaped."""
    return (f"{e.dump_id}; {e.table_oid} {e.oid} {escape_controls(e.desc)} "
            f"{escape_controls(e.namespace, True)} {escape_controls(e.tag)} "
            f"{escape_controls(e.owner)}")


def id_list(entries: Iterable[TocEntry]) -> bytes:
    """A list file for pg_restore -L that names each entry by its dump id alone, in order:
    all pg_restore reads of a line is its leading number."""
    return b"".join(b"%d\n" % e.dump_id for e in entries)


def render_list(header: Header, format_name: str, entries: Iterable[TocEntry],
                verbose_deps: bool = False, reasons: dict[int, str] | None = None,
                safe: bool = False) -> str:
    """The whole -l text for the given (already selected and ordered) entries.

    ``reasons`` adds a comment line after each entry saying why it was selected; pg_restore
    -L ignores comment lines.  ``safe`` escapes control characters instead of printing
    them as pg_restore does.
    """
    out = header_lines(header, format_name, safe)
    out.extend(entry_lines(entries, verbose_deps, reasons, safe))
    return "\n".join(out) + "\n"


def entry_lines(entries: Iterable[TocEntry], verbose_deps: bool = False,
                reasons: dict[int, str] | None = None, safe: bool = False) -> Iterator[str]:
    """The lines of :func:`render_list` after its header, one entry at a time (unended)."""
    line = safe_entry_line if safe else entry_line
    text = escape_controls if safe else sanitize
    for e in entries:
        yield line(e)
        if reasons is not None:
            yield f";\twhy: {text(reasons.get(e.dump_id, ''))}"
        if verbose_deps and e.dependencies:
            yield ";\tdepends on: " + " ".join(map(str, e.dependencies))
