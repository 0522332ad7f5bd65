"""Golden scripts of PostgreSQL 18's ``pg_restore -f`` for ``pgarchive sql``'s tests.

For every archive in index.json and every option set of OPTION_SETS, runs the real
pg_restore 18 (TZ=UTC, one fixed --restrict-key) and records the SHA-256 and size of the
script (and its warnings on stderr, or its error and exit status when it refuses) in
``sql/goldens.json``.  The scripts themselves would take ~150 MB; the distinct ones of the
pg_dump 18 custom archive and the extras are kept whole, zstd-compressed, in
``sql/scripts.tar.zst``, so that a mismatch there shows as a diff even where no
PostgreSQL is installed (elsewhere the test runs pg_restore again for the diff).

Usage: python testdata/make_sql_goldens.py      (after make_corpus.py; ~2 minutes)
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgenv

HERE = Path(__file__).resolve().parent
OUT = HERE / "sql"
KEY = "pgarchiveGoldenKey0123"

#: Together these use every option of pg_restore 18 that changes a script.
OPTION_SETS: list[list[str]] = [
    [],
    ["-c", "--if-exists", "-O", "-x"],
    ["-C", "-c", "--if-exists"],
    ["-a", "--disable-triggers", "-S", "postgres"],
    ["-1", "--role", "r"],
    ["--use-set-session-authorization"],
    ["-s", "--no-comments", "--no-tablespaces"],
    ["--statistics-only"],
    ["-c", "--transaction-size", "7"],
    ["--no-data", "--no-table-access-method", "--enable-row-security"],
    ["-C", "-c", "--transaction-size", "3"],
    ["--section", "pre-data", "--no-policies", "--no-publications", "--no-subscriptions",
     "--no-security-labels"],
    ["-t", "customers", "-t", "orders", "-t", "t_am", "--statistics"],
    ["--no-schema", "--disable-triggers", "--no-owner"],
    ["-c", "--if-exists", "--use-set-session-authorization", "-1"],
    ["-c", "--if-exists", "-C", "--use-set-session-authorization"],
]

#: Archives whose distinct scripts are stored whole.
WHOLE = ("pg18/custom.dump", "pg10/custom.dump", "sqlextra/")


def run(pg_restore: Path, archive: Path, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(pg_restore), "-f", "-", "--restrict-key", KEY, *args,
                           str(archive)], capture_output=True,
                          env={"TZ": "UTC", "PATH": "/usr/bin:/bin", "LC_ALL": "C"})


def main() -> None:
    pg_restore = pgenv.bindir(18) / "pg_restore"
    index = json.loads((HERE / "index.json").read_text())
    OUT.mkdir(exist_ok=True)
    goldens: dict[str, Any] = {"restrict_key": KEY, "option_sets": OPTION_SETS,
                               "archives": {}}
    whole: dict[str, bytes] = {}
    for item in index:
        rel = item["archive"]
        per: list[dict[str, Any]] = []
        for args in OPTION_SETS:
            res = run(pg_restore, HERE / rel, args)
            stderr = res.stderr.decode("utf-8", "replace")
            rec: dict[str, Any] = {"status": res.returncode,
                                   "stderr": stderr.replace("pg_restore: ", "")}
            if res.returncode == 0:
                digest = hashlib.sha256(res.stdout).hexdigest()
                rec.update(sha256=digest, size=len(res.stdout))
                if rel.startswith(WHOLE):
                    whole[digest] = res.stdout
            per.append(rec)
        goldens["archives"][rel] = per
        print(rel, flush=True)
    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for digest in sorted(whole):
            info = tarfile.TarInfo(digest + ".sql")
            info.size = len(whole[digest])
            tf.addfile(info, io.BytesIO(whole[digest]))
    params = zstandard.ZstdCompressionParameters.from_level(19, enable_ldm=True,
                                                            window_log=27)
    packed = zstandard.ZstdCompressor(compression_params=params).compress(raw.getvalue())
    (OUT / "scripts.tar.zst").write_bytes(packed)
    print(f"{len(whole)} whole scripts, {len(packed)} bytes compressed")


if __name__ == "__main__":
    main()
