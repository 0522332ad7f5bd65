"""pytest set-up: the helpers module on the path, markers, hypothesis profiles, and the
session-wide PostgreSQL server fixture.  Helpers live in helpers.py, not here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import TESTDATA

# Hypothesis: in CI its derandomized "ci" profile replays the same examples every run
# (reproducible).  PGARCHIVE_FUZZ_SEED runs the properties with new examples and more of them
# (PGARCHIVE_FUZZ_EXAMPLES, default 2000): "random" for a fresh seed each run, or a number
# to replay one:  ``PGARCHIVE_FUZZ_SEED=random python -m pytest tests/hostile``.
#: Fixtures that start a real PostgreSQL server: tests using them get the ``server`` marker.
SERVER_FIXTURES = {"pg18_server", "server", "pg15_server", "password_server",
                   "managed_servers", "engine_pg18", "engine_pg15"}
FUZZ_SEED = os.environ.get("PGARCHIVE_FUZZ_SEED")
if FUZZ_SEED:
    settings.register_profile("fuzz", max_examples=int(os.environ.get(
        "PGARCHIVE_FUZZ_EXAMPLES", "2000")), derandomize=False, deadline=None)
    settings.load_profile("fuzz")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a real server ``server`` (``-m 'not server'`` skips them);
    with a numeric PGARCHIVE_FUZZ_SEED, every property test runs from that seed."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
    if not FUZZ_SEED or not FUZZ_SEED.isdigit():
        return
    for item in items:
        fn = getattr(item, "function", None)
        if fn is not None and getattr(fn, "is_hypothesis_test", False):
            seed(int(FUZZ_SEED))(fn)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: starts a real PostgreSQL server")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


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


@pytest.fixture(scope="session")
def pg15_server() -> Any:
    """A throwaway PostgreSQL 15 cluster with the corpus's roles (alice, "Bob Smith",
    reader), so that restores of the corpus archives into it find them."""
    import pgenv

    with pgenv.cluster(15) as c:
        c.psql("postgres", 'CREATE ROLE alice; CREATE ROLE "Bob Smith"; CREATE ROLE reader;')
        yield c


@pytest.fixture(scope="session")
def password_server() -> Any:
    """A PostgreSQL 18 cluster with password authentication and none of the corpus's
    roles."""
    import pgenv

    with pgenv.cluster(18, password_auth=True) as c:
        yield c
