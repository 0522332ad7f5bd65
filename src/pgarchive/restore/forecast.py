"""The forecast step of a restore: which entries pg_restore will fail on this target, and
why (issue 14), made from one read-only catalog snapshot on the pre-flight's connection.

The forecast is also where the pre-flight's role checks come from, so that the two never
disagree: a restore whose predicted failures include roles the target lacks (owners
unless -O, grantees unless -x, policy roles unless --no-policies) or owners the restoring
role cannot become is refused before anything is written, naming exactly those roles
(forcible: --force restores as pg_restore would).  Every other predicted failure is a
warning: the restore proceeds as pg_restore would, unless --exit-on-prediction.  With
--skip-unrestorable the plan is applied first, and the checks look at what is left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..format.model import TocEntry
from ..selection import Selection
from .plan import RestoreRequest
from .predict import (
    MISSING_ROLE,
    Prediction,
    PredictOptions,
    SkipPlan,
    predict,
    roles_of_interest,
    skip_plan,
)
from .preflight import Facts
from .targetfacts import TargetFacts, gather

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Forecast:
    """The prediction for the restore as asked, and the plan of --skip-unrestorable:
    ``applied`` when this restore uses it, else (dry runs) what it would do."""

    facts: TargetFacts
    prediction: Prediction
    plan: SkipPlan | None = None
    applied: bool = False

    @property
    def remaining(self) -> Prediction:
        """What is predicted to fail in the restore pg_restore is given."""
        return self.plan.remaining if self.applied and self.plan else self.prediction


def prediction_options(req: RestoreRequest, sel: Selection, pg_major: int) -> PredictOptions:
    """The options of a request that change what pg_restore runs."""
    return PredictOptions(no_owner=req.no_owner, no_tablespaces=req.no_tablespaces,
                          no_table_access_method=req.no_table_access_method,
                          single_transaction=req.single_transaction,
                          create=sel.restore.create, clean=req.clean, if_exists=req.if_exists,
                          jobs=req.jobs, pg_restore_major=pg_major)


def make(conn: psycopg.Connection[Any], req: RestoreRequest, sel: Selection,
         archive_entries: list[TocEntry], entries: list[TocEntry], pg_major: int) -> Forecast:
    """Read the target as the restoring role (read-only) and predict; the plan of
    --skip-unrestorable too when it is asked for (applied) or in a dry run (shown).
    Raises psycopg.Error when the catalogs cannot be read."""
    interest = roles_of_interest(archive_entries) | ({req.role} if req.role else set())
    facts = gather(conn, req.role, interest)
    opts = prediction_options(req, sel, pg_major)
    pred = predict(entries, facts, opts, archive_entries)
    plan = None
    if (req.skip_unrestorable or req.dry_run) and pred.counted:
        plan = skip_plan(entries, facts, opts, archive_entries)
    return Forecast(facts, pred, plan, req.skip_unrestorable and plan is not None)


def applied(req: RestoreRequest, fc: Forecast | None) -> RestoreRequest:
    """The request with the flags the applied plan adds."""
    if fc is None or not fc.applied or fc.plan is None:
        return req
    o = fc.plan.options
    return replace(req, no_owner=o.no_owner, no_tablespaces=o.no_tablespaces,
                   no_table_access_method=o.no_table_access_method)


def check(fc: Forecast, req: RestoreRequest, facts: Facts) -> None:
    """The refusals the forecast makes: roles (see the module doc), and any predicted
    failure with --exit-on-prediction."""
    pred = fc.remaining
    missing: dict[str, set[str]] = {}
    owners: set[str] = set()
    for f in pred.counted:
        for p in f.problems:
            if p.cause in MISSING_ROLE:
                missing.setdefault(p.cause, set()).update(p.roles)
            elif p.cause == "owner_not_member":
                owners.update(p.roles)
    if missing:
        gone = sorted(set().union(*missing.values()))
        n = sum(1 for f in pred.counted if any(c in MISSING_ROLE for c in f.causes))
        fixes = [MISSING_ROLE[c] for c in MISSING_ROLE if c in missing]
        fix = ", ".join(fixes[:-1]) + " and " + fixes[-1] if len(fixes) > 1 else fixes[0]
        facts.error("roles named in the selected entries do not exist on the target: "
                    f"{', '.join(gone)} ({n} entr{'y' if n == 1 else 'ies'} would fail); "
                    f"create them, or use {fix}, or --skip-unrestorable", forcible=True)
    if owners:
        acting = fc.facts.current_user
        cannot = sorted(owners)
        facts.error(f"{acting} cannot act as the owner{'s' if len(cannot) > 1 else ''} "
                    f"{', '.join(cannot)} of selected entries: it is neither a superuser "
                    "nor a member of those roles, so their ALTER ... OWNER statements would "
                    f"fail. Use -O/--no-owner (everything will belong to {acting}), grant "
                    f"{acting} membership in those roles, or connect as a superuser",
                    forcible=True)
    if req.exit_on_prediction and pred.counted:
        n = len(pred.counted)
        facts.error(f"--exit-on-prediction: {n} of {pred.entries} entries are predicted to "
                    "fail on this target; nothing is restored")
