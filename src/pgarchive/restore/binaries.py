"""Finding a pg_restore that can read the archive: the newest one that knows its version."""

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
    path: str
    version: str  # "18.6"
    source: str   # where we found it

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def max_archive(self) -> tuple[int, int]:
        if self.major in READS_UP_TO:
            return READS_UP_TO[self.major]
        return (1, 16) if self.major > 18 else (1, 12)

    def can_read(self, vmaj: int, vmin: int) -> bool:
        return (vmaj, vmin) <= self.max_archive


def _version_of(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, timeout=10,
                             check=False).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)", out)
    return m.group(1) if m else None


def find_pg_restores(explicit: str | None = None) -> list[PgRestore]:
    """Every pg_restore we can find, in the order of the places we look."""
    candidates: list[tuple[str, str]] = []
    if explicit:
        candidates.append((explicit, "--pg-restore"))
    if os.environ.get("PG_RESTORE"):
        candidates.append((os.environ["PG_RESTORE"], "PG_RESTORE"))
    on_path = shutil.which("pg_restore")
    if on_path:
        candidates.append((on_path, "PATH"))
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
    found: list[PgRestore] = []
    seen: set[str] = set()
    for path, source in candidates:
        real = os.path.realpath(path)
        if real in seen or not os.access(path, os.X_OK):
            continue
        seen.add(real)
        version = _version_of(path)
        if version:
            found.append(PgRestore(path, version, source))
    return found


def choose_pg_restore(vmaj: int, vmin: int, explicit: str | None = None) -> PgRestore:
    """The pg_restore to use: the one asked for, else the newest that reads the archive."""
    found = find_pg_restores(explicit)
    if explicit:
        chosen = next((p for p in found if p.source == "--pg-restore"), None)
        if chosen is None:
            raise UsageError(f"--pg-restore {explicit} is not a working pg_restore")
        if not chosen.can_read(vmaj, vmin):
            raise UsageError(_too_old(vmaj, vmin, [chosen]))
        return chosen
    usable = [p for p in found if p.can_read(vmaj, vmin)]
    if not usable:
        raise UsageError(_too_old(vmaj, vmin, found))
    return max(usable, key=lambda p: tuple(int(x) for x in p.version.split(".")))


def _too_old(vmaj: int, vmin: int, found: list[PgRestore]) -> str:
    majors = sorted(m for m, top in READS_UP_TO.items() if top >= (vmaj, vmin))
    readers = f"PostgreSQL {majors[0]} or later" if majors else "a newer PostgreSQL"
    seen = ", ".join(f"{p.path} ({p.version}, from {p.source})" for p in found) or "none"
    return (f"no pg_restore found that can read archive version {vmaj}.{vmin}: it needs "
            f"{readers}; found: {seen}. Install a newer PostgreSQL client or name one with "
            "--pg-restore")
