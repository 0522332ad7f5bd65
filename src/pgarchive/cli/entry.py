"""The ``pgarchive`` command (imported by :func:`pgarchive.cli.main`): a thin shell over
the library.

Each command parses options, calls the library, and renders the result; all logic lives in
the modules it calls.  Every failure becomes one line ``pgarchive: error: ...`` on stderr.
The modules each command needs are imported inside the command: start-up is a third of a
small archive's ``ls``, and ``ls --format list`` needs none of them.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from ..errors import ArchiveError
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
from .exits import die as _die
from .exits import quiet_exit as _quiet_exit
from .options import EXIT_ERROR

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line and an exit status."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `pgarchive ls x | head` ends quietly
    try:
        rv = cli.main(args=argv, prog_name="pgarchive", standalone_mode=False)
    except ArchiveError as e:
        from ..containers import converted_to_crlf

        if converted_to_crlf(e.path):  # what went wrong, not where it first showed
            _die(f"{e.path}: line endings seem to have been converted to CRLF (as git's text "
                 "conversion or FTP in ASCII mode do); the archive cannot be read: get a "
                 "binary copy of it", EXIT_ERROR)
        _die(str(e), EXIT_ERROR)
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        sys.exit(EXIT_ERROR)
    except click.UsageError as e:
        if isinstance(e, click.MissingParameter) and e.ctx is not None:
            # "Missing argument 'ARCHIVE'." alone does not say what to give
            sys.stderr.write(f"{e.ctx.get_usage()}\nTry '{e.ctx.command_path} -h' for help.\n")
        _die(e.format_message(), EXIT_ERROR)
    except click.ClickException as e:
        _die(e.format_message(), e.exit_code or EXIT_ERROR)
    except click.exceptions.Abort:
        _die("interrupted", 130)
    except KeyboardInterrupt:
        _die("interrupted", 130)
    except BrokenPipeError:  # (SIGPIPE ignored: an archive read from a pipe was copied)
        _quiet_exit(141)
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
