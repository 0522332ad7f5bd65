"""The SQL script pg_restore 18 writes for an archive (``pg_restore -f``), natively.

:func:`render` gives the restore as typed Steps, entry by entry (for the script writer, a
native restore engine, or a pre-flight that wants to know which statements an entry
runs); :func:`write_script` writes the script itself, byte-identical to pg_restore 18's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from .model import Step
from .options import ScriptOptions, check

if TYPE_CHECKING:
    from ..archive import Archive
    from ..selection import Selection

__all__ = ["ScriptOptions", "Step", "check", "render", "write_script"]


def render(archive: Archive, selection: Selection, opts: ScriptOptions,
           warn: Callable[[str], None] | None = None) -> Iterator[Step]:
    """The Steps of the restore of ``archive`` with ``selection`` and ``opts`` (opts
    already checked: see :func:`check`), adapted to ``opts.target_version`` if given."""
    from ..selection import select
    from .renderer import Renderer

    decisions = select(archive.entries, selection)
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
