"""The renderer, its Step model and the quoting rules are compiled with mypyc when a compiler
is there (setup.py), and run as plain Python when not: both must write the same scripts.
Here the plain sources are loaded beside the installed (compiled) modules and ``sql`` runs
through each, on every archive of the corpus with every option set of the goldens."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

import pgarchive
import pgarchive.script
import pgarchive.script.renderer  # (and so model and quoting: installed first)
from helpers import TESTDATA, archive_path, corpus
from pgarchive.cli import cli
from pgarchive.selection import RestoreOptions, Selection, select

GOLDENS: dict[str, Any] = json.loads((TESTDATA / "sql" / "goldens.json").read_text())
COMPILED = ("model", "quoting", "renderer")  # in the order they import each other


def _plain_modules() -> dict[str, ModuleType]:
    """The three modules loaded from their .py sources under their own names (so that
    the plain renderer imports the plain model and quoting), then taken out again."""
    package = pgarchive.script
    here = Path(package.__file__).parent
    saved = {n: sys.modules[f"pgarchive.script.{n}"] for n in COMPILED}
    plain: dict[str, ModuleType] = {}
    try:
        for name in COMPILED:
            full = f"pgarchive.script.{name}"
            spec = importlib.util.spec_from_file_location(full, here / f"{name}.py")
            assert spec is not None and spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            sys.modules[full] = mod
            setattr(package, name, mod)
            spec.loader.exec_module(mod)
            plain[name] = mod
    finally:
        for name, mod in saved.items():
            sys.modules[f"pgarchive.script.{name}"] = mod
            setattr(package, name, mod)
    return plain


PLAIN = _plain_modules()


def _script(path: str, args: list[str]) -> tuple[int, bytes, str]:
    res = CliRunner().invoke(cli, ["sql", path, "--restrict-key", "k", *args])
    return res.exit_code, res.stdout_bytes, res.stderr


def test_plain_modules_are_plain() -> None:
    import pgarchive.script.renderer as installed

    for mod in PLAIN.values():
        assert mod.__file__ is not None and mod.__file__.endswith(".py")
    assert PLAIN["renderer"].m is PLAIN["model"]
    assert PLAIN["renderer"].Renderer is not installed.Renderer


@pytest.mark.parametrize("item", corpus())
def test_plain_and_compiled_renderers_write_the_same_scripts(
        item: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    path = archive_path(item)
    installed = [_script(path, args) for args in GOLDENS["option_sets"]]
    for name, mod in PLAIN.items():
        monkeypatch.setitem(sys.modules, f"pgarchive.script.{name}", mod)
        monkeypatch.setattr(pgarchive.script, name, mod)
    for args, want in zip(GOLDENS["option_sets"], installed, strict=True):
        assert _script(path, args) == want, args


@pytest.mark.parametrize("renderer", ["installed", "plain"])
def test_worker_renders_like_its_parent(renderer: str) -> None:
    """A parallel worker's renderer (a clone: the compiled class cannot be copied) renders
    an entry as its parent does, from a forgotten session state."""
    import pgarchive.script.renderer as installed
    from pgarchive.script import ScriptOptions

    cls = installed.Renderer if renderer == "installed" else PLAIN["renderer"].Renderer
    with pgarchive.open(str(TESTDATA / "pg18" / "custom.dump")) as a:
        decisions = select(a.entries, Selection(RestoreOptions()))
        batched = cls(a.header, decisions, ScriptOptions(restrict_key="k", transaction_size=5))
        assert batched.worker().txn_size == 0  # a worker commits every statement
        opts = ScriptOptions(restrict_key="k", use_set_session_authorization=True)
        parent = cls(a.header, decisions, opts)
        worker = parent.worker()
        assert worker.session() == (None, None, None, None)
        assert (worker.encoding, worker.std_strings, worker.searchpath, worker.key) == \
            (parent.encoding, parent.std_strings, parent.searchpath, parent.key)
        for d in decisions:
            if int(d.reqs) & 3:
                parent.forget_session()
                mine = [s.parts for s in worker.entry(d)]
                assert mine == [s.parts for s in parent.entry(d)], d.entry.label
                worker.forget_session()


@pytest.mark.parametrize("name", ["", "a", "_", "t1", "1t", "T1", "tT", "a_b9", "select",
                                  "user", "é", "aé", "a b", "a\n", "a-b", "\u0130", "\u0131",
                                  "\u212a", '"q"', "a\udcc0", "z{", "`a"])
def test_fmt_id_plain_names_as_the_regex_says(name: str) -> None:
    """fmt_id leaves a name bare when it matches ``[a-z_][a-z0-9_]*`` (and is no keyword
    to quote), checked character by character, compiled and plain alike."""
    import re

    from pgarchive.script.keywords import QUOTED_KEYWORDS
    from pgarchive.script.quoting import fmt_id

    bare = bool(re.match(r"[a-z_][a-z0-9_]*\Z", name)) and name not in QUOTED_KEYWORDS
    assert (fmt_id(name) == name) == bare
    assert PLAIN["quoting"].fmt_id(name) == fmt_id(name)
