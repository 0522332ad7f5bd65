"""Progress shown on one stderr line, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time


class TerminalLine:
    """A line of stderr that is redrawn in place and can be wiped before other output."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._width = 0

    def draw(self, text: str) -> None:
        """Redraw the line with ``text`` (nothing when stderr is not a terminal)."""
        if self.enabled:
            sys.stderr.write("\r" + text.ljust(self._width))
            sys.stderr.flush()
            self._width = len(text)

    def clear(self) -> None:
        """Wipe the line, so that a message printed next starts clean."""
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0

    def close(self) -> None:
        """Wipe the line for good."""
        self.clear()


class ByteProgress(TerminalLine):
    """Bytes done, rate and time left; call with each number of bytes read."""

    def __init__(self, total: int = 0) -> None:
        super().__init__()
        self.total = max(total, 1)
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0

    def set_total(self, total: int) -> None:
        """The total bytes, once known (it is shown as a fraction of it)."""
        self.total = max(total, 1)

    def __call__(self, n: int) -> None:
        """Count ``n`` more bytes; redraw at most five times a second."""
        self.done += n
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-6)
        left = (self.total - self.done) / rate if rate else 0
        frac = min(self.done / self.total, 1.0)
        self.draw(f"[{'#' * int(frac * 30):<30}] {frac:6.1%} {self.done / 1e6:,.0f} MB "
                  f"{rate / 1e6:,.0f} MB/s {left:4.0f}s left")


class StepProgress(TerminalLine):
    """Steps done over a known number, with the current one's name (pg_restore's lines)."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = max(total, 1)
        self.done = 0

    def __call__(self, line: str) -> None:
        """One more step done, named by pg_restore's progress ``line``."""
        self.done = min(self.done + 1, self.total)
        what = line.removeprefix("pg_restore: ")[:48]
        frac = self.done / self.total
        self.draw(f"[{'#' * int(frac * 25):<25}] {self.done}/{self.total} {what}")
