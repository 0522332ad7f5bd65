"""The pre-flight's report: predicted failures grouped by cause, as text and as JSON.

Each cause lists the entries that fail on their own, under each the entries that fail
because of it (its dependents), and the fix: a pg_restore flag, or ``--skip-unrestorable``.
The JSON form carries every failure with ``dump_id``, ``desc``, ``name``, ``cause`` and
``because_of``.  The text is for a terminal: names are escaped (:mod:`pgarchive.terminal`).
"""

from __future__ import annotations

from typing import Any

from ..terminal import for_terminal
from .predict import CAUSES, Failure, Prediction, SkipPlan
from .targetfacts import TargetFacts

#: Dependents shown under each failing entry in the text report (JSON lists them all).
SHOWN_DEPENDENTS = 12
#: Dump ids shown in the one-line summary of --skip-unrestorable.
SHOWN_IDS = 10


def _short(f: Failure) -> str:
    return for_terminal(f"{f.dump_id} {f.desc} {f.name}")


def target_text(facts: TargetFacts) -> str:
    """The target as the report names it."""
    v = facts.server_version_num
    version = f"{v // 10000}.{v % 10000}" if v >= 100000 else str(v)
    su = "a superuser" if facts.superuser else "not a superuser"
    return for_terminal(f'database "{facts.database}" on PostgreSQL {version} as role '
                        f'"{facts.current_user}" ({su})')


def report_text(pred: Prediction, facts: TargetFacts, plan: SkipPlan | None = None,
                applied: bool = True) -> str:
    """The human report: one block per cause, in the order pg_restore meets them; with
    ``plan``, what --skip-unrestorable does (``applied``) or would do."""
    counted = pred.counted
    lines: list[str] = []
    if not counted:
        lines.append(f"pre-flight: no entry is predicted to fail restoring into "
                     f"{target_text(facts)} ({pred.entries} entries)")
    else:
        lines.append(f"pre-flight: {len(counted)} of {pred.entries} entries are predicted "
                     f"to fail restoring into {target_text(facts)}")
    harmless = [f for f in pred.failures if f.harmless]
    for cause, message in pred.session:
        lines.append("")
        lines.append(f"{CAUSES[cause][0]} [{cause}]: {for_terminal(message)}")
        if harmless:
            lines.append("      also reported from " + ", ".join(_short(f) for f in harmless)
                         + " (pg_restore reconnects there)")
    roots = [f for f in counted if f.because_of is None]
    dependents: dict[int, list[Failure]] = {}
    for f in counted:
        if f.because_of is not None:
            dependents.setdefault(f.because_of, []).append(f)
    by_cause: dict[str, list[Failure]] = {}
    for f in roots:
        by_cause.setdefault(f.cause, []).append(f)
    for cause, fails in by_cause.items():
        deps = sum(len(dependents.get(f.dump_id, ())) for f in fails)
        verb = "depends" if deps == 1 else "depend"
        extra = (f", and {deps} that {verb} on {'it' if len(fails) == 1 else 'them'}"
                 if deps else "")
        lines.append("")
        lines.append(f"{CAUSES[cause][0]} [{cause}]: {_entries(len(fails))}{extra}; "
                     f"fix: {_fix(cause)}")
        for f in fails:
            kept = " (the object is still created)" if f.created else ""
            lines.append(f"  {_short(f)}: {for_terminal(f.message)}{kept}")
            for c, m in f.more:
                lines.append(f"      also [{c}]: {for_terminal(m)}")
            under = dependents.get(f.dump_id, [])
            if under:
                shown = ", ".join(_short(d) for d in under[:SHOWN_DEPENDENTS])
                more = (f" and {len(under) - SHOWN_DEPENDENTS} more (--json lists them)"
                        if len(under) > SHOWN_DEPENDENTS else "")
                lines.append(f"      fail because of it: {shown}{more}")
    for note in pred.notes:
        lines.append("")
        lines.append(f"note: {for_terminal(note)}")
    if plan is not None and counted:
        lines.append("")
        lines.append(skip_summary(plan, applied))
    return "\n".join(lines) + "\n"


def _entries(n: int) -> str:
    return "1 entry" if n == 1 else f"{n} entries"


def _fix(cause: str) -> str:
    flag = CAUSES[cause][1]
    if flag == "--skip-unrestorable":
        return "--skip-unrestorable (leaves out these entries and what depends on them)"
    return f"{flag}, or --skip-unrestorable"


def skip_summary(plan: SkipPlan, applied: bool = True) -> str:
    """What --skip-unrestorable does (or would do) for this restore, in one sentence."""
    parts = []
    leave, add = ("leaves out", "adds") if applied else ("would leave out", "add")
    if plan.left_out:
        ids = [str(f.dump_id) for f in plan.left_out]
        shown = ", ".join(ids[:SHOWN_IDS]) + (", ..." if len(ids) > SHOWN_IDS else "")
        parts.append(f"{leave} {_entries(len(plan.left_out))} predicted to fail ({shown})")
    if plan.flags:
        parts.append(f"{add} " + " ".join(plan.flags) + " for entries that are restored "
                     "but one of whose statements fails")
    what = " and ".join(parts) if parts else ("changes nothing" if applied
                                               else "would change nothing")
    rest = ("" if not plan.remaining.counted else
            f"; {len(plan.remaining.counted)} failures remain predicted")
    return f"--skip-unrestorable {what}{rest}"


def report_json(pred: Prediction, facts: TargetFacts, plan: SkipPlan | None = None,
                applied: bool = True) -> dict[str, Any]:
    """The same as data: every failure, the causes with their fixes, and the plan of
    --skip-unrestorable (``applied`` when it is the one this restore uses)."""
    causes: dict[str, dict[str, Any]] = {}
    for f in pred.failures:
        c = causes.setdefault(f.cause, {"title": CAUSES[f.cause][0],
                                        "fix": CAUSES[f.cause][1], "entries": 0})
        c["entries"] += 1
    first = pred.first()
    out: dict[str, Any] = {
        "target": {"database": facts.database, "server_version_num": facts.server_version_num,
                   "role": facts.current_user, "superuser": facts.superuser},
        "entries": pred.entries,
        "failures": [f.to_json() for f in pred.failures],
        "causes": causes,
        "first_failure": first.dump_id if first else None,
        "session_errors": [{"cause": c, "message": m} for c, m in pred.session],
        "notes": list(pred.notes),
    }
    if plan is not None:
        out["skip_unrestorable"] = {
            "applied": applied,
            "left_out": [f.dump_id for f in plan.left_out], "flags": list(plan.flags),
            "remaining": [f.to_json() for f in plan.remaining.failures]}
    return out
