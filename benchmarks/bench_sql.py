"""`pgarchive sql -f /dev/null` against `pg_restore -f /dev/null` (PostgreSQL 18), with peak
memory.

    python benchmarks/bench_sql.py [--gb 2.0] [--tables 20000] [--runs 3] [--cases ...]

Archives are made on first use into benchmarks/work/ (never committed), by the same code
as bench_verify.py (one table of about --gb GB dumped as custom gzip, lz4, zstd and
uncompressed) and bench_ls.py (--tables tables: ~100,000 TOC entries).
Goals (issue 15): gzip <= 0.7x pg_restore; lz4, zstd, none <= 1.2x; `sql -s` of the
100,000-entry schema <= 1.5x `pg_restore -s`; peak memory < 100 MB.
"""

from __future__ import annotations

import argparse

import bench_ls
import bench_verify
from common import (
    env_utc,
    interleaved_medians,
    make_archive,
    peak_rss_kib,
    pgarchive_cmd,
    pgenv,
    work_path,
)

FORMS = {"gzip": ["-Fc"], "lz4": ["-Fc", "-Z", "lz4"], "zstd": ["-Fc", "-Z", "zstd"],
         "none": ["-Fc", "-Z0"]}


def single_table_archives(gb: float, labels: list[str]) -> dict[str, str]:
    """The one-table archives of bench_verify.py (same names, shared with it), made here
    without its four-table database when they are missing."""
    paths = {k: work_path(f"one_{gb}_{k}.dump") for k in labels}
    missing = [k for k, p in paths.items() if not p.exists()]
    if missing:
        with pgenv.cluster(18, settings={"max_wal_size": "8GB"}) as c:
            c.run(["createdb", "one"])
            f = work_path(f"one_{gb}.sql")
            f.write_text(bench_verify.rows_sql("big", gb))
            f.chmod(0o644)
            c.psql_file("one", f)
            for k in missing:
                tmp = paths[k].with_name(paths[k].name + ".partial")
                c.run(["pg_dump", *FORMS[k], "-f", str(tmp), "one"])
                tmp.rename(paths[k])
    return {k: str(p) for k, p in paths.items()}


GOALS = {"gzip": 0.7, "lz4": 1.2, "zstd": 1.2, "none": 1.2, "schema": 1.5}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--tables", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="schema,gzip,lz4,zstd,none")
    opts = ap.parse_args()
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    env = env_utc()
    cases = opts.cases.split(",")
    paths: dict[str, str] = {}
    if "schema" in cases:
        paths["schema"] = str(make_archive(f"many_{opts.tables}.dump", 18,
                                           bench_ls.many_tables_sql(opts.tables), ["-Fc"]))
    data_cases = [c for c in cases if c != "schema"]
    if data_cases:
        paths.update(single_table_archives(opts.gb, data_cases))
    print(f"medians of {opts.runs} interleaved runs (the machine is shared: ratios matter)")
    for label in cases:
        path = paths[label]
        extra = ["-s"] if label == "schema" else []
        t = interleaved_medians({
            "sql": pgarchive_cmd("sql", *extra, "--restrict-key", "k", "-f", "/dev/null", path),
            "pg_restore": [pg_restore, *extra, "--restrict-key", "k", "-f", "/dev/null", path],
        }, opts.runs, env)
        ratio = t["sql"] / t["pg_restore"]
        rss = peak_rss_kib(pgarchive_cmd("sql", *extra, "-f", "/dev/null", path), env) / 1024
        goal = GOALS[label]
        what = ("sql -s (100k entries)" if label == "schema" else
                f"{label:5s} {opts.gb} GB table")
        print(f"{what}: sql {t['sql']:6.2f} s  pg_restore {t['pg_restore']:6.2f} s  "
              f"RATIO {ratio:.2f} (goal <= {goal}): {'OK' if ratio <= goal else 'MISSED'}; "
              f"peak RSS {rss:.0f} MiB (goal < 100): {'OK' if rss < 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
