"""Finding the pg_restore to run, and why that one.

pg_restore speaks the SQL of its own major version: run against an older server, a newer
pg_restore sends settings that server does not know (pg_restore 17 and later send
``SET transaction_timeout = 0``, which PostgreSQL 16 and older reject).  So the choice is
the newest pg_restore whose major is not above the server's and that reads the archive;
only when none reads it, the newest that does, and then its known harmless errors
(:mod:`.compat`) are explained and not counted.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ..errors import UsageError

#: The newest archive version each pg_restore major reads (pg_backup_archiver.h K_VERS_MAX).
READS_UP_TO = {9: (1, 13), 10: (1, 13), 11: (1, 13), 12: (1, 14), 13: (1, 14), 14: (1, 14),
               15: (1, 14), 16: (1, 15), 17: (1, 16), 18: (1, 16)}
USUAL_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
              "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin",
              "/Applications/Postgres.app/Contents/Versions/*/bin")


@dataclass(frozen=True)
class PgRestore:
    """One pg_restore binary: where it is, its version, and where we found it."""

    path: str
    version: str  # "18.6"
    source: str   # where we found it

    @property
    def major(self) -> int:
        """The major version (18 of 18.1)."""
        return int(self.version.split(".")[0])

    @property
    def sort_key(self) -> tuple[int, ...]:
        """The version as numbers, to order pg_restores by it."""
        return tuple(int(x) for x in self.version.split(".") if x.isdigit())

    @property
    def max_archive(self) -> tuple[int, int]:
        """The newest archive version (major, minor) this pg_restore reads."""
        if self.major in READS_UP_TO:
            return READS_UP_TO[self.major]
        return (1, 16) if self.major > 18 else (1, 12)

    def can_read(self, vmaj: int, vmin: int) -> bool:
        """Whether this pg_restore reads an archive of version vmaj.vmin."""
        return (vmaj, vmin) <= self.max_archive

    def describe(self) -> str:
        """``pg_restore 18.1 (/path)``, as the messages name it."""
        return f"pg_restore {self.version} ({self.path})"


@dataclass(frozen=True)
class Choice:
    """The pg_restore chosen, the sentence that says why, and whether it is newer than the
    target server (then :mod:`.compat` applies)."""

    pg: PgRestore
    reason: str
    newer_than_server: bool = False


_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)")


def _version_of(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, timeout=10,
                             check=False).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION.search(out)
    return m.group(1) if m else None


def _candidates(explicit: str | None) -> list[tuple[str, str]]:
    candidates: list[tuple[str, str]] = []
    if explicit:
        candidates.append((explicit, "--pg-restore"))
    if os.environ.get("PG_RESTORE"):
        candidates.append((os.environ["PG_RESTORE"], "PG_RESTORE"))
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder:
            candidates.append((os.path.join(os.path.abspath(folder), "pg_restore"), "PATH"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, timeout=10,
                                    check=False).stdout.decode().strip()
            if bindir:
                candidates.append((os.path.join(bindir, "pg_restore"), "pg_config --bindir"))
        except (OSError, subprocess.SubprocessError):
            pass
    for pattern in USUAL_DIRS:
        for d in sorted(glob.glob(pattern)):
            candidates.append((os.path.join(d, "pg_restore"), d))
    return candidates


def find_pg_restores(explicit: str | None = None) -> list[PgRestore]:
    """Every pg_restore we can find (each folder of PATH, not only the first hit), in the
    order of the places we look; their ``--version`` is asked of all at once."""
    seen: set[str] = set()
    unique: list[tuple[str, str]] = []
    for path, source in _candidates(explicit):
        real = os.path.realpath(path)
        if real in seen or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        if os.path.basename(real) == "pg_wrapper":
            # Debian's /usr/bin/pg_restore: a Perl script that runs one of the
            # /usr/lib/postgresql/*/bin binaries, which are looked at themselves.
            continue
        seen.add(real)
        unique.append((path, source))
    running: list[tuple[str, str, subprocess.Popen[bytes] | None]] = []
    for path, source in unique:
        try:
            proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                [path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL)
        except OSError:
            proc = None
        running.append((path, source, proc))
    found: list[PgRestore] = []
    for path, source, proc in running:
        if proc is None:
            continue
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            continue
        m = _VERSION.search(out.decode("utf-8", "replace"))
        if m:
            found.append(PgRestore(path, m.group(1), source))
    return found


def usable(found: list[PgRestore], vmaj: int, vmin: int, explicit: str | None,
           min_major: int = 0, options: tuple[str, ...] = ()) -> list[PgRestore]:
    """The candidates that read the archive and have every option asked for; refuses
    (before any connection) when there is none."""
    if explicit:
        chosen = next((p for p in found if p.source == "--pg-restore"), None)
        if chosen is None:
            raise UsageError(f"--pg-restore {explicit} is not a working pg_restore")
        if not chosen.can_read(vmaj, vmin):
            raise UsageError(_too_old(vmaj, vmin, [chosen]))
        if chosen.major < min_major:
            raise UsageError(f"{', '.join(options)} needs pg_restore {min_major} or later; "
                             f"--pg-restore names {chosen.describe()}")
        return [chosen]
    readers = [p for p in found if p.can_read(vmaj, vmin)]
    if not readers:
        raise UsageError(_too_old(vmaj, vmin, found))
    able = [p for p in readers if p.major >= min_major]
    if not able:
        seen = ", ".join(p.describe() for p in readers)
        raise UsageError(f"{', '.join(options)} needs pg_restore {min_major} or later; "
                         f"found only {seen}. Install a newer PostgreSQL client, name one "
                         "with --pg-restore, or leave the option out")
    return able


def choose(able: list[PgRestore], vmaj: int, vmin: int, server_major: int | None,
           explicit: bool = False, options: tuple[str, ...] = ()) -> Choice:
    """The pg_restore to run against a server of ``server_major`` (None: not known), among
    ``able`` (those that read the archive and have the ``options`` asked for)."""
    archive = f"{vmaj}.{vmin}"
    newest = max(able, key=lambda p: p.sort_key)
    if explicit:
        pg = able[0]
        newer = server_major is not None and pg.major > server_major
        return Choice(pg, f"{pg.describe()}, as --pg-restore asks", newer)
    if server_major is None:
        return Choice(newest, f"{newest.describe()}: the newest that reads archive version "
                              f"{archive}")
    fitting = [p for p in able if p.major <= server_major]
    if fitting:
        pg = max(fitting, key=lambda p: p.sort_key)
        return Choice(pg, f"{pg.describe()}: the newest that reads archive version {archive} "
                          f"and is not newer than the PostgreSQL {server_major} server")
    majors = sorted(m for m, top in READS_UP_TO.items() if top >= (vmaj, vmin))
    if majors and majors[0] > server_major:
        why = f"archive version {archive} needs the pg_restore of PostgreSQL {majors[0]} or later"
    else:
        why = f"no pg_restore {server_major} or older was found"
        if options:
            why += f" that has {', '.join(options)}"
    return Choice(newest, f"{newest.describe()}, newer than the PostgreSQL {server_major} "
                          f"server: {why}", True)


def _too_old(vmaj: int, vmin: int, found: list[PgRestore]) -> str:
    majors = sorted(m for m, top in READS_UP_TO.items() if top >= (vmaj, vmin))
    readers = f"PostgreSQL {majors[0]} or later" if majors else "a newer PostgreSQL"
    seen = ", ".join(f"{p.path} ({p.version}, from {p.source})" for p in found) or "none"
    return (f"no pg_restore found that can read archive version {vmaj}.{vmin}: it needs "
            f"{readers}; found: {seen}. Install a newer PostgreSQL client or name one with "
            "--pg-restore")
