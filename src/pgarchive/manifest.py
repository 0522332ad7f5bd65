"""Manifests: every entry's checksum, rows and sizes plus the header, as JSON; and the
comparison of a fresh verification against one.  This catches silent changes even in
uncompressed archives, whose format has no checksum of its own."""

from __future__ import annotations

import json
import os
from typing import Any

from .errors import UsageError
from .verify import HASH_NAME, Problem, VerifyReport

MANIFEST_VERSION = 1
MAX_MANIFEST = 256 << 20


def build_manifest(report: VerifyReport) -> dict[str, Any]:
    return {
        "pgarchive_manifest": MANIFEST_VERSION,
        "hash": report.hash,
        "format": report.format,
        "archive_version": report.archive_version,
        "compression": report.compression,
        "entries": {
            str(e.dump_id): {"desc": e.desc, "namespace": e.namespace, "tag": e.tag,
                             "rows": e.rows, "raw_bytes": e.raw_bytes,
                             "stored_bytes": e.stored_bytes,
                             "large_objects": e.large_objects, "checksum": e.checksum}
            for e in report.entries
        },
        "toc": report.toc,
    }


def load_manifest(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_MANIFEST:
                raise UsageError(f"manifest of {size} bytes is too large", path=path)
            data = json.loads(f.read(size))
    except OSError as e:
        raise UsageError(e.strerror or str(e), path=path) from None
    except ValueError as e:
        raise UsageError(f"not a pgarchive manifest: {e}", path=path) from None
    if not isinstance(data, dict) or data.get("pgarchive_manifest") != MANIFEST_VERSION \
            or not isinstance(data.get("entries"), dict):
        raise UsageError("not a pgarchive manifest (version 1)", path=path)
    if data.get("hash") != HASH_NAME:
        raise UsageError(f"manifest uses hash {data.get('hash')!r}, expected {HASH_NAME}",
                         path=path)
    return data


def compare(report: VerifyReport, manifest: dict[str, Any], manifest_path: str) -> list[Problem]:
    """Every difference between the archive as verified now and the manifest."""
    problems: list[Problem] = []
    now = {str(e.dump_id): e for e in report.entries}
    then: dict[str, Any] = manifest["entries"]
    for key, old in then.items():
        e = now.get(key)
        label = f"{key} {old.get('desc')} {old.get('namespace') or '-'} {old.get('tag')}"
        if e is None:
            problems.append(Problem("entry is in the manifest but has no data in the archive",
                                    report.path, None, None, label))
            continue
        for fld in ("checksum", "rows", "raw_bytes", "large_objects"):
            if old.get(fld) != getattr(e, fld):
                problems.append(Problem(f"{fld} changed: manifest {old.get(fld)}, archive "
                                        f"{getattr(e, fld)}", report.path, None, e.dump_id,
                                        label))
    old_toc: dict[str, str] = manifest.get("toc") or {}
    for key, checksum in old_toc.items():
        if key not in report.toc:
            problems.append(Problem(f"TOC entry {key} of the manifest is gone", report.path))
        elif report.toc[key] != checksum:
            problems.append(Problem(f"TOC entry {key} changed (definition, name or another "
                                    "field differs from the manifest)", report.path))
    for key in report.toc:
        if old_toc and key not in old_toc:
            problems.append(Problem(f"TOC entry {key} is not in the manifest", report.path))
    for key, e in now.items():
        if key not in then:
            problems.append(Problem(f"entry is not in the manifest {manifest_path}",
                                    report.path, None, e.dump_id,
                                    f"{key} {e.desc} {e.namespace or '-'} {e.tag}"))
    return problems
