"""Restore through the real pg_restore: pick the binary, check the target first, run it
with a list file, watch it, and compare row counts afterwards."""

from .binaries import PgRestore, choose_pg_restore, find_pg_restores
from .conninfo import Target, parse_target
from .plan import RestoreRequest, build_command
from .preflight import Finding, preflight
from .rowcheck import RowMismatch, archive_row_counts, compare_rows
from .runner import RunResult, run_pg_restore

__all__ = ["Finding", "PgRestore", "RestoreRequest", "RowMismatch", "RunResult", "Target",
           "archive_row_counts", "build_command", "choose_pg_restore", "compare_rows",
           "find_pg_restores", "parse_target", "preflight", "run_pg_restore"]
