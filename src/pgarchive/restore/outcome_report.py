"""A restore's outcome as the user reads it: the notes and warnings of the checks, the
forecast, a dry run's command and list, the summary after a run, and ``--json``'s document.

Text comes as ``(text, level)`` messages (level "note", "warning" or "error"), which the
command prints as ``pgarchive: LEVEL: TEXT`` on stderr; the dry run's report, command and
list are the one part meant for stdout.
"""

from __future__ import annotations

import shlex
from typing import Any

from .outcome import RestoreOutcome
from .prediction_report import report_json, report_text, skip_summary

Message = tuple[str, str]


def check_messages(out: RestoreOutcome) -> list[Message]:
    """What the checks found, before pg_restore runs (or instead of it)."""
    said: list[Message] = []
    if out.engine == "native":
        said.append((f"using pgarchive's native engine: {out.engine_reason}", "note"))
    elif out.choice is not None:
        said.append((f"using {out.choice.reason}", "note"))
    if out.resume is not None and out.resume.found_steps:
        said.append((f"resuming the restore started {out.resume.started}: "
                     f"{out.resume.found_steps} steps are done already", "note"))
    said += [(text, "warning") for text in out.unmatched]
    said += [(f.message, f.level) for f in out.findings]
    if out.left_out:
        n = len(out.left_out)
        said.append((f"left out {n} entr{'y' if n == 1 else 'ies'} that --with-deps needs "
                     "and the target already has: "
                     + ", ".join(e.label for e in out.left_out[:8])
                     + (" ..." if n > 8 else ""), "note"))
    return said


def forecast_message(out: RestoreOutcome) -> Message | None:
    """The predicted failures, before pg_restore runs: a warning when any remains (a note
    when --skip-unrestorable has left them all out); None when none is predicted."""
    fc = out.forecast
    if fc is None or not fc.prediction.counted:
        return None
    level = "warning" if fc.remaining.counted else "note"
    return report_text(fc.prediction, fc.facts, fc.plan, fc.applied).rstrip("\n"), level


def dry_run_text(out: RestoreOutcome) -> str:
    """A dry run's report for stdout: the forecast, then the pg_restore command and the
    entries of its list (or the entries the native engine restores)."""
    if out.run is not None or not out.request.dry_run:
        return ""
    text = ""
    if out.forecast is not None:
        f = out.forecast
        text += report_text(f.prediction, f.facts, f.plan, f.applied) + "\n"
    if out.engine == "native":
        text += "# the native engine restores these entries (no pg_restore):\n" + out.listing
    elif out.choice is not None:
        text += ("# " + " ".join(shlex.quote(x) for x in out.command) + "\n"
                 "# LIST_FILE holds the dump id of each of these entries, in order:\n"
                 + out.listing)
    return text


def run_messages(out: RestoreOutcome) -> list[Message]:
    """After a run: the harmless errors not counted, the row counts that differ, and what
    --resume did."""
    assert out.run is not None
    said: list[Message] = []
    harmless = out.run.harmless
    if harmless:
        k = harmless[0].known
        assert k is not None
        said.append((f"{len(harmless)} known harmless error{'s' if len(harmless) > 1 else ''} "
                     f"of {out.choice.pg.describe() if out.choice else 'pg_restore'} not "
                     f"counted: {k.command} fails with {k.error}; {k.why}", "note"))
    if out.count_error:
        said.append(("the archive's rows could not be counted, so no row count was "
                     f"compared: {out.count_error}", "error"))
    for t in out.tables:
        if t.status == "not restored":
            said.append((f"not restored: {t.name}: {t.why}", "warning"))
        elif t.status != "match":
            got = ("no rows counted" if t.target_rows is None
                   else f"target {t.target_rows} rows")
            said.append((f"rows differ: {t.name}: archive {t.archive_rows} rows, {got} "
                         f"({t.why})", "error"))
    r = out.resume
    if r is not None and r.skipped:
        said.append((f"--resume: skipped {r.skipped} steps a previous run had done", "note"))
    if out.interrupted:
        said.append(("interrupted: what was in flight was rolled back"
                     + ("; run the same command again (with --resume) to finish"
                        if r is not None else
                        "; with --resume, a restore can be finished after an interruption"),
                     "warning"))
    elif r is not None and r.kept:
        said.append(("--resume's record is kept in the target (schema pgarchive_resume): run "
                     "the same command again to finish, or DROP SCHEMA pgarchive_resume "
                     "CASCADE", "note"))
    return said


def summary_line(out: RestoreOutcome) -> str:
    """The last line after a run: what was restored by whom, the row counts that match,
    pg_restore's errors, and what --skip-unrestorable left out."""
    assert out.run is not None
    harmless = out.run.harmless
    loaded = [t for t in out.tables if t.status != "not restored"]
    matched = sum(1 for t in loaded if t.status == "match")
    errors = len(out.run.counted)
    native = out.engine == "native"
    who = ("the native engine" if native else
           f"pg_restore {out.choice.pg.version if out.choice else '?'}")
    counts = f"{matched}/{len(loaded)} tables with matching row counts"
    if out.not_restored:
        counts += f", {len(out.not_restored)} not restored"
    tail = (f"{counts}; {errors} {'' if native else 'pg_restore '}"
            f"error{'' if errors == 1 else 's'}"
            + (f" ({len(harmless)} harmless not counted)" if harmless else ""))
    fc = out.forecast
    if fc is not None and fc.applied and fc.plan is not None:
        tail += "; " + skip_summary(fc.plan)
    if out.exit_code == 0:
        return (f"restored {len(out.entries)} entries with {who} into {out.database}; "
                f"{tail}")
    return f"restore into {out.database} with {who} did not fully succeed: {tail}"


def outcome_json(out: RestoreOutcome) -> dict[str, Any]:
    """The outcome as data (``--json``): the checks, the forecast (every predicted
    failure with dump_id, desc, name, cause, because_of), the command, and after a real
    run what pg_restore did and the row counts."""
    fc = out.forecast
    data: dict[str, Any] = {
        "dry_run": out.request.dry_run,
        "exit_code": out.exit_code,
        "refused": out.refused,
        "engine": out.engine,
        "engine_reason": out.engine_reason,
        "pg_restore": None if out.choice is None else {
            "path": out.choice.pg.path, "version": out.choice.pg.version,
            "reason": out.choice.reason},
        "command": out.command,
        "database": out.database,
        "findings": [{"level": f.level, "message": f.message} for f in out.findings],
        "unmatched": out.unmatched,
        "left_out_existing": [e.dump_id for e in out.left_out],
        "entries": [e.dump_id for e in out.entries],
        "prediction": None if fc is None else report_json(fc.prediction, fc.facts, fc.plan,
                                                          fc.applied),
    }
    if out.run is not None:
        data["interrupted"] = out.interrupted
        data["pg_restore_errors"] = [{"entry": e.entry, "text": e.text, "harmless":
                                      e.known is not None} for e in out.run.errors]
        data["tables"] = [{"name": t.name, "status": t.status,
                           "archive_rows": t.archive_rows, "target_rows": t.target_rows,
                           "why": t.why} for t in out.tables]
        data["count_error"] = out.count_error
    return data
