"""read_ahead: same items in the same order, errors where the consumer is, no stray thread."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from pgarchive.errors import TruncatedError
from pgarchive.readahead import read_ahead


def test_items_in_order() -> None:
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(read_ahead(iter([]))) == []


def test_spare_work_is_done_by_the_producer_only_when_it_is_ahead() -> None:
    """``spare`` runs in the producer's thread on the items it makes while at least half
    the queue waits, and every item still comes once, in order."""
    spared: list[tuple[int, bool]] = []
    consumer = threading.current_thread()

    def spare(x: int) -> int:
        spared.append((x, threading.current_thread() is not consumer))
        return -x

    got = []
    for x in read_ahead(iter(range(1, 201)), depth=4, spare=spare):
        if not got:
            deadline = time.monotonic() + 5  # the producer fills the queue meanwhile
            while not spared and time.monotonic() < deadline:
                time.sleep(0.001)
        got.append(x)
    assert [abs(x) for x in got] == list(range(1, 201))
    assert spared and all(in_producer for _x, in_producer in spared)
    assert {x for x, _t in spared} == {-x for x in got if x < 0}


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


@pytest.mark.parametrize("how", ["to the end", "stopped early", "producer error"])
def test_switch_interval_holds_while_the_pipeline_runs_and_is_put_back(how: str) -> None:
    """read_ahead(switch=...) sets the interpreter's switch interval for the pipeline's
    life only: back to what it was after the last item, a consumer's early stop, or an
    error raised from the producer."""
    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.002)
    try:
        _run_with_switch(how)
    finally:
        sys.setswitchinterval(saved)


def _run_with_switch(how: str) -> None:
    seen: list[float] = []

    def items() -> Iterator[int]:
        for i in range(50):
            seen.append(sys.getswitchinterval())
            yield i
        if how == "producer error":
            raise TruncatedError("archive is truncated")

    it = read_ahead(items(), depth=2, switch=0.0003)
    inside = []
    with contextlib.suppress(TruncatedError):
        for x in it:
            inside.append(sys.getswitchinterval())
            if how == "stopped early" and x == 3:
                it.close()
                break
    assert inside and inside == pytest.approx([0.0003] * len(inside))
    assert seen == pytest.approx([0.0003] * len(seen))
    assert sys.getswitchinterval() == 0.002
