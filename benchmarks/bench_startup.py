"""Start-up time of the `pgarchive` command on a regular (non-editable) install, against
Python's own start-up and `pg_restore -l`.

    python benchmarks/bench_startup.py [--runs 30]

Builds pgarchive's wheel, installs it into a throwaway virtual environment (dependencies
from .cache/wheels, which tests/run.sh fills, else from the index), and times, interleaved:
`python -c pass` (the floor), `pgarchive --version`, `pgarchive ls --format list` of the
small pg18 custom archive, and `pg_restore -l` of the same archive.
Goals (issue 10): --version under 40 ms, ls --format list of a small archive under 50 ms.
With --instructions (needs valgrind), each command's instruction count (callgrind) is
shown too: unlike the times, it does not move with the machine's load.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import interleaved_medians, pgenv

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "testdata" / "pg18" / "custom.dump"
GOALS = {"pgarchive --version": 0.040, "pgarchive ls -F list": 0.050}


def install(where: Path) -> Path:
    """A venv in ``where`` with pgarchive installed from its wheel; its bin directory."""
    wheels = where / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(wheels), str(ROOT)], check=True)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    cached = ROOT / ".cache" / "wheels"
    links = ["--no-index", "--find-links", str(cached)] if cached.is_dir() else []
    wheel = next(wheels.glob("pgarchive-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", *links, "--find-links", str(wheels),
                    str(wheel)], check=True)
    return venv / "bin"


def instructions(argv: list[str]) -> int | None:
    """The instructions ``argv`` executes, counted by callgrind (None without valgrind)."""
    if shutil.which("valgrind") is None:
        return None
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          *argv], capture_output=True, text=True, check=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    return int(m.group(1)) if m else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--instructions", action="store_true",
                    help="also count each command's instructions with callgrind")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bindir = install(Path(tmp))
        commands = {
            "python -c pass": [str(bindir / "python"), "-c", "pass"],
            "pgarchive --version": [str(bindir / "pgarchive"), "--version"],
            "pgarchive ls -F list": [str(bindir / "pgarchive"), "ls", "-F", "list",
                                     str(SMALL)],
            "pg_restore -l": [str(pgenv.bindir(18) / "pg_restore"), "-l", str(SMALL)],
        }
        for argv in commands.values():  # warm the page cache and the .pyc files
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        med = interleaved_medians(commands, opts.runs)
        counts = {name: instructions(argv) if opts.instructions else None
                  for name, argv in commands.items()}
    floor = med["python -c pass"]
    print(f"median of {opts.runs} interleaved runs, regular install (wheel):")
    for name, t in med.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else (
            f"  goal < {goal * 1000:.0f} ms: {'met' if t < goal else 'NOT met'}")
        n = counts[name]
        ins = f"  {n / 1e6:6.1f} M instructions" if n else ""
        print(f"  {name:22s} {t * 1000:7.1f} ms  {t / floor:5.2f}x python -c pass{ins}{verdict}")


if __name__ == "__main__":
    main()
