"""Shared test helpers: the corpus of real archives, their golden outputs, and paths."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "testdata"
sys.path.insert(0, str(TESTDATA))

# pg_restore -l prints the creation time in the reader's zone; the goldens use UTC.
os.environ["TZ"] = "UTC"
time.tzset()

INDEX: list[dict[str, Any]] = json.loads((TESTDATA / "index.json").read_text())


def corpus(group_prefix: str = "", where: Any = None) -> list[Any]:
    """pytest params over the corpus, one per archive, id'd by its path."""
    items = [i for i in INDEX if i["group"].startswith(group_prefix)]
    if where is not None:
        items = [i for i in items if where(i)]
    return [pytest.param(i, id=i["archive"]) for i in items]


def archive_path(item: dict[str, Any]) -> str:
    return str(TESTDATA / item["archive"])


def plain_module(name: str) -> Any:
    """The module ``name`` (dotted, in pgarchive) loaded from its .py source as plain
    Python, even when a compiled build of it is installed: to hold mypyc's build to its
    source.  Named ``<name>_plain`` beside it, so that its relative imports resolve."""
    import importlib.util

    import pgarchive

    parts = name.split(".")
    assert parts[0] == "pgarchive"
    src = Path(pgarchive.__file__).parent.joinpath(*parts[1:-1], f"{parts[-1]}.py")
    spec = importlib.util.spec_from_file_location(f"{name}_plain", src)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def facts_for(item: dict[str, Any]) -> dict[str, Any] | None:
    """tables.json (row counts and COPY checksums from the server) for the archive's group."""
    p = TESTDATA / item["group"] / "tables.json"
    return json.loads(p.read_text()) if p.exists() else None


def make_features_archive(out: Path) -> Path:
    """pg_dump 18's archive (-Fc -C --statistics) of a database using everything
    tests/script/target_features.sql uses: what --target-version adapts for older servers."""
    import pgenv

    with pgenv.cluster(18) as c:
        # the builtin locale provider (17+) for the database itself
        c.run(["createdb", "-T", "template0", "-E", "UTF8", "--locale-provider=builtin",
               "--builtin-locale=C", "tv"])
        c.psql_file("tv", REPO / "tests" / "script" / "target_features.sql")
        c.run(["pg_dump", "-Fc", "-C", "--statistics", "-f", str(out), "tv"])
    return out


def toc_entry(dump_id: int, desc: str, tag: str, deps: tuple[int, ...] = (),
              section: Any = None, namespace: str = "s") -> Any:
    """A synthetic TocEntry as pg_dump writes one: data only for TABLE DATA, a definition
    for everything (so pg_restore's rules keep it), owner "o"."""
    from pgarchive.format.constants import Section
    from pgarchive.format.model import TocEntry

    return TocEntry(dump_id, desc == "TABLE DATA", 0, dump_id, tag, desc,
                    Section.PRE_DATA if section is None else section, f"-- {desc} {tag}",
                    None, f"COPY {namespace}.{tag} FROM stdin;" if desc == "TABLE DATA"
                    else None, namespace, None, None, 0, "o", False, deps)


#: Runs pgarchive's entry point in a child, then writes (exit status, whether click was
#: loaded) on stderr: the quick paths (cli/quick.py) must answer without click.
ENTRY_PROBE = (
    "import sys\nfrom pgarchive.cli import main\nsys.argv = ['pgarchive', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
    "sys.stderr.write(repr((code, 'click' in sys.modules)))\n")


def entry_in_child(*args: str) -> tuple[int, bool, bytes, str]:
    """``pgarchive ARGS`` run in a child: its exit status, whether click was loaded (the
    full command line answered), stdout, and stderr without the probe's line."""
    import ast
    import subprocess

    out = subprocess.run([sys.executable, "-c", ENTRY_PROBE, *args], capture_output=True,
                         check=False)
    err = out.stderr.decode()
    head, _, probe = err.rpartition("(")
    code, loaded = ast.literal_eval("(" + probe)
    return code, loaded, out.stdout, head


def one_table_archive(path: Path, columns: list[tuple[str, str]], rows: bytes,
                      method: Any = None, chunk: int = 4096) -> Path:
    """Write to ``path`` a custom archive (pg_dump 18's framing, by the project's writer)
    of one table ``public.t`` with ``columns`` ((name, type) each) whose COPY data is
    ``rows`` and the end marker, compressed with ``method`` (none when not given)."""
    from pgarchive.format.constants import ArchiveFormat, Compression, OffsetFlag, Section
    from pgarchive.format.model import Header, TocEntry
    from pgarchive.format.writer import build_custom

    def entry(dump_id: int, desc: str, **kw: Any) -> TocEntry:
        values: dict[str, Any] = {
            "dump_id": dump_id, "had_dumper": False, "table_oid": 1259,
            "oid": 16000 + dump_id, "tag": "t", "desc": desc, "section": Section.PRE_DATA,
            "defn": "", "drop_stmt": "", "copy_stmt": None, "namespace": "public",
            "tablespace": "", "tableam": "heap", "relkind": ord("r"), "owner": "",
            "with_oids": False, "dependencies": (), "offset_flag": OffsetFlag.NO_DATA,
            "data_offset": 0}
        values.update(kw)
        return TocEntry(**values)

    h = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM,
               Compression.NONE if method is None else method, None,
               (0, 0, 12, 1, 0, 126, 0), "db", "18.0", "18.0", 0, 0)
    create = ", ".join(f"{name} {kind}" for name, kind in columns)
    names = ", ".join(name for name, _kind in columns)
    entries = [
        entry(1, "ENCODING", tag="ENCODING", defn="SET client_encoding = 'UTF8';\n",
              namespace="", relkind=0),
        entry(2, "TABLE", defn=f"CREATE TABLE public.t ({create});\n"),
        entry(3, "TABLE DATA", had_dumper=True, section=Section.DATA, relkind=0,
              copy_stmt=f"COPY public.t ({names}) FROM stdin;\n", dependencies=(2,))]
    path.write_bytes(build_custom(h, entries, {3: rows + b"\\.\n\n\n"}, chunk=chunk))
    return path
