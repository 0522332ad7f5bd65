"""The native engine against `pg_restore -d`, into the same real PostgreSQL 18 (issue 16).

    python benchmarks/bench_engine.py [--gb 2] [--tables 20000] [--runs 3]

Three cases, each restored into fresh databases by both tools, in alternating order, the
medians compared:
  * serial, a single-table archive of --gb GB (COPY bound): goal native <= 1.2x;
  * serial, a schema of --tables tables with comments and grants (statement bound):
    goal native <= 1.2x;
  * -j 2, a four-table directory archive: goal native <= 1.0x of pg_restore -j 2.
The native side is the whole `pgarchive restore --engine native` command (its checks and
row counts included); its peak RSS is shown (goal: under 150 MB whatever the size).
Archives are generated once into benchmarks/work/ (never committed).  The machine is
shared: quote the ratios, and the load printed with them.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from bench_ls import many_tables_sql
from common import make_archive, pgarchive_cmd, pgenv


def big_table_sql(gb: float, name: str = "big") -> str:
    rows = int(gb * (1 << 30) / 100)  # ~100 bytes of COPY text per row
    return f"""
CREATE TABLE {name} (id bigint PRIMARY KEY, a text, b text);
INSERT INTO {name} SELECT i, md5(i::text) || md5((i+1)::text), md5((i*7)::text)
FROM generate_series(1, {rows}) AS i;
"""


def run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one run; fails loudly."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv[:4]} failed ({status}): {err.decode()[-800:]}")
    return wall, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--tables", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["big", "many", "parallel"], action="append")
    args = ap.parse_args()
    cases = args.only or ["big", "many", "parallel"]
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    archives = {}
    if "big" in cases:
        archives["big"] = make_archive(f"engine_big_{args.gb}gb.dump", 18,
                                       big_table_sql(args.gb), ["-Fc"])
    if "many" in cases:
        archives["many"] = make_archive(f"engine_many_{args.tables}.dump", 18,
                                        many_tables_sql(args.tables), ["-Fc"])
    if "parallel" in cases:
        four = "".join(big_table_sql(args.gb / 4, f"t{i}") for i in range(4))
        archives["parallel"] = make_archive(f"engine_four_{args.gb}gb.dir", 18, four,
                                            ["-Fd"])
    names = itertools.count()
    settings = {"max_locks_per_transaction": "2048", "max_wal_size": "4GB",
                "autovacuum": "off"}
    with pgenv.cluster(18, settings=settings) as c:
        c.psql("postgres", "CREATE ROLE bench_reader")
        env = dict(c.client_env())
        env.pop("PGPASSWORD", None)
        env.pop("PG_RESTORE", None)

        def fresh() -> str:
            name = f"b{next(names)}"
            c.run(["createdb", "-T", "template0", name])
            return name

        def drop(name: str) -> None:
            c.run(["dropdb", name])

        for case in cases:
            path = str(archives[case])
            jobs = ["-j", "2"] if case == "parallel" else []
            ours: list[float] = []
            theirs: list[float] = []
            rss: list[int] = []
            for i in range(args.runs):
                a, b = fresh(), fresh()
                pair = [("pg_restore", [pg_restore, *jobs, "-d", a, path]),
                        ("native", pgarchive_cmd("restore", path, "-d", str(c.conninfo(b)),
                                                 "--engine", "native", *jobs))]
                if i % 2:
                    pair.reverse()
                for who, argv in pair:
                    wall, peak = run(argv, env)
                    if who == "native":
                        ours.append(wall)
                        rss.append(peak)
                    else:
                        theirs.append(wall)
                drop(a)
                drop(b)
            goal = 1.0 if case == "parallel" else 1.2
            ratio = statistics.median(ours) / statistics.median(theirs)
            size = sum(f.stat().st_size for f in archives[case].rglob("*")) \
                if archives[case].is_dir() else archives[case].stat().st_size
            print(f"{case}: {archives[case].name} ({size / 1e6:.0f} MB), {args.runs} rounds, "
                  f"load {os.getloadavg()[0]:.1f} (2 cores, shared)")
            print(f"  pg_restore {' '.join(jobs)} -d  median {statistics.median(theirs):.2f} s"
                  f"  {' '.join(f'{t:.2f}' for t in theirs)}")
            print(f"  native engine    median {statistics.median(ours):.2f} s"
                  f"  {' '.join(f'{t:.2f}' for t in ours)}, peak RSS {max(rss) / 1024:.0f} MiB")
            print(f"  RATIO native/pg_restore = {ratio:.2f} (goal <= {goal}): "
                  f"{'met' if ratio <= goal else 'NOT met'}; memory goal < 150 MB: "
                  f"{'met' if max(rss) / 1024 < 150 else 'NOT met'}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
