"""Which entries pg_restore will report errors for on a target, and why: pure logic over
the archive's entries and one :class:`~pgarchive.restore.targetfacts.TargetFacts`
snapshot of the target.

:func:`predict` walks the entries in the order pg_restore runs them and, for each, the
statements it runs, each checked against the rules the server applies (extension.c,
event_trigger.c, publicationcmds.c, subscriptioncmds.c, amcmds.c, functioncmds.c,
aclchk.c, tablecmds.c, guc.c...) and the statements the target's major does not know (the
rules of ``pgarchive sql --target-version``).  pg_restore prints ``from TOC entry N`` once
per failing entry: the prediction is the set of those N, in the order pg_restore reaches
them.  :func:`skip_plan` is ``--skip-unrestorable``.

Modules: model (causes, failures), kinds (entry types, pg_restore's order), state (the
walk's memory), walk (the walk), and the rules by what they check: placement (schemas,
tablespaces, access methods), extensions, code (functions, languages, settings),
privileges (superuser-only objects, publications, subscriptions, foreign servers,
comments, what acts on a table), owners (ALTER OWNER), grants (ACLs), version (what the
target's major does not know); plan (--skip-unrestorable).
"""

from __future__ import annotations

from .grants import roles_of_interest
from .model import CAUSES, MISSING_ROLE, Failure, Prediction, PredictOptions, Problem
from .plan import SkipPlan, skip_plan
from .walk import predict

__all__ = [
           "CAUSES",
           "MISSING_ROLE",
           "Failure",
           "PredictOptions",
           "Prediction",
           "Problem",
           "SkipPlan",
           "predict",
           "roles_of_interest",
           "skip_plan",
]
