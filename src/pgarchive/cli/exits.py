"""How the command ends on failure: one line on stderr and an exit status.  Free of click,
so that the quick paths (``--version``, ``ls -F list``: quick.py) end the same way."""

from __future__ import annotations

import contextlib
import os
import sys


def quiet_exit(status: int) -> None:
    """The reader of our output went away (`| head`): end as a closed pipe ends a program,
    without a word, and without the flush at exit failing again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(status)


def die(message: str, status: int) -> None:
    """Print ``pgarchive: error: MESSAGE`` (control characters escaped: names in messages
    come from the archive) and exit with ``status``; 130 (interrupted) exits at once,
    removing a spooled copy of the archive first."""
    from ..terminal import for_terminal

    try:
        sys.stderr.write(f"pgarchive: error: {for_terminal(' '.join(message.split()))}\n")
        sys.stderr.flush()
    finally:
        if status == 130:
            spool = sys.modules.get("pgarchive.containers.spool")
            if spool is not None:  # os._exit skips atexit: remove a copied archive now
                spool.cleanup()
            os._exit(status)
        sys.exit(status)
