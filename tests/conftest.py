"""Shared fixtures: the corpus of real archives and their golden outputs."""

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


def facts_for(item: dict[str, Any]) -> dict[str, Any] | None:
    """tables.json (row counts and COPY checksums from the server) for the archive's group."""
    p = TESTDATA / item["group"] / "tables.json"
    return json.loads(p.read_text()) if p.exists() else None


@pytest.fixture(scope="session")
def pg18_server() -> Any:
    """A throwaway PostgreSQL 18 cluster with the corpus database loaded as ``ref``.

    The roles of the corpus (created by corpus.sql) exist cluster-wide, so restores into
    other databases of this cluster find them.
    """
    import pgenv

    with pgenv.cluster(18) as c:
        c.run(["createdb", "-T", "template0", "-E", "UTF8", "ref"])
        c.psql_file("ref", TESTDATA / "corpus.sql")
        c.run(["createdb", "-T", "template0", "-E", "UTF8", "shopref"])
        c.psql_file("shopref", TESTDATA / "legacy_shop.sql")
        yield c
