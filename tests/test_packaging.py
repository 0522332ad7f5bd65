"""pgarchive is publishable: ``python -m build`` makes an sdist and a wheel, and the wheel,
installed into a clean virtual environment (offline, from the wheels tests/run.sh fetched
into .cache/wheels), runs ``ls`` and ``verify`` on a real archive."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from helpers import REPO, TESTDATA

WHEELHOUSE = REPO / ".cache" / "wheels"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(REPO)], check=True, capture_output=True)
    return out


@pytest.mark.slow
def test_sdist_and_wheel_carry_the_package_and_metadata(dist: Path) -> None:
    (sdist,) = dist.glob("pgarchive-*.tar.gz")
    (wheel,) = dist.glob("pgarchive-*.whl")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "setup.py",
            "src/pgarchive/__init__.py", "src/pgarchive/py.typed"} <= names
    with zipfile.ZipFile(wheel) as zf:
        wnames = set(zf.namelist())
        (meta_name,) = [n for n in wnames if n.endswith(".dist-info/METADATA")]
        meta = zf.read(meta_name).decode()
    assert "pgarchive/cli/__init__.py" in wnames
    assert "pgarchive/format/tocscan.py" in wnames
    for field in ("Project-URL: Source", "License-Expression: PostgreSQL",
                  "License-File: LICENSE", "Keywords:", "Requires-Dist: construct"):
        assert field in meta, field


@pytest.mark.slow
def test_wheel_installs_into_a_clean_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.fail(f"{WHEELHOUSE} is empty: run tests/run.sh, whose set-up fetches the "
                    "wheels of pgarchive's dependencies")
    (wheel,) = dist.glob("pgarchive-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", "--no-index", "--find-links",
                    str(WHEELHOUSE), str(wheel)], check=True)
    exe = venv / "bin" / "pgarchive"
    archive = TESTDATA / "pg18" / "custom.dump"
    ls = subprocess.run([str(exe), "ls", "--format", "list", str(archive)],
                        capture_output=True, check=True, env={"TZ": "UTC", "PATH": "/usr/bin"})
    assert ls.stdout == (TESTDATA / "pg18" / "expected" / "custom.dump.list").read_bytes()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                             check=True)
    assert version.stdout == f"pgarchive, version {wheel.name.split('-')[1]}\n"
    ver = subprocess.run([str(exe), "verify", str(archive)], capture_output=True, text=True)
    assert ver.returncode == 0, ver.stdout + ver.stderr
    assert ver.stdout.rstrip().endswith("OK")
    # The installed package is the wheel's, not this checkout's.
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import pgarchive, sys; print(pgarchive.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert str(venv) in where.stdout
