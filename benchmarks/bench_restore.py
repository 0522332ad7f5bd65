"""`pgarchive restore` against `pg_restore -d` on the small corpus archive, into a real
PostgreSQL 18: the time pgarchive adds (start-up, checks, the list, the row counts).

    python benchmarks/bench_restore.py [--runs 7] [--archive testdata/pg18/custom.dump]

Each round restores into two fresh databases, one with each tool, in alternating order;
the overhead is the median of the per-round differences.  Goal (issue 11): under 0.5 s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import HERE, pgarchive_cmd, pgenv

CORPUS_ROLES = 'CREATE ROLE alice; CREATE ROLE "Bob Smith"; CREATE ROLE reader;'
#: Runs pgarchive and prints the CPU time of its own process (not of pg_restore): on a
#: loaded machine wall times swell with waiting, CPU time much less.
CPU_WRAPPER = """
import atexit, resource, sys
def report():
    s = resource.getrusage(resource.RUSAGE_SELF)
    sys.__stderr__.write(f"CPU {s.ru_utime + s.ru_stime:.4f}\\n")
atexit.register(report)
sys.argv = ["pgarchive", *sys.argv[1:]]
from pgarchive.cli import main
main()
"""
IMPORT_CPU = ("import resource, psycopg; s = resource.getrusage(resource.RUSAGE_SELF); "
              "print(s.ru_utime + s.ru_stime)")
BARE_CPU = ("import resource; s = resource.getrusage(resource.RUSAGE_SELF); "
            "print(s.ru_utime + s.ru_stime)")


def timed(argv: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    start = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {res.stderr.decode()[-800:]}")
    if cpu is not None:
        cpu.append(float(res.stderr.decode().rsplit("CPU ", 1)[1].split()[0]))
    return elapsed


def cpu_of(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return float(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--archive", default=str(HERE.parent / "testdata/pg18/custom.dump"))
    args = ap.parse_args()
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    names = itertools.count()
    with pgenv.cluster(18) as c:
        c.psql("postgres", CORPUS_ROLES)
        env = dict(c.client_env(), PG_RESTORE=pg_restore)
        env.pop("PGPASSWORD", None)

        def fresh() -> str:
            name = f"b{next(names)}"
            c.run(["createdb", "-T", "template0", name])
            return name

        ours: list[float] = []
        theirs: list[float] = []
        dry: list[float] = []
        cpu: list[float] = []
        for i in range(args.runs + 1):  # the first round warms caches and is dropped
            plain = [pg_restore, "-d", fresh(), args.archive]
            wrapped = [sys.executable, "-c", CPU_WRAPPER, "restore", args.archive, "-d",
                       str(c.conninfo(fresh()))]
            checks = pgarchive_cmd("restore", args.archive, "-d", str(c.conninfo(fresh())),
                                   "--dry-run")
            pair = [(theirs, plain), (ours, wrapped)]
            if i % 2:
                pair.reverse()
            used: list[float] = []
            times = [(bucket, timed(argv, env, used if bucket is ours else None))
                     for bucket, argv in pair]
            dry_time = timed(checks, env)
            if i:
                for bucket, t in times:
                    bucket.append(t)
                dry.append(dry_time)
                cpu += used
    diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
    psycopg_cpu = statistics.median(cpu_of(IMPORT_CPU) for _ in range(5))
    bare_cpu = statistics.median(cpu_of(BARE_CPU) for _ in range(5))
    print(f"archive: {Path(args.archive).name}, {args.runs} rounds, machine load "
          f"{os.getloadavg()[0]:.1f} (2 cores)")
    print(f"pg_restore -d             median {statistics.median(theirs):.3f} s")
    print(f"pgarchive restore         median {statistics.median(ours):.3f} s")
    print(f"pgarchive restore --dry-run median {statistics.median(dry):.3f} s "
          "(start-up and every check, no pg_restore)")
    print(f"overhead (per-round diff) median {statistics.median(diffs):.3f} s, "
          f"ratio {statistics.median(ours) / statistics.median(theirs):.2f}; goal < 0.5 s: "
          f"{'met' if statistics.median(diffs) < 0.5 else 'NOT met'}")
    print(f"CPU of pgarchive's own process median {statistics.median(cpu):.3f} s; of which "
          f"importing psycopg {psycopg_cpu - bare_cpu:.3f} s, a bare python {bare_cpu:.3f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
