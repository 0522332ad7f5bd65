"""Raw inflate speed of the zlib-compatible decoders pgarchive can use, on real pg_dump
zlib streams, as ratios to the standard library; pgarchive uses the fastest installed.

    python benchmarks/bench_decompress.py [--mb 256]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
import zlib

from pgarchive.compression import _zlib_backends, zlib_backend


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256)
    opts = ap.parse_args()
    rows = []
    size = 0
    i = 0
    while size < opts.mb * (1 << 20):  # varied rows, like real table data
        h = hashlib.md5(str(i).encode()).hexdigest()
        row = f"{i}\tname {h[:8]}\t{h}@example.com\t2024-03-01 12:{i % 60:02d}:00+00\t{i / 7:.2f}\n"
        rows.append(row.encode())
        size += len(row)
        i += 1
    data = b"".join(rows)
    stream = zlib.compress(data, 6)  # pg_dump's default level
    print(f"{len(data) / 1e6:.0f} MB of COPY text, {len(stream) / 1e6:.0f} MB zlib stream")
    speeds = {}
    for name, mod in _zlib_backends():
        times = []
        for _ in range(3):
            d = mod.decompressobj()
            t = time.perf_counter()
            for i in range(0, len(stream), 1 << 20):  # bounded output, as pgarchive reads
                piece = stream[i:i + (1 << 20)]
                while piece:
                    d.decompress(piece, 1 << 20)
                    piece = d.unconsumed_tail
            times.append(time.perf_counter() - t)
        speeds[name] = len(data) / statistics.median(times)
    base = speeds["zlib"]
    for name, s in speeds.items():
        print(f"{name:8s} {s / 1e6:8.0f} MB/s out   RATIO to zlib {s / base:.2f}")
    print(f"in use: {zlib_backend()[0]}")


if __name__ == "__main__":
    main()
