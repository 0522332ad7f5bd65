"""How the command ends on failure: one line on stderr and an exit status.  Free of click,
so that the quick paths (``--version``, ``ls -F list``: quick.py) end the same way."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

#: the exit status of a failure that is not damage (options.EXIT_ERROR)
EXIT_ERROR = 2


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


def fail(e: BaseException) -> NoReturn:
    """End the command that raised ``e``: one line ``pgarchive: error: ...`` and the exit
    status that says what kind of failure it was -- the full command line's (entry.py) and
    the quick paths' (quick.py) alike.  click's own errors are looked for only where click
    was loaded (a quick path loads none)."""
    from ..errors import ArchiveError

    click = sys.modules.get("click")
    if isinstance(e, ArchiveError):
        from ..containers import converted_to_crlf

        if converted_to_crlf(e.path):  # what went wrong, not where it first showed
            die(f"{e.path}: line endings seem to have been converted to CRLF (as git's text "
                "conversion or FTP in ASCII mode do); the archive cannot be read: get a "
                "binary copy of it", EXIT_ERROR)
        die(str(e), EXIT_ERROR)
    elif click is not None and isinstance(e, click.exceptions.NoArgsIsHelpError):
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        sys.exit(EXIT_ERROR)
    elif click is not None and isinstance(e, click.UsageError):
        if isinstance(e, click.MissingParameter) and e.ctx is not None:
            # "Missing argument 'ARCHIVE'." alone does not say what to give
            sys.stderr.write(f"{e.ctx.get_usage()}\nTry '{e.ctx.command_path} -h' for help.\n")
        die(e.format_message(), EXIT_ERROR)
    elif click is not None and isinstance(e, click.ClickException):
        die(e.format_message(), e.exit_code or EXIT_ERROR)
    elif isinstance(e, KeyboardInterrupt) or (
            click is not None and isinstance(e, click.exceptions.Abort)):
        die("interrupted", 130)
    elif isinstance(e, BrokenPipeError):  # (SIGPIPE ignored: an archive read from a pipe)
        quiet_exit(141)
    elif isinstance(e, OSError):
        die(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}", EXIT_ERROR)
    elif isinstance(e, MemoryError):
        die("out of memory", EXIT_ERROR)
    elif not isinstance(e, Exception):  # (SystemExit, GeneratorExit: not failures of ours)
        raise e
    # a bug of ours: still one line, and a way to see the traceback
    if os.environ.get("PGARCHIVE_DEBUG"):
        raise e
    die(f"internal error: {type(e).__name__}: {e} (set PGARCHIVE_DEBUG=1 for the "
        "traceback, and please report it)", 70)
    raise AssertionError("unreachable")  # (die exits)
