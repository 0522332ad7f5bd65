"""Issue 18 (performance): a conversion that copies its data is little more than ``cp``, so
what it imports counts.  Writing the TOC needs no construct (the writer packs the fields
of format.fields, which the construct specification is also made from), and only the
writer of the kind written is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TESTDATA

PROBE = """\
import sys
from pgarchive.cli import main
sys.argv = ['pgarchive', 'convert', *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
sys.stderr.write(repr(sorted(m for m in ('construct', 'tarfile', 'pgarchive.format.structs')
                             if m in sys.modules)))
"""


@pytest.mark.parametrize(("kind", "loaded"), [("custom", []), ("directory", []),
                                              ("tar", ["tarfile"])])
def test_converting_imports_no_construct(kind: str, loaded: list[str],
                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", PROBE, str(TESTDATA / "pg18" / "custom.dump"),
                           str(out), "-F", kind, "--no-sync"], capture_output=True, check=True)
    assert out.exists() and done.stderr.decode() == repr(loaded)
