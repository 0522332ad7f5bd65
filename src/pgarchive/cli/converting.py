"""The work of ``pgarchive convert`` once its options are known, free of click: shared by
the command (cli/convert.py) and its quick path (cli/quick.py), which answers the plainest
conversions before click and the commands load (a copy of a 1-2 GB archive is little more
than ``cp``, so its start-up counts)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..convert import ConvertOptions
    from ..format.model import TocEntry
    from ..selection import Selection


#: ``--format``'s values, short and long, and the kind each names
FORMATS = {"custom": "custom", "c": "custom", "directory": "directory", "d": "directory",
           "tar": "tar", "t": "tar"}


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(src: str, dst: str, opts: ConvertOptions, as_json: bool,
        selection: Callable[[list[TocEntry]], Selection] | None = None) -> None:
    """Convert with a progress bar, then print the report (JSON with ``as_json``)."""
    from ..convert import convert
    from ..progress import ByteProgress

    # Terminated (kill, a service manager): unwind like an interrupt, so the output being
    # written (and any worker) is removed instead of left half-written.
    signal.signal(signal.SIGTERM, _terminated)
    bar = ByteProgress()

    def warn(text: str) -> None:  # (once the archive is written)
        bar.clear()
        sys.stderr.write(f"pgarchive: warning: {text}\n")
        sys.stderr.flush()

    try:
        report = convert(src, dst, opts, progress=bar, on_total=bar.set_total,
                         selection=selection, warn=warn)
    finally:
        bar.close()
    if as_json:
        from ..output import render_json

        text = render_json(report.to_dict())
    else:
        text = report.text()
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.flush()
