"""`pgarchive ls --format list` against `pg_restore -l` on a 100,000-entry archive, and
`info`/`ls` time and memory on a small archive against one with a >= 1 GB table.

    python benchmarks/bench_ls.py [--tables 20000] [--big-gb 1.0] [--runs 5]

Archives are generated on first use into benchmarks/work/ (never committed).
Goals (issue 2): ls <= 1.5x pg_restore -l; info/ls time and peak memory do not grow with
the size of the data.
"""

from __future__ import annotations

import argparse
import sys

from common import (
    env_utc,
    interleaved_medians,
    make_archive,
    peak_rss_kib,
    pgarchive_cmd,
    pgenv,
)


def many_tables_sql(n: int) -> str:
    return f"""
CREATE ROLE bench_reader;
DO $$
BEGIN
  FOR i IN 1..{n} LOOP
    EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, v text)', i);
    EXECUTE format('COMMENT ON TABLE t%s IS %L', i, 'table number ' || i);
    EXECUTE format('GRANT SELECT ON t%s TO bench_reader', i);
    IF i % 1000 = 0 THEN COMMIT; END IF;
  END LOOP;
END $$;
"""


def big_table_sql(gb: float) -> str:
    rows = int(gb * (1 << 30) / 100)  # ~100 bytes of COPY text per row
    return f"""
CREATE TABLE big (id bigint, a text, b text);
INSERT INTO big SELECT i, md5(i::text) || md5((i+1)::text), md5((i*7)::text)
FROM generate_series(1, {rows}) AS i;
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=20000)
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5)
    opts = ap.parse_args()
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    env = env_utc()

    many = make_archive(f"many_{opts.tables}.dump", 18, many_tables_sql(opts.tables),
                        ["-Fc"])
    ours = pgarchive_cmd("ls", "--format", "list", str(many))
    theirs = [pg_restore, "-l", str(many)]
    import subprocess

    a = subprocess.run(ours, capture_output=True, env=env, check=True).stdout
    b = subprocess.run(theirs, capture_output=True, env=env, check=True).stdout
    entries = b.count(b"\n") - 15
    print(f"archive: {many.name}, {many.stat().st_size / 1e6:.1f} MB, {entries} listed entries")
    print(f"output identical to pg_restore -l: {a == b}")
    t = interleaved_medians({"pgarchive": ours, "pg_restore": theirs}, opts.runs, env)
    print(f"ls --format list  median {t['pgarchive']:.3f} s")
    print(f"pg_restore -l     median {t['pg_restore']:.3f} s")
    ratio = t["pgarchive"] / t["pg_restore"]
    print(f"RATIO ls/pg_restore = {ratio:.2f} (goal <= 1.5): {'OK' if ratio <= 1.5 else 'MISSED'}")

    small = make_archive("small_table.dump", 18, big_table_sql(0.001), ["-Fc"])
    big = make_archive(f"big_{opts.big_gb}gb.dump", 18, big_table_sql(opts.big_gb), ["-Fc"])
    print(f"\nsmall archive {small.stat().st_size / 1e6:.2f} MB, "
          f"big archive {big.stat().st_size / 1e9:.2f} GB")
    for cmd in ("info", "ls"):
        times = interleaved_medians({"small": pgarchive_cmd(cmd, str(small)),
                                     "big": pgarchive_cmd(cmd, str(big))}, opts.runs, env)
        rss_small = peak_rss_kib(pgarchive_cmd(cmd, str(small)), env)
        rss_big = peak_rss_kib(pgarchive_cmd(cmd, str(big)), env)
        print(f"{cmd:5s} time small {times['small']:.3f} s, big {times['big']:.3f} s, "
              f"RATIO big/small = {times['big'] / times['small']:.2f}; "
              f"peak RSS small {rss_small / 1024:.1f} MiB, big {rss_big / 1024:.1f} MiB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
