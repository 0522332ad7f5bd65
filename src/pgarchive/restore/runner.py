"""Running pg_restore: argv only (no shell), the password in the environment, its verbose
output turned into progress, its errors shown as they happen and counted."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .conninfo import Target, mask_text

_PROGRESS = re.compile(r"^pg_restore: (?:creating|processing data for|processing item|"
                       r"launching item|executing|restoring|finished item)\b")
_IGNORED = re.compile(r"errors ignored on restore: (\d+)")


@dataclass
class RunResult:
    returncode: int
    errors: list[str] = field(default_factory=list)
    ignored_errors: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.errors and not self.ignored_errors


def run_pg_restore(argv: Sequence[str], target: Target, env: dict[str, str],
                   on_progress: Callable[[str], None] | None = None,
                   on_error: Callable[[str], None] | None = None) -> RunResult:
    """Run pg_restore; ``on_progress`` gets each verbose step, ``on_error`` each error
    line (password masked) the moment it appears."""
    proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=target.child_env(env))
    assert proc.stdout is not None
    result = RunResult(0)
    for raw in proc.stdout:
        line = mask_text(raw.decode("utf-8", "replace").rstrip("\n"), target.masked)
        if _PROGRESS.match(line):
            if on_progress:
                on_progress(line)
            continue
        m = _IGNORED.search(line)
        if m:
            result.ignored_errors = int(m.group(1))
        if "error:" in line or line.startswith(("ERROR:", "Command was:", "DETAIL:")):
            if "error:" in line:
                result.errors.append(line)
            if on_error:
                on_error(line)
    result.returncode = proc.wait()
    return result
