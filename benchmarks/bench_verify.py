"""`pgarchive verify` against `pg_restore -f /dev/null` (the only way pg_restore reads all
data), and `verify --jobs 2` against `--jobs 1`, with peak memory.

    python benchmarks/bench_verify.py [--gb 2.0] [--runs 3]

Makes (once, into benchmarks/work/) a database with one table of about --gb GB of COPY
data dumped as custom gzip, lz4, zstd and uncompressed; and one with four tables of a
quarter of that each, as custom and directory, for the parallel goal.
Goals (issue 3): verify -j1 faster than pg_restore for every compression; -j2 >= 1.6x -j1;
peak memory < 100 MB.  Issue 10: verify -j2 at most 1.5x pg_restore for one lz4, zstd or
uncompressed table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from common import (
    env_utc,
    interleaved_medians,
    make_table_archives,
    peak_rss_kib,
    pgarchive_cmd,
    pgenv,
)

# What any reader built on these Python decoders must spend: decompress every table's data
# through the library and drop it, with no check and no hash.
DECODE_ONLY = """
import sys, pgarchive
with pgarchive.open(sys.argv[1]) as a:
    for e in a.entries:
        if e.desc == "TABLE DATA" and e.has_data:
            for _ in a.data(e, 1 << 20):
                pass
"""


# verify -j2's two halves on one table, each alone (CPU seconds): what the child process
# does (read, decode into its ring of shared slots: childdecode.py, with no checks to lag
# behind, so no vector pass of its own) and what this process does (XXH3 and the COPY
# checks, timed on the first 512 MB held in memory, scaled up).  On two cores the slower
# half, plus start-up, bounds the wall time; the child takes on the vector pass of the
# checks when it is ahead, which evens them out.
HALVES = """
import resource, sys, time, xxhash, pgarchive
from pgarchive import childdecode, verify as v
from pgarchive.copytext import CopyChecker, copy_columns
with pgarchive.open(sys.argv[1]) as a:
    e = next(x for x in a.entries if x.desc == "TABLE DATA" and x.has_data)
    (_o, stream), = list(a.container.stored_streams(e))
    child = childdecode.ChildStream(v._producer(a, e, stream), None)
    total = sum(length for _at, length, _s, _h in child)
    child.close()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    produce = ru.ru_utime + ru.ru_stime
    sample, got = [], 0
    for p in a.data(e, childdecode.SLOT):
        sample.append(p); got += len(p)
        if got >= 512 << 20:
            break
    h, ck = xxhash.xxh3_128(), CopyChecker(copy_columns(e.copy_stmt))
    t = time.process_time(); [h.update(p) for p in sample]; th = time.process_time() - t
    t = time.process_time(); [ck.feed(p) for p in sample]; tc = time.process_time() - t
    k = total / got
    print(f"{produce:.2f} {th * k:.2f} {tc * k:.2f}")
"""


# verify -j2 itself, in-process: the CPU this process (hash, checks) and the child (read,
# decode) used, and how many of the pieces came with the child's vector pass (when it
# was ahead of the checks).  With a second core free, the busier (plus start-up) sets
# the wall time.
PROCESSES = """
import resource, sys, time
from pgarchive import childdecode, verify as v
pieces, hinted = [0], [0]
real = childdecode.ChildStream.__iter__
def counted(self):
    for item in real(self):
        pieces[0] += 1
        hinted[0] += item[3] is not None
        yield item
