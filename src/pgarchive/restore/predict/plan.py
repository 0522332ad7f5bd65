"""``--skip-unrestorable``: leave out exactly the predicted failures whose object would not
be created (their dependents are predicted failures too, and go with them), and where
only a statement of an entry fails while its object is still created (its owner,
tablespace or access method), add the pg_restore flag that drops that statement instead
of losing the object.  Repeated until nothing that counts is predicted to fail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ...format.model import TocEntry
from ..targetfacts import TargetFacts
from .model import Failure, Prediction, PredictOptions
from .walk import predict


@dataclass(frozen=True)
class SkipPlan:
    """What ``--skip-unrestorable`` does: the entries it leaves out (each a predicted
    failure whose object would not be created), the pg_restore flags it adds, the
    options and entries that result, and what is still predicted then."""

    left_out: tuple[Failure, ...]
    flags: tuple[str, ...]
    options: PredictOptions
    entries: tuple[TocEntry, ...]
    remaining: Prediction


#: Flags that remove a failing statement without leaving the object out.
STATEMENT_FLAGS = {"owner_missing": "-O", "owner_not_member": "-O", "owner_privilege": "-O",
                   "tablespace_missing": "--no-tablespaces",
                   "table_am_missing": "--no-table-access-method",
                   "table_am_unsupported": "--no-table-access-method"}
#: The first pg_restore with --no-table-access-method.
NO_TABLE_AM_SINCE = 15


def skip_plan(entries: Sequence[TocEntry], facts: TargetFacts, options: PredictOptions,
              archive_entries: Sequence[TocEntry] | None = None) -> SkipPlan:
    """The plan for restoring ``entries`` into the target ``facts`` describes."""
    kept = list(entries)
    opts = options
    left: list[Failure] = []
    flags: list[str] = []
    for _ in range(20):
        pred = predict(kept, facts, opts, archive_entries)
        if not pred.counted:
            break
        drop: set[int] = set()
        for fl in pred.counted:
            statement_flags = [STATEMENT_FLAGS.get(c) for c in fl.causes]
            if fl.created and all(statement_flags):
                for flag in statement_flags:
                    assert flag is not None
                    if flag == "--no-table-access-method" and \
                            opts.pg_restore_major < NO_TABLE_AM_SINCE:
                        drop.add(fl.dump_id)
                        left.append(fl)
                    elif flag not in flags:
                        flags.append(flag)
            else:
                drop.add(fl.dump_id)
                left.append(fl)
        opts = replace(opts, no_owner=opts.no_owner or "-O" in flags,
                       no_tablespaces=opts.no_tablespaces or "--no-tablespaces" in flags,
                       no_table_access_method=opts.no_table_access_method
                       or "--no-table-access-method" in flags)
        kept = [e for e in kept if e.dump_id not in drop]
    pred = predict(kept, facts, opts, archive_entries)
    return SkipPlan(tuple(dict.fromkeys(left)), tuple(flags), opts, tuple(kept), pred)
