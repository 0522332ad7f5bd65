"""Standard-library modules a dependency imports when it loads but pgarchive never calls,
loaded on first use instead.

construct's package imports its debugging aids (``Probe``, ``Debugger``: pdb, inspect,
traceback) and, for constructs pgarchive does not use, pickle and hashlib: a fifth of the
instructions of a small ``convert``'s start-up (329 M -> 265 M), which a 1 GB copy pays
beside ``cp``.  While such a dependency is imported, each of these modules not loaded yet
is a stand-in that imports the real one when an attribute of it is first asked for; once
the dependency is loaded the stand-ins leave ``sys.modules``, so any later ``import``
gets the real module.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


class StandIn(types.ModuleType):
    """A module that is the real one of its name, imported on its first attribute use."""

    def __getattr__(self, attr: str) -> object:
        if sys.modules.get(self.__name__) is self:  # (asked while still standing in)
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


@contextmanager
def deferred(*names: str) -> Iterator[None]:
    """Within the block, ``import NAME`` of each of ``names`` not yet loaded gives a
    :class:`StandIn`."""
    stand_ins = {n: StandIn(n) for n in names if n not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
