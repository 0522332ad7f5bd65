"""Let the C heap keep freed memory for the next large piece, instead of returning it.

verify's read-ahead thread joins decoded data into ~1 MB pieces that the other thread
frees.  glibc's malloc gives such blocks back to the system when they are freed (mmap, or
trimming the thread's heap) and takes fresh zeroed pages when the next piece is made:
measured on a 2 GB lz4 table with ``verify -j2``, 300,000 page faults and 0.6 s of the
producer's 2.2 s of CPU.  With the thresholds raised, freed pieces are reused (10,000
faults).  The memory kept is what the pipeline already had in use, so the peak does not
grow.  Where the C library is not glibc, nothing changes.
"""

from __future__ import annotations

import functools
import sys

# glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: freed memory at the top of a heap is returned to the system only beyond this
TRIM = 64 << 20
#: blocks this large and larger still get their own mapping (glibc's ceiling is 32 MB)
MMAP = 16 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds, once per process; True if it took."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # (here: verify --jobs 1 does not need it loaded)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, TRIM)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP))
