"""Build hook: compile the hot loops with mypyc: the TOC walker (format/tocscan.py), the
chunk gatherer (format/chunkscan.py), the selection's rule (rule.py) and the script
renderer (script/renderer.py with its Step model and quoting rules).

pgarchive is pure Python; this only makes those loops fast (ls and sql on 100,000-entry
archives).  Without mypy or a C compiler, or with PGARCHIVE_PURE_PYTHON=1, the modules are
installed as plain Python and everything works, slower.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the compiled modules if we can; never fail the install because of it."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # noqa: BLE001 -- any build failure means: stay pure Python
            print(f"pgarchive: compiled modules not built ({e}); using pure Python",
                  file=sys.stderr)

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001
            print(f"pgarchive: {ext.name} not built ({e}); using pure Python", file=sys.stderr)


def compiled_modules() -> list[Any]:
    if os.environ.get("PGARCHIVE_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    try:
        return list(mypycify(["src/pgarchive/format/tocscan.py",
                              "src/pgarchive/format/chunkscan.py",
                              "src/pgarchive/script/renderer.py",
                              "src/pgarchive/script/model.py",
                              "src/pgarchive/script/quoting.py",
                              "src/pgarchive/rule.py"], opt_level="3"))
    except (Exception, SystemExit) as e:  # noqa: BLE001 -- mypy's errors end in SystemExit
        print(f"pgarchive: mypyc failed ({e}); using pure Python", file=sys.stderr)
        return []


setup(ext_modules=compiled_modules(), cmdclass={"build_ext": OptionalBuildExt})
