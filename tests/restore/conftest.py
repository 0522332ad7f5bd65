"""Servers for the native engine's tests: PostgreSQL 18 and 15 with autovacuum off (so that
two restores compared object by object are not told apart by an ANALYZE that ran in one
of them only), and with every role the corpus' archives name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

ROLES = ('CREATE ROLE alice; CREATE ROLE "Bob Smith"; CREATE ROLE reader; '
         'CREATE ROLE shop_clerk; CREATE ROLE "extra owner";')


def _cluster(major: int) -> Iterator[Any]:
    import pgenv

    with pgenv.cluster(major, settings={"autovacuum": "off"}) as c:
        c.psql("postgres", ROLES)
        yield c


@pytest.fixture(scope="session")
def engine_pg18() -> Iterator[Any]:
    """PostgreSQL 18, autovacuum off, the corpus' roles."""
    yield from _cluster(18)


@pytest.fixture(scope="session")
def engine_pg15() -> Iterator[Any]:
    """PostgreSQL 15, autovacuum off, the corpus' roles."""
    yield from _cluster(15)
