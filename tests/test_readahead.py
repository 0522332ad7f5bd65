"""read_ahead: same items in the same order, errors where the consumer is, no stray thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from pgarchive.errors import TruncatedError
from pgarchive.readahead import read_ahead


def test_items_in_order() -> None:
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(read_ahead(iter([]))) == []


def test_producer_error_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise TruncatedError("archive is truncated", offset=7)

    got = []
    with pytest.raises(TruncatedError, match="truncated") as info:
        for x in read_ahead(items()):
            got.append(x)
    assert got == [1, 2] and info.value.offset == 7


def test_stopping_early_stops_and_joins_the_producer() -> None:
    produced = []

    def items() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    before = threading.active_count()
    it = read_ahead(items(), depth=2)
    assert next(it) == 0
    it.close()  # what a consumer's break or exception does
    assert threading.active_count() == before
    assert len(produced) < 10  # bounded: it never ran far ahead
    time.sleep(0.01)
    assert len(produced) < 10
