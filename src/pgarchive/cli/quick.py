"""``pgarchive ls ARCHIVE --format list`` without click and the commands: the listing that
scripts run most (``pgarchive ls x.dump -F list > x.list``), where start-up is nearly all
of the time (issue 10: under 50 ms for a small archive, ``benchmarks/bench_startup.py``).

Only the plainest form is answered here, and only when it succeeds: anything else (another
option, standard input, a pipe, an error of any kind) is left to the full command line,
which then says what is wrong in its usual words.  The output is the same bytes either way:
both come from :func:`pgarchive.archive.default_list`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence

#: every way of spelling ``--format list`` that click accepts for ``ls``
_LIST_FORMAT = (("-F", "list"), ("--format", "list"))
_LIST_JOINED = ("-Flist", "--format=list")


def list_args(args: Sequence[str]) -> str | None:
    """The archive's path if ``args`` (after ``ls``) are exactly one archive and a list
    format, in any order, and the path is a file or directory to read in place."""
    rest = list(args)
    fmt = False
    for i in range(len(rest)):
        if i + 1 < len(rest) and (rest[i], rest[i + 1]) in _LIST_FORMAT:
            del rest[i:i + 2]
            fmt = True
            break
        if rest[i] in _LIST_JOINED:
            del rest[i]
            fmt = True
            break
    if not fmt or len(rest) != 1 or rest[0].startswith("-"):
        return None
    try:
        mode = os.stat(rest[0]).st_mode
    except (OSError, ValueError):
        return None
    return rest[0] if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else None


def quick_ls(args: Sequence[str]) -> bool:
    """Write the list of the archive ``args`` name and return True, or return False (and
    write nothing) when the full command line must answer."""
    path = list_args(args)
    if path is None:
        return False
    import signal

    from .exits import die

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `pgarchive ls x -F list | head`
    try:
        from ..archive import default_list

        try:
            text = default_list(path)
        except Exception:  # the full command line reports it in its words
            return False
        sys.stdout.buffer.write(text)
        sys.stdout.buffer.flush()
    except KeyboardInterrupt:
        die("interrupted", 130)
    except OSError as e:  # writing: a full disk, /dev/full
        die(e.strerror or str(e), 2)
    return True
