"""Every real restore the restore tests run is also a test of the forecast (issue 14): run
with ``--json``, the entries pg_restore reported errors for must be exactly the entries
predicted to fail (the oracle of ``test_predict_managed``, over the workflows' options:
-s, -a, --clean, -C, -j, --with-deps, --role...).  The caller gets what it would have got
without ``--json`` (nothing on stdout, the same stderr).

Left out of the comparison, as the README's "what cannot be predicted" says: errors of
rows (a COPY that fails on its data: a foreign key or check constraint the rows violate),
the DROP statements of --clean (they meet what the target already has), and a restore
forced into a target that is not empty."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

#: Options after which pg_restore stops at its first error (or rolls back): fewer errors
#: than failing entries, which test_predict_managed checks on its own.
STOPS = ("-e", "--exit-on-error", "-1", "--single-transaction", "--transaction-size")
_DROP = re.compile(r"Command was: (?:DROP |ALTER [^;]*? DROP )")


def checked(args: tuple[str, ...]) -> bool:
    """A real restore whose errors can be compared with the prediction."""
    return (bool(args) and args[0] == "restore" and "--dry-run" not in args
            and "--json" not in args
            and not any(a.split("=")[0] in STOPS for a in args))


def predicted_ids(data: dict[str, Any]) -> set[int]:
    """The entries predicted to fail in the restore pg_restore was given (after
    --skip-unrestorable's plan, when applied); harmless ones are not counted."""
    pred = data["prediction"]
    plan = pred.get("skip_unrestorable")
    fails = plan["remaining"] if plan and plan["applied"] else pred["failures"]
    return {f["dump_id"] for f in fails if not f["harmless"]}


def predictable(error: dict[str, Any], clean: bool) -> bool:
    """An error of the kind the forecast predicts (see the module doc)."""
    text = str(error["text"])
    if "COPY failed for table" in text:
        return False
    return not (clean and _DROP.search(text))


def failed_ids(data: dict[str, Any], clean: bool) -> set[int]:
    """The entries pg_restore reported (predictable, not harmless) errors for."""
    return {e["entry"] for e in data["pg_restore_errors"]
            if not e["harmless"] and e["entry"] is not None and predictable(e, clean)}


def run_pgarchive(args: tuple[str, ...], env: dict[str, str]
                  ) -> subprocess.CompletedProcess[str]:
    """``python -m pgarchive ARGS``; a real restore also checks the forecast (above)."""
    check = checked(args)
    res = subprocess.run([sys.executable, "-m", "pgarchive", *args,
                          *(["--json"] if check else [])],
                         capture_output=True, text=True, env=env)
    if not check or not res.stdout.strip():  # a usage error: nothing was printed
        return res
    data = json.loads(res.stdout)
    forced_into_rows = "--force" in args and any(
        "is not empty" in f["message"] for f in data["findings"])
    if (data.get("pg_restore_errors") is not None and data["prediction"] is not None
            and not forced_into_rows):
        failed = failed_ids(data, clean="-c" in args or "--clean" in args)
        predicted = predicted_ids(data)
        assert failed == predicted, (
            f"forecast: predicted {sorted(predicted)}, pg_restore failed on "
            f"{sorted(failed)}\n{res.stderr}")
    return subprocess.CompletedProcess(res.args, res.returncode, "", res.stderr)
