"""The ``pgarchive`` command (imported by :func:`pgarchive.cli.main`): a thin shell over
the library.

Each command parses options, calls the library, and renders the result; all logic lives in
the modules it calls.  Every failure becomes one line ``pgarchive: error: ...`` on stderr.
The modules each command needs are imported inside the command: start-up is a third of a
small archive's ``ls``, and ``ls --format list`` needs none of them.
"""

from __future__ import annotations

import signal
import sys

from . import (  # noqa: F401 -- each registers its command
    convert,
    export,
    info,
    ls,
    query,
    restore,
    sql,
    verify,
)
from .app import cli
from .exits import fail

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line and an exit status."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `pgarchive ls x | head` ends quietly
    try:
        rv = cli.main(args=argv, prog_name="pgarchive", standalone_mode=False)
    except Exception as e:
        fail(e)
    except KeyboardInterrupt as e:
        fail(e)
    sys.exit(rv if isinstance(rv, int) else 0)
