"""pytest set-up: the helpers module on the path, the ``server`` marker on the tests that
start a server (markers are registered in pyproject.toml), hypothesis profiles, and the
session-wide PostgreSQL server fixtures.  Helpers live in helpers.py, not here."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import TESTDATA

#: Fixtures that start a real PostgreSQL server: tests using them get the ``server`` marker.
SERVER_FIXTURES = {"pg18_server", "server", "pg15_server", "password_server",
                   "managed_servers", "engine_pg18", "engine_pg15"}

# Hypothesis: CI (the CI variable set) loads hypothesis's own derandomized "ci" profile,
# which replays the same examples every run (reproducible).  PGARCHIVE_FUZZ_SEED loads the
# "fuzz" profile instead: new examples and more of them (PGARCHIVE_FUZZ_EXAMPLES per
# property, default 2000, also where a test sets fewer), from the seed given, or for
# "random" from a new one, shown in pytest's header so that a failure can be replayed:
# ``PGARCHIVE_FUZZ_SEED=random .venv/bin/pytest tests/hostile``.
FUZZ_SEED = os.environ.get("PGARCHIVE_FUZZ_SEED")
if FUZZ_SEED and not FUZZ_SEED.isdigit():  # "random" (or anything but a number)
    FUZZ_SEED = str(random.SystemRandom().randrange(1 << 32))
FUZZ_EXAMPLES = int(os.environ.get("PGARCHIVE_FUZZ_EXAMPLES", "2000"))
if FUZZ_SEED:
    settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, derandomize=False,
                              deadline=None)
    settings.load_profile("fuzz")


def pytest_report_header() -> str | None:
    """The seed of a fuzzing run, to replay it."""
    return f"PGARCHIVE_FUZZ_SEED={FUZZ_SEED}" if FUZZ_SEED else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a real server ``server`` (``-m 'not server'`` skips them);
    with PGARCHIVE_FUZZ_SEED, every property test runs PGARCHIVE_FUZZ_EXAMPLES examples
    from that seed."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
    if not FUZZ_SEED:
        return
    for item in items:
        fn = getattr(item, "function", None)
        if fn is None or not getattr(fn, "is_hypothesis_test", False):
            continue
        # A test's own @settings(max_examples=...) would win over the profile: raise it
        # (hypothesis reads this attribute when the test runs).
        own = getattr(fn, "_hypothesis_internal_use_settings", None)
        if own is not None:
            fn._hypothesis_internal_use_settings = settings(
                own, max_examples=max(own.max_examples, FUZZ_EXAMPLES), derandomize=False,
                deadline=None)
        seed(int(FUZZ_SEED))(fn)


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


@pytest.fixture(autouse=True)
def _sigpipe_as_python_sets_it() -> Any:
    """pgarchive's main() sets SIGPIPE to its default (so `pgarchive ls | head` ends
    quietly); called in-process by a test, that would leave this pytest process to be
    killed by the next write to a pipe whose reader is gone.  Each test ends with the
    disposition it started with."""
    import signal

    saved = signal.getsignal(signal.SIGPIPE)
    yield
    signal.signal(signal.SIGPIPE, saved)
