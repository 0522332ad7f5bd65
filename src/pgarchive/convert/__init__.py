"""``pgarchive convert``: rewrite an archive into another container (custom, directory,
tar), compression, archive version or subset, keeping everything else byte for byte.

    plan.py       what to write, and what cannot be written faithfully (refused)
    subset.py     the entries a selection keeps, dependencies rewritten as pg_dump does
    versions.py   which pg_restore reads each version; entries rewritten for older ones
    streams.py    each data stream copied, rewrapped (zlib <-> gzip) or recompressed
    rawcopy.py    stored bytes copied as they are, file to file, in the kernel
    custom.py, directory.py, tar.py   the container writers
    parallel.py   --jobs: compression in worker processes
    staging.py    atomic output next to the destination
    run.py        the whole run
"""

from __future__ import annotations

from .model import OutEntry, Plan
from .plan import ConvertOptions, make_plan
from .run import ConvertReport, convert, convert_archive

__all__ = ["ConvertOptions", "ConvertReport", "OutEntry", "Plan", "convert",
           "convert_archive", "make_plan"]
