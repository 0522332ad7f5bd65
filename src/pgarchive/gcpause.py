"""The cyclic garbage collector held off while a big TOC becomes objects.

A 100,000-entry TOC makes millions of tuples, strings and Decisions that live until the
command ends and form no reference cycles.  Each automatic collection walks every object
still alive, so as they pile up the collector runs over them again and again: a fifth of
``sql -s``'s CPU on such an archive.  Reference counting still frees everything else.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (as it was again after it)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
