"""What to run: the pg_restore command line for a request (no shell, no password)."""

from __future__ import annotations

from dataclasses import dataclass

from .binaries import PgRestore
from .conninfo import Target


@dataclass(frozen=True)
class RestoreRequest:
    archive: str
    target: Target
    jobs: int = 1
    clean: bool = False
    if_exists: bool = False
    create: bool = False
    no_owner: bool = False
    no_acl: bool = False
    role: str | None = None
    single_transaction: bool = False
    # --- pre-flight prediction (issue #14): pg_restore flags its fixes name ---
    no_tablespaces: bool = False
    no_table_am: bool = False


def build_command(pg: PgRestore, req: RestoreRequest, list_file: str) -> list[str]:
    """argv for pg_restore: the list file, the options, the target without its password."""
    argv = [pg.path, "--verbose", "--use-list", list_file, "--dbname", req.target.conninfo]
    if req.jobs > 1:
        argv += ["--jobs", str(req.jobs)]
    if req.clean:
        argv.append("--clean")
    if req.if_exists:
        argv.append("--if-exists")
    if req.create:
        argv.append("--create")
    if req.no_owner:
        argv.append("--no-owner")
    if req.no_acl:
        argv.append("--no-acl")
    if req.role:
        argv += ["--role", req.role]
    if req.single_transaction:
        argv.append("--single-transaction")
    # --- pre-flight prediction (issue #14) ---
    if req.no_tablespaces:
        argv.append("--no-tablespaces")
    if req.no_table_am:
        argv.append("--no-table-access-method")
    argv.append(req.archive)
    return argv
