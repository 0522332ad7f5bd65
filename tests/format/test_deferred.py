"""format/deferred.py: construct's unused standard-library imports wait for their first use
(issue 18: a copy's start-up counts), and each still works when it is used."""

from __future__ import annotations

import importlib.abc
import subprocess
import sys
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec

from pgarchive.format.deferred import StandIn, deferred

DEFERRED = ("pdb", "inspect", "traceback", "pickle", "hashlib")

PROBE = f"DEFERRED = {DEFERRED!r}\n" + """\
import sys
import pgarchive.format.structs
loaded = sorted(m for m in DEFERRED if m in sys.modules)
import construct.debug, construct.core
stand_in = type(construct.debug.pdb).__name__
works = (callable(construct.debug.pdb.post_mortem), construct.core.hashlib.sha1(b"").digest_size)
import pdb
print(loaded, stand_in, works, type(pdb).__name__, "pdb" in sys.modules)
"""


def test_construct_loads_without_its_debugging_modules_which_work_when_used() -> None:
    """In a fresh interpreter, the writer's structs load none of them; construct's own
    references import the real module on first use, and a later ``import`` gets the real
    module, not a stand-in."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout
    assert out == "[] StandIn (True, 20) module True\n"


def test_a_stand_in_used_within_the_block_is_the_real_module() -> None:
    name = "pgarchive_no_such_module_yet"
    real = types.ModuleType(name)
    real.value = 42  # type: ignore[attr-defined]
    with deferred(name):
        stand_in = sys.modules[name]
        assert isinstance(stand_in, StandIn)
        sys.meta_path.insert(0, _Finder(name, real))
        try:
            assert stand_in.value == 42
        finally:
            del sys.meta_path[0]
        assert sys.modules[name] is real
    assert sys.modules.pop(name) is real  # (left alone: it is the real one)


def test_modules_already_loaded_are_left_as_they_are() -> None:
    with deferred("os"):
        assert not isinstance(sys.modules["os"], StandIn)
    assert "os" in sys.modules


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``name`` as the module ``real`` (a module that does not exist on disk)."""

    def __init__(self, name: str, real: types.ModuleType) -> None:
        self.name, self.real = name, real

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> ModuleSpec | None:
        return ModuleSpec(fullname, self) if fullname == self.name else None

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        return self.real

    def exec_module(self, module: types.ModuleType) -> None:
        pass
