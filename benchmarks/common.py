"""Helpers shared by the benchmarks: real PostgreSQL, cached generated archives, timing."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("PGARCHIVE_BENCH_DIR", HERE / "work"))
sys.path.insert(0, str(HERE.parent / "testdata"))

import pgenv  # noqa: E402


def work_path(name: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK / name


def make_archive(name: str, major: int, setup_sql: str | Callable[[pgenv.Cluster], None],
                 dump_args: Sequence[str]) -> Path:
    """Create (once; cached in benchmarks/work) an archive from a fresh database."""
    target = work_path(name)
    if target.exists():
        return target
    tmp = target.with_name(target.name + ".partial")
    settings = {"max_locks_per_transaction": "2048", "max_wal_size": "4GB"}
    with pgenv.cluster(major, settings=settings) as c:
        c.run(["createdb", "bench"])
        if callable(setup_sql):
            setup_sql(c)
        else:
            sql = work_path(name + ".sql")
            sql.write_text(setup_sql)
            sql.chmod(0o644)
            c.psql_file("bench", sql)
        c.run(["pg_dump", *dump_args, "-f", str(tmp), "bench"])
    tmp.rename(target)
    return target


def make_table_archives(want: dict[str, tuple[str, list[str], str]],
                        databases: dict[str, str]) -> dict[str, str]:
    """Archives by label, made once (cached in benchmarks/work) in one cluster: ``want``
    maps a label to (file name, pg_dump arguments, database); ``databases`` maps each
    database to the SQL that fills it.  Databases whose archives all exist are skipped."""
    paths = {k: work_path(name) for k, (name, _a, _db) in want.items()}
    if all(p.exists() for p in paths.values()):
        return {k: str(p) for k, p in paths.items()}
    with pgenv.cluster(18, settings={"max_wal_size": "8GB"}) as c:
        for db, sql in databases.items():
            if all(paths[k].exists() for k, (_n, _a, d) in want.items() if d == db):
                continue
            c.run(["createdb", db])
            f = work_path(f"{db}.sql")
            f.write_text(sql)
            f.chmod(0o644)
            c.psql_file(db, f)
        for k, (_name, args, db) in want.items():
            if not paths[k].exists():
                tmp = paths[k].with_name(paths[k].name + ".partial")
                c.run(["pg_dump", *args, "-f", str(tmp), db])
                tmp.rename(paths[k])
    return {k: str(p) for k, p in paths.items()}


def run_timed(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one run of a command, output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    _, status, usage = os.wait4(proc.pid, 0) if False else (0, proc.returncode,
                                                             resource.getrusage(
                                                                 resource.RUSAGE_CHILDREN))
    if status not in (0,):
        raise RuntimeError(f"{argv[0]} failed ({status}): {err.decode()[-500:]}")
    return wall, usage.ru_maxrss


def peak_rss_kib(argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Peak resident memory of one run, measured by GNU time-like wait4 accounting."""
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{argv[0]} failed with status {status}")
    return usage.ru_maxrss


def median_time(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(list(argv), stdout=subprocess.DEVNULL, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(commands: dict[str, Sequence[str]], runs: int,
                        env: dict[str, str] | None = None) -> dict[str, float]:
    """Median wall time of each command, runs interleaved so machine noise hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):
        for k, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(list(argv), stdout=subprocess.DEVNULL, check=True, env=env)
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def pgarchive_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pgarchive", *args]


def env_utc() -> dict[str, str]:
    return dict(os.environ, TZ="UTC")
