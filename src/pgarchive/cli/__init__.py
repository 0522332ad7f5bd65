"""The ``pgarchive`` command line: :func:`main` and the click group :data:`cli`.

The commands live in :mod:`pgarchive.cli.entry` and the modules it imports; this package
itself imports nothing, so that ``pgarchive --version`` (scripts check it, and package
managers run it), ``pgarchive ls ARCHIVE -F list``, a plain ``pgarchive convert SRC DST``
and a plain ``pgarchive sql ARCHIVE -s -f FILE`` (quick.py) are answered before click
and the commands load: about half of a small command's start-up
(``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # (typing itself is not imported: ~10 ms of every start-up)
if TYPE_CHECKING:
    from typing import Any

    from .app import cli

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line and an exit status."""
    args = sys.argv[1:] if argv is None else argv
    if list(args) == ["--version"]:  # what click's version option prints, without click
        from .. import __version__

        sys.stdout.write(f"pgarchive, version {__version__}\n")
        sys.stdout.flush()
        raise SystemExit(0)
    if args and args[0] == "ls":
        from .quick import quick_ls

        if quick_ls(args[1:]):
            raise SystemExit(0)
    if args and args[0] == "sql":
        from .quick import quick_sql

        if quick_sql(args[1:]):
            raise SystemExit(0)
    if args and args[0] == "convert":
        from .quick import quick_convert

        if quick_convert(args[1:]):
            raise SystemExit(0)
    from .entry import main as run

    run(argv)


def __getattr__(name: str) -> Any:
    if name == "cli":  # (the group, with every command registered)
        from .entry import cli

        return cli
    raise AttributeError(f"module 'pgarchive.cli' has no attribute {name!r}")
