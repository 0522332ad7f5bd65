"""The SQL script pg_restore 18 writes for an archive (``pg_restore -f``), natively.

:func:`render` gives the restore as typed Steps, entry by entry (for the script writer, a
native restore engine, or a pre-flight that wants to know which statements an entry
runs); :func:`write_script` writes the script itself, byte-identical to pg_restore 18's;
:func:`run` is the ``sql`` command as a library call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from ..format.model import TocEntry
from .model import Step
from .options import ScriptOptions, check

if TYPE_CHECKING:
    from ..archive import Archive
    from ..selection import Selection

__all__ = ["ScriptOptions", "Step", "check", "render", "run", "write_script"]


def run(path: str, selection: Callable[[list[TocEntry]], Selection], opts: ScriptOptions,
        output: str | None, warn: Callable[[str], None] | None = None) -> None:
    """``sql``: the script of the archive at ``path`` written to the file ``output``
    (atomically) or, for None or ``-``, to standard output.  ``selection`` builds the
    selection from the archive's entries; options pg_restore refuses are refused first
    (an invalid restrict key before the archive is opened, as pg_restore checks it)."""
    from ..errors import UsageError
    from ..gcpause import paused
    from .options import valid_restrict_key

    if opts.restrict_key is not None and not valid_restrict_key(opts.restrict_key):
        raise UsageError("invalid restrict key")
    with paused():  # (_run's entries and decisions die in it: no collection walks them)
        _run(path, selection, opts, output, warn)


def _run(path: str, selection: Callable[[list[TocEntry]], Selection], opts: ScriptOptions,
         output: str | None, warn: Callable[[str], None] | None) -> None:
    import sys

    from ..archive import open as open_archive
    from ..fileio import output_stream

    with open_archive(path) as a:
        sel = selection(a.entries)
        opts = check(sel.restore, opts)
        if output and output != "-":
            with output_stream(output) as f:
                write_script(a, sel, opts, f, warn)
        else:
            write_script(a, sel, opts, sys.stdout.buffer, warn)


def render(archive: Archive, selection: Selection, opts: ScriptOptions,
           warn: Callable[[str], None] | None = None) -> Iterator[Step]:
    """The Steps of the restore of ``archive`` with ``selection`` and ``opts`` (opts
    already checked: see :func:`check`), adapted to ``opts.target_version`` if given."""
    from ..selection import select_bits
    from .renderer import Renderer

    decisions = select_bits(archive.entries, selection)
    r = Renderer(archive.header, decisions, opts, create=selection.restore.create,
                 dump_schema=selection.restore.dump_schema, warn=warn)
    steps = r.steps()
    if opts.target_version is not None:
        from .target import adapt

        steps = adapt(steps, opts.target_version, r.encoding, warn)
    return steps


def write_script(archive: Archive, selection: Selection, opts: ScriptOptions, out: BinaryIO,
                 warn: Callable[[str], None] | None = None) -> None:
    """Write the script of ``archive`` to the binary stream ``out``."""
    from ..format.constants import K_VERS_1_12
    from .writer import ScriptWriter

    steps = render(archive, selection, opts, warn)
    std = _std_strings(archive)
    ScriptWriter(archive, out, archive.encoding, std_strings=std, drop_large_objects=opts.clean,
                 old_lo_style=archive.header.version < K_VERS_1_12).write(steps)


def _std_strings(archive: Archive) -> bool:
    from .renderer import std_strings_of

    for e in archive.entries:
        if e.desc == "STDSTRINGS":
            return std_strings_of(e.defn or "")
    return False
