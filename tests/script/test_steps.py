"""The renderer as a library: typed Steps a native engine or a pre-flight can run one
entry at a time, and that the writer turns into pg_restore's exact script."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from helpers import TESTDATA
from pgarchive.errors import UsageError
from pgarchive.script import ScriptOptions, render, write_script
from pgarchive.script import model as m
from pgarchive.selection import RestoreOptions, Selection

ARCHIVE = str(TESTDATA / "pg18" / "custom.dump")


def test_steps_are_typed_per_entry() -> None:
    with pgarchive.open(ARCHIVE) as a:
        steps = list(render(a, Selection(RestoreOptions()), ScriptOptions(restrict_key="k")))
    assert steps[0].entry is None and steps[0].phase == m.PREAMBLE
    assert steps[-1].entry is None and steps[-1].phase == m.EPILOGUE
    data = [s for s in steps if s.phase == m.DATA_PHASE and s.entry is not None
            and s.entry.desc == "TABLE DATA"]
    assert data
    for s in data:
        kinds = [k for k, _ in s.parts]
        assert kinds.index(m.COPY) < kinds.index(m.DATA)  # the rows follow their COPY
        assert s.entry is not None and s.entry.copy_stmt == dict(s.parts)[m.COPY]
    blobs = [s for s in steps if s.entry is not None and s.entry.desc == "BLOBS"]
    assert blobs and all(m.LARGE_OBJECTS in dict(s.parts) for s in blobs)
    # comments are the only COMMENT parts: a server-bound engine drops them
    assert all(t.lstrip("\n").startswith("--") or t == "\n"
               for s in steps for k, t in s.parts if k == m.COMMENT)
    sessions = [t for s in steps for k, t in s.parts if k == m.SESSION]
    assert any(t.startswith("SET default_table_access_method") for t in sessions)


def test_owner_session_state_is_tracked() -> None:
    """With --use-set-session-authorization a change of owner is a SESSION part, written
    only when the owner changes."""
    opts = ScriptOptions(restrict_key="k", use_set_session_authorization=True)
    with pgarchive.open(ARCHIVE) as a:
        steps = list(render(a, Selection(RestoreOptions(schema_only=True)), opts))
    auth = [t for s in steps for k, t in s.parts
            if k == m.SESSION and t.startswith("SET SESSION AUTHORIZATION")]
    owned = [s for s in steps if s.entry is not None and s.entry.owner]
    # written when the owner changes (and again after an ACL, which may change it)
    assert auth and len(auth) < len(owned) / 2


def test_write_script_streams_to_any_binary_stream() -> None:
    out = io.BytesIO()
    with pgarchive.open(ARCHIVE) as a:
        write_script(a, Selection(RestoreOptions()), ScriptOptions(restrict_key="k"), out)
    text = out.getvalue()
    assert text.startswith(b"--\n-- PostgreSQL database dump\n--\n\n\\restrict k\n")
    assert text.endswith(b"\\unrestrict k\n\n")
    assert b"SELECT pg_catalog.lowrite(0, '\\x" in text


def test_sql_runs_without_automatic_collections(monkeypatch: Any, tmp_path: Path) -> None:
    """The cyclic collector is held off while ``sql`` turns a TOC into objects (it walked
    them all again and again: a fifth of the CPU of a 100,000-entry TOC) and on again
    after, also when the script fails."""
    import gc

    import pgarchive.script as script

    seen: list[bool] = []
    real = script.write_script

    def spy(*args: Any, **kw: Any) -> None:
        seen.append(gc.isenabled())
        real(*args, **kw)

    monkeypatch.setattr(script, "write_script", spy)
    assert gc.isenabled()
    script.run(ARCHIVE, lambda _entries: Selection(RestoreOptions()),
               ScriptOptions(restrict_key="k"), str(tmp_path / "out.sql"))
    assert seen == [False] and gc.isenabled()
    with pytest.raises(UsageError):
        script.run(ARCHIVE, lambda _entries: Selection(RestoreOptions()),
                   ScriptOptions(restrict_key="k", target_version=9), "-")
    assert gc.isenabled()



@pytest.mark.parametrize("restore, script", [
    ({}, {}), ({"schema_only": True}, {}), ({}, {"clean": True, "if_exists": True}),
    ({"create": True}, {"no_owner": True, "transaction_size": 3}),
    ({"tables": ("t*",), "sel_table": True}, {})])
@pytest.mark.parametrize("archive", ["custom.dump", "custom_stats.dump"])
def test_renderer_on_bits_equals_renderer_on_decisions(
        restore: dict[str, Any], script: dict[str, Any], archive: str) -> None:
    """sql hands the renderer the entries and plain Req bits (selection.Bits) where the
    rule decides each entry alone; the engine hands it Decisions: the same Steps either
    way."""
    from pgarchive.script.options import check
    from pgarchive.script.renderer import Renderer
    from pgarchive.selection import select, select_bits

    with pgarchive.open(str(TESTDATA / "pg18" / archive)) as a:
        ro = RestoreOptions(**restore)
        sel = Selection(ro)
        opts = check(ro, ScriptOptions(restrict_key="k", **script))
        kw: dict[str, Any] = {"create": ro.create, "dump_schema": ro.dump_schema}
        bits = select_bits(a.entries, sel)
        on_bits = list(Renderer(a.header, bits, opts, **kw).steps())
        on_decisions = list(Renderer(a.header, select(a.entries, sel), opts, **kw).steps())
        assert on_bits == on_decisions
        assert any(s.parts for s in on_bits[1:-1])
