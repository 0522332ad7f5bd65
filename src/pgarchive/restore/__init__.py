"""Restore through the real pg_restore: ``run(RestoreRequest(...)) -> RestoreOutcome``.

Pick the binary by the target server, check the target first (read-only), run pg_restore
with a list file of dump ids, watch it, and compare row counts afterwards.  The modules:
plan (request, pg_restore's option checks, argv), binaries (which pg_restore and why),
conninfo (targets and their secrets), preflight and existing (the checks), targetfacts,
predict, statements, forecast and prediction_report (which entries will fail on the target,
and why), runner (the child and its output), compat (known harmless errors), rowcheck (the
counts), run (all of it in order).
"""

from .binaries import Choice, PgRestore, choose, find_pg_restores, usable
from .conninfo import Target, parse_target
from .forecast import Forecast
from .outcome import RestoreEvents, RestoreOutcome
from .plan import RestoreRequest, build_command, check_options
from .preflight import Finding
from .rowcheck import TableCheck, archive_row_counts, compare_rows
from .run import run
from .runner import PgError, RunResult, run_pg_restore

__all__ = ["Choice", "Finding", "Forecast", "PgError", "PgRestore", "RestoreEvents",
           "RestoreOutcome", "RestoreRequest", "RunResult", "TableCheck", "Target",
           "archive_row_counts", "build_command", "check_options", "choose", "compare_rows",
           "find_pg_restores", "parse_target", "run", "run_pg_restore", "usable"]