childdecode.ChildStream.__iter__ = counted
t = time.process_time()
v.verify(sys.argv[1], jobs=2)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{time.process_time() - t:.2f} {ru.ru_utime + ru.ru_stime:.2f} {hinted[0]} {pieces[0]}")
"""


def rows_sql(table: str, gb: float) -> str:
    rows = int(gb * (1 << 30) / 110)  # ~110 bytes of COPY text per row
    return (f"CREATE TABLE {table} (id bigint, a text, b text, c timestamptz, d numeric);\n"
            f"INSERT INTO {table} SELECT i, md5(i::text) || ' ' || md5((i+3)::text), "
            f"md5((i*7)::text), TIMESTAMPTZ '2024-01-01+00' + i * INTERVAL '1 second', "
            f"i / 7.0 FROM generate_series(1, {rows}) AS i;\n")


def make_all(gb: float) -> dict[str, str]:
    """Archives by label, created once in one cluster."""
    return make_table_archives({
        "gzip": (f"one_{gb}_gzip.dump", ["-Fc"], "one"),
        "lz4": (f"one_{gb}_lz4.dump", ["-Fc", "-Z", "lz4"], "one"),
        "zstd": (f"one_{gb}_zstd.dump", ["-Fc", "-Z", "zstd"], "one"),
        "none": (f"one_{gb}_none.dump", ["-Fc", "-Z0"], "one"),
        "multi-custom": (f"four_{gb}.dump", ["-Fc", "-Z", "lz4"], "four"),
        "multi-dir": (f"four_{gb}_dir", ["-Fd", "-Z", "lz4"], "four"),
    }, databases(gb))


def databases(gb: float) -> dict[str, str]:
    """One table of about ``gb`` GB ("one"), and four of a quarter of that ("four")."""
    return {"one": rows_sql("big", gb),
            "four": "".join(rows_sql(f"t{i}", gb / 4) for i in range(4))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="gzip,lz4,zstd,none,multi-custom,multi-dir",
                    help="comma-separated subset to run")
    ap.add_argument("--halves", action="store_true",
                    help="also time verify -j2's two halves alone (CPU of each process's work)")
    opts = ap.parse_args()
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    env = env_utc()
    archives = make_all(opts.gb)
    print(f"table size ~{opts.gb} GB of COPY text; medians of {opts.runs} interleaved runs")
    cases = opts.cases.split(",")
    for label in [c for c in ("gzip", "lz4", "zstd", "none") if c in cases]:
        path = archives[label]
        t = interleaved_medians({
            "verify": pgarchive_cmd("verify", path),
            "verify -j2": pgarchive_cmd("verify", "-j", "2", path),
            "decode only": [sys.executable, "-c", DECODE_ONLY, path],
            "pg_restore": [pg_restore, "-f", "/dev/null", path],
        }, opts.runs, env)
        ratio = t["verify"] / t["pg_restore"]
        rss = peak_rss_kib(pgarchive_cmd("verify", path), env) / 1024
        print(f"{label:5s} verify -j1 {t['verify']:6.2f} s  pg_restore {t['pg_restore']:6.2f} s  "
              f"RATIO verify/pg_restore = {ratio:.2f} (goal < 1): "
              f"{'OK' if ratio < 1 else 'MISSED'}; peak RSS {rss:.0f} MiB "
              f"(goal < 100): {'OK' if rss < 100 else 'MISSED'}")
        j2 = t["verify -j2"] / t["pg_restore"]
        goal = (f" (goal <= 1.5, issue 10): {'OK' if j2 <= 1.5 else 'MISSED'}"
                if label in ("lz4", "zstd", "none") else "")
        print(f"      verify -j2 {t['verify -j2']:6.2f} s (one table: a child process decodes)  "
              f"RATIO verify -j2/pg_restore = {j2:.2f}{goal}")
        print(f"      decode only {t['decode only']:5.2f} s (no checks, no hash: the floor of "
              f"these Python decoders)  RATIO decode/pg_restore = "
              f"{t['decode only'] / t['pg_restore']:.2f}")
        if opts.halves:
            out = subprocess.run([sys.executable, "-c", HALVES, path], capture_output=True,
                                 text=True, check=True).stdout.split()
            produce, hashing, checks = map(float, out)
            print(f"      -j2 halves alone (CPU): child read+decode {produce:.2f} s; hash "
                  f"{hashing:.2f} + checks {checks:.2f} = {hashing + checks:.2f} s")
            out = subprocess.run([sys.executable, "-c", PROCESSES, path], capture_output=True,
                                 text=True, check=True).stdout.split()
            print(f"      -j2 processes (CPU): checking {float(out[0]):.2f} s, child "
                  f"{float(out[1]):.2f} s (its vector pass came with {out[2]} of {out[3]} "
                  "pieces)")
    for label in [c for c in ("multi-custom", "multi-dir") if c in cases]:
        path = archives[label]
        t = interleaved_medians({"j1": pgarchive_cmd("verify", "-j", "1", path),
                                 "j2": pgarchive_cmd("verify", "-j", "2", path)},
                                opts.runs, env)
        speedup = t["j1"] / t["j2"]
        print(f"{label:12s} -j1 {t['j1']:6.2f} s  -j2 {t['j2']:6.2f} s  "
              f"RATIO speed-up = {speedup:.2f} (goal >= 1.6): "
              f"{'OK' if speedup >= 1.6 else 'MISSED'}")


if __name__ == "__main__":
    main()
