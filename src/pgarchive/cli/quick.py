"""``pgarchive ls ARCHIVE --format list`` without click and the commands: the listing that
scripts run most (``pgarchive ls x.dump -F list > x.list``), where start-up is nearly all
of the time (issue 10: under 50 ms for a small archive, ``benchmarks/bench_startup.py``).
And ``pgarchive convert SRC DST`` with no option but ``-F``, ``--no-sync``, ``--force`` and
``--json``: a copy of a 2 GB archive is held to 1.5x ``cp`` (issue 18), and click with the
commands is a tenth of that copy's time.

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


#: the flags of ``convert`` that its quick path takes, besides ``-F``/``--format KIND``
_CONVERT_FLAGS = ("--no-sync", "--force", "--json")


def convert_args(args: Sequence[str]) -> tuple[str, str, str | None, set[str]] | None:
    """(SRC, DST, the format asked for, the flags given) if ``args`` (after ``convert``)
    are two paths and nothing but :data:`_CONVERT_FLAGS` and ``-F``/``--format`` with a
    format's name, in any order; else None (the full command line answers)."""
    from .converting import FORMATS

    paths: list[str] = []
    flags: set[str] = set()
    kind = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _CONVERT_FLAGS:
            flags.add(arg)
            i += 1
        elif arg in ("-F", "--format") and i + 1 < len(args) and args[i + 1] in FORMATS:
            kind = FORMATS[args[i + 1]]
            i += 2
        elif arg.startswith("-"):  # another option, "-" or "--": not ours to read
            return None
        else:
            paths.append(arg)
            i += 1
    if len(paths) != 2:
        return None
    return paths[0], paths[1], kind, flags


def quick_convert(args: Sequence[str]) -> bool:
    """Convert as ``args`` ask and return True, or return False (having done nothing) when
    the full command line must answer.  A failure ends as the full command's would
    (exits.fail: its words, its exit status)."""
    parsed = convert_args(args)
    if parsed is None:
        return False
    import signal

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    src, dst, kind, flags = parsed
    try:
        from ..convert import ConvertOptions
        from .converting import run

        run(src, dst, ConvertOptions(kind=kind, force="--force" in flags,
                                     sync="--no-sync" not in flags), "--json" in flags)
    except (Exception, KeyboardInterrupt) as e:
        from .exits import fail

        fail(e)
    return True


def sql_args(args: Sequence[str]) -> tuple[str, bool, str | None, str | None] | None:
    """(ARCHIVE, -s given, the restrict key, the output) if ``args`` (after ``sql``) are
    one archive and nothing but ``-s``/``--schema-only``, ``--restrict-key KEY`` and
    ``-f``/``--file FILE``, each at most once, in any order; else None (the full command
    line answers: any other option, a value that looks like one, standard input)."""
    archive = key = output = None
    schema = False
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else "-"
        if arg in ("-s", "--schema-only") and not schema:
            schema = True
            i += 1
        elif arg == "--restrict-key" and key is None and not value.startswith("-"):
            key = value
            i += 2
        elif arg in ("-f", "--file") and output is None and (
                value == "-" or not value.startswith("-")) and i + 1 < len(args):
            output = value
            i += 2
        elif arg.startswith("-") or archive is not None:
            return None
        else:
            archive = arg
            i += 1
    return None if archive is None else (archive, schema, key, output)


def quick_sql(args: Sequence[str]) -> bool:
    """Write the script as ``args`` ask and return True, or return False (having done
    nothing) when the full command line must answer: ``pgarchive sql x.dump -s -f x.sql``
    without click and the other commands (issue 15: a 100,000-entry schema's script is
    held to 1.5x pg_restore, and they are a twentieth of it).  The same selection and
    script options as the full command's defaults; a failure ends as the full command's
    would (exits.fail)."""
    parsed = sql_args(args)
    if parsed is None:
        return False
    import signal

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as entry.main
    archive, schema, key, output = parsed
    import gc

    gc.disable()  # (from the imports on: run() pauses it anyway, and the process ends)
    try:
        from ..script import ScriptOptions, run
        from ..selection import RestoreOptions, Selection

        def warn(message: str) -> None:  # (click.echo's line on stderr, as the full one)
            sys.stderr.write(f"pgarchive: warning: {message}\n")
            sys.stderr.flush()

        def selection(entries: object) -> Selection:
            restore = RestoreOptions(schema_only=schema)
            restore.validate()
            return Selection(restore)

        run(archive, selection, ScriptOptions(restrict_key=key), output, warn)
    except (Exception, KeyboardInterrupt) as e:
        from .exits import fail

        fail(e)
    return True
