"""`pgarchive export` and `verify --types` against `pg_restore -a -t TABLE -f /dev/null`.

    python benchmarks/bench_export.py [--gb 2.0] [--runs 3] [--cases copy,csv,...]

Makes (once, into benchmarks/work/, through common.make_archive) a database with one table
of about --gb GB of COPY text with a mix of column types (bigint, integer, text, timestamptz,
numeric(14,4), double precision, boolean, date) and dumps it as custom gzip.
Goals (issue 17), each against pg_restore, which only decompresses: export --format copy
<= 1.0x, csv <= 2.0x, parquet <= 3.0x; verify --types <= 2.5x plain verify; peak memory
< 300 MB for parquet with 128 MiB row groups, < 100 MB otherwise.
"""

from __future__ import annotations

import argparse

from common import env_utc, interleaved_medians, make_archive, peak_rss_kib, pgarchive_cmd, pgenv

TABLE = "public.big"


def table_sql(gb: float) -> str:
    rows = int(gb * (1 << 30) / 118)  # ~118 bytes of COPY text per row
    return ("CREATE TABLE big (id bigint, n integer, a text, b text, c timestamptz, "
            "d numeric(14,4), f double precision, ok boolean, day date);\n"
            "INSERT INTO big SELECT i, ((i::bigint * 7919) % 100000)::integer, md5(i::text), "
            "CASE WHEN i % 10 = 0 THEN NULL ELSE 'v' || (i % 1000) END, "
            "TIMESTAMPTZ '2024-01-01+00' + i * INTERVAL '1 second', (i / 7.0)::numeric(14,4), "
            "i / 3.0::float8, i % 3 = 0, DATE '2000-01-01' + i % 9000 "
            f"FROM generate_series(1, {rows}) AS i;\n")


def archive(gb: float) -> str:
    return str(make_archive(f"export_{gb}_gzip.dump", 18, table_sql(gb), ["-Fc"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="copy,csv,jsonl,parquet,types")
    opts = ap.parse_args()
    path = archive(opts.gb)
    env = env_utc()
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    cases = opts.cases.split(",")
    cmds: dict[str, list[str]] = {"pg_restore": [pg_restore, "-a", "-t", "big", "-f",
                                                 "/dev/null", path]}
    for fmt in ("copy", "csv", "jsonl", "parquet"):
        if fmt in cases:
            cmds[fmt] = pgarchive_cmd("export", path, "-t", TABLE, "-F", fmt, "-o",
                                      "/dev/null")
    if "types" in cases:
        cmds["verify"] = pgarchive_cmd("verify", path)
        cmds["verify --types"] = pgarchive_cmd("verify", "--types", path)
    print(f"one table, ~{opts.gb} GB of COPY text, gzip; medians of {opts.runs} interleaved "
          "runs (shared 2-core machine: compare ratios, not seconds)")
    t = interleaved_medians(cmds, opts.runs, env)
    base = t["pg_restore"]
    print(f"pg_restore -a -t big -f /dev/null  {base:7.2f} s")
    goals = {"copy": 1.0, "csv": 2.0, "jsonl": None, "parquet": 3.0}
    for fmt, goal in goals.items():
        if fmt not in t:
            continue
        ratio = t[fmt] / base
        verdict = "" if goal is None else (
            f" (goal <= {goal}): {'OK' if ratio <= goal else 'MISSED'}")
        rss = peak_rss_kib(cmds[fmt], env) / 1024
        limit = 300 if fmt == "parquet" else 100
        print(f"export -F {fmt:8s} {t[fmt]:7.2f} s  RATIO {fmt}/pg_restore = {ratio:.2f}"
              f"{verdict}; peak RSS {rss:.0f} MiB (goal < {limit}): "
              f"{'OK' if rss < limit else 'MISSED'}")
    if "verify --types" in t:
        ratio = t["verify --types"] / t["verify"]
        rss = peak_rss_kib(cmds["verify --types"], env) / 1024
        print(f"verify {t['verify']:7.2f} s  verify --types {t['verify --types']:7.2f} s  "
              f"RATIO types/plain = {ratio:.2f} (goal <= 2.5): "
              f"{'OK' if ratio <= 2.5 else 'MISSED'}; peak RSS {rss:.0f} MiB (goal < 100): "
              f"{'OK' if rss < 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
