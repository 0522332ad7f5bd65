"""Checks before anything is written: pooler, parallelism, connection, versions, an empty
target, the roles the selected entries name.  Each problem is a Finding; errors stop the
restore unless --force."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from ..archive import Archive
from ..format.model import TocEntry
from .conninfo import Target, mask_text
from .plan import RestoreRequest
from .predict import (
    Prediction,
    PredictOptions,
    SkipPlan,
    predict_failures,
    roles_of_interest,
    skip_plan,
)
from .targetfacts import TargetFacts, gather_for

POOLER_PORTS = {"6543"}  # Supabase's transaction pooler
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_ROLE_REFS = re.compile(
    rf"\b(?:TO|FROM|FOR\s+ROLE|SESSION\s+AUTHORIZATION|GRANTED\s+BY)\s+({_IDENT}(?:\s*,\s*{_IDENT})*)",
    re.IGNORECASE)
_NOT_ROLES = {"public", "current_user", "session_user", "current_role"}


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    message: str


def looks_pooled(target: Target) -> bool:
    """A PgBouncer-style pooled endpoint, as managed services name them."""
    for host in target.host.split(","):
        labels = host.lower().split(".")
        if any(label.endswith("-pooler") or label == "pooler" for label in labels):
            return True
    return target.params.get("port", "") in POOLER_PORTS


def _ident(text: str) -> str:
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


_POLICY_ROLES = re.compile(rf"\bTO\s+({_IDENT}(?:\s*,\s*{_IDENT})*)\s+(?:USING|WITH|;)",
                           re.IGNORECASE)


def roles_named(entries: Sequence[TocEntry], owners: bool, grantees: bool
                ) -> dict[str, set[str]]:
    """Roles the entries need, by what needs them: "owner" (owners), "acl" (GRANT ... TO,
    REVOKE ... FROM, FOR ROLE, SET SESSION AUTHORIZATION) and "policy" (CREATE POLICY ...
    TO, which --no-acl does not remove)."""
    roles: dict[str, set[str]] = {"owner": set(), "acl": set(), "policy": set()}
    for e in entries:
        if owners and e.owner:
            roles["owner"].add(e.owner)
        if e.desc == "POLICY" and e.defn:
            for m in _POLICY_ROLES.finditer(e.defn):
                for part in re.findall(_IDENT, m.group(1)):
                    name = _ident(part)
                    if part.startswith('"') or name not in _NOT_ROLES:
                        roles["policy"].add(name)
        if grantees and e.desc in ("ACL", "DEFAULT ACL", "ACL LANGUAGE") and e.defn:
            for m in _ROLE_REFS.finditer(e.defn):
                for part in re.findall(_IDENT, m.group(1)):
                    name = _ident(part)
                    if part.startswith('"') or name not in _NOT_ROLES:
                        roles["acl"].add(name)
    return roles


def server_major(version_num: int) -> int:
    return version_num // 10000


def dumped_from_major(archive: Archive) -> int | None:
    m = re.match(r"(\d+)", archive.header.server_version or "")
    return int(m.group(1)) if m else None


def preflight(archive: Archive, entries: Sequence[TocEntry], req: RestoreRequest,
              force: bool) -> list[Finding]:
    """Run every check; connection failures are returned as a single error finding."""
    out: list[Finding] = []
    target = req.target
    if looks_pooled(target) and not force:
        out.append(Finding("error", f"{target.masked} looks like a pooled (PgBouncer-style) "
                           "endpoint; pg_restore needs session state that poolers drop. Use "
                           "the direct, unpooled connection string of the database (or "
                           "--force)"))
        return out
    if req.jobs > 1 and not archive.can_seek_data:
        why = ("tar archives can only be read from start to end" if archive.format_name == "TAR"
               else "this custom archive was written to a pipe and records no data offsets")
        out.append(Finding("error", f"--jobs {req.jobs} is not possible: {why}. Restore with "
                           "--jobs 1, or re-dump with pg_dump -Fc -f FILE or -Fd for parallel "
                           "restores"))
    try:
        conn = psycopg.connect(target.conninfo, password=target.password, connect_timeout=15,
                               autocommit=True)
    except psycopg.Error as e:
        detail = " ".join(str(e).split())
        out.append(Finding("error", f"cannot connect to {target.masked}: "
                           f"{mask_text(detail, target.masked)}"))
        return out
    with conn:
        try:
            pool_mode = conn.execute("SHOW pool_mode").fetchone()
        except psycopg.Error:
            pool_mode = None
        if pool_mode and not force:
            out.append(Finding("error", f"the server at {target.masked} answers as a connection "
                               "pooler; use the direct, unpooled connection string (or --force)"))
        src = dumped_from_major(archive)
        dst = server_major(conn.info.server_version)
        if src is not None and dst < src:
            out.append(Finding("warning", f"restoring into PostgreSQL {dst}, older than the "
                               f"PostgreSQL {src} the archive was dumped from: some objects "
                               "may fail to restore"))
        if req.create:
            name = next((e.tag for e in archive.entries if e.desc == "DATABASE"),
                        archive.header.dbname)
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone()
            if exists and not req.clean and not force:
                out.append(Finding("error", f"database {name!r} already exists; --create "
                                   "needs a new name (or --clean to drop it first)"))
        elif not (req.clean or force):
            row = conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
            ).fetchone()
            if row and row[0]:
                out.append(Finding("error", f"target database {conn.info.dbname!r} is not empty "
                                   f"({row[0]} relations); restore into an empty database, or "
                                   "use --clean (drop what the archive creates) or --force"))
        needed = roles_named(entries, owners=not req.no_owner, grantees=not req.no_acl)
        if req.role:
            needed["owner"].add(req.role)
        if any(needed.values()):
            have = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
            fixes = {"owner": "--no-owner (-O)", "acl": "--no-acl (-x)",
                     "policy": "--no-policies"}
            missing = {k: sorted(v - have) for k, v in needed.items() if v - have}
            if missing and not force:
                names = sorted({r for v in missing.values() for r in v})
                out.append(Finding("error", "roles named in the selected entries do not exist "
                                   f"on the target: {', '.join(names)}; create them, or use "
                                   + " and ".join(fixes[k] for k in missing)))
    return out


# --- pre-flight prediction (issue #14) -------------------------------------------------
# Which entries will fail on this target, and the --skip-unrestorable plan.  Kept apart
# from the checks above: it reads the target's catalogs as the restoring role (read-only,
# in a transaction that is rolled back) and never refuses a restore by itself.


@dataclass(frozen=True)
class Forecast:
    """The prediction for a request, and what --skip-unrestorable changes."""

    facts: TargetFacts
    prediction: Prediction
    plan: SkipPlan | None


def prediction_options(req: RestoreRequest, pg_restore_major: int) -> PredictOptions:
    """The pg_restore options of a request that change what runs."""
    return PredictOptions(no_owner=req.no_owner, no_tablespaces=req.no_tablespaces,
                          no_table_am=req.no_table_am,
                          single_transaction=req.single_transaction, create=req.create,
                          clean=req.clean, if_exists=req.if_exists, jobs=req.jobs,
                          pg_restore_major=pg_restore_major)


def forecast(archive: Archive, entries: Sequence[TocEntry], req: RestoreRequest,
             pg_restore_major: int, skip_unrestorable: bool) -> Forecast:
    """Gather the target's facts and predict; raises psycopg.Error when the target cannot
    be reached (the checks above then say why)."""
    facts = gather_for(req.target.conninfo, req.target.password, req.role,
                       roles_of_interest(archive.entries) | ({req.role} if req.role else set()))
    opts = prediction_options(req, pg_restore_major)
    pred = predict_failures(archive, entries, facts, opts)
    plan = skip_plan(entries, facts, opts, archive.entries) if skip_unrestorable else None
    return Forecast(facts, pred, plan)


def apply_plan(req: RestoreRequest, plan: SkipPlan) -> RestoreRequest:
    """The request with the flags --skip-unrestorable adds."""
    from dataclasses import replace

    return replace(req, no_owner=plan.options.no_owner,
                   no_tablespaces=plan.options.no_tablespaces,
                   no_table_am=plan.options.no_table_am)
