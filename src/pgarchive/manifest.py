"""Manifests: every entry's checksum, rows and sizes plus the header, as JSON; and the
comparison of a fresh verification against one.  This catches silent changes even in
uncompressed archives, whose format has no checksum of its own."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, cast

from .errors import UsageError
from .format.model import TocEntry
from .limits import MANIFEST_PER_ENTRY, MANIFEST_SLACK
from .verify_report import HASH_NAME, MANIFEST_NOTE, Problem, VerifyReport

MANIFEST_VERSION = 1
#: The fields of an entry of the manifest and the JSON types each may have.
_ENTRY_FIELDS: dict[str, tuple[type, ...]] = {
    "desc": (str,), "namespace": (str, type(None)), "tag": (str,),
    "rows": (int, type(None)), "raw_bytes": (int,), "stored_bytes": (int,),
    "large_objects": (int, type(None)), "checksum": (str, type(None))}


def build_manifest(report: VerifyReport) -> dict[str, Any]:
    """The manifest of a verify report: what --write-manifest writes and --manifest compares."""
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


def manifest_limit(entries: Iterable[TocEntry]) -> int:
    """The most bytes --write-manifest can write for an archive with these entries (plus
    slack): a manifest larger than that is not this archive's, and is refused before it
    is read, whatever its size."""
    total = MANIFEST_SLACK
    for e in entries:
        # 12: the longest JSON escape of one character (a surrogate pair, \ud83d\ude00)
        total += MANIFEST_PER_ENTRY + 12 * (len(e.desc) + len(e.namespace or "") + len(e.tag))
    return total


def load_manifest(path: str, limit: int) -> dict[str, Any]:
    """Read and check a manifest: at most ``limit`` bytes, every field of the JSON type
    --write-manifest writes (a manifest is input too: it is validated, never trusted)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise UsageError(f"manifest of {size} bytes is larger than any manifest of "
                                 f"this archive ({limit} bytes at most)", path=path)
            raw = f.read(limit + 1)
            if len(raw) > limit:
                raise UsageError("manifest is larger than any manifest of this archive "
                                 f"({limit} bytes at most)", path=path)
        data = json.loads(raw)
    except OSError as e:
        raise UsageError(e.strerror or str(e), path=path) from None
    except RecursionError:
        raise UsageError("not a pgarchive manifest: JSON nested too deeply", path=path) from None
    except ValueError as e:
        raise UsageError(f"not a pgarchive manifest: {e}", path=path) from None
    problem = _shape_problem(data)
    if problem:
        raise UsageError(f"not a pgarchive manifest (version 1): {problem}", path=path)
    if data.get("hash") != HASH_NAME:
        raise UsageError(f"manifest uses hash {data.get('hash')!r}, expected {HASH_NAME}",
                         path=path)
    return cast(dict[str, Any], data)


def _json_type(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "?")


def _shape_problem(data: object) -> str | None:
    """What is wrong with the shape of a manifest, or None."""
    if not isinstance(data, dict):
        return f"the document is {_json_type(data)}, not an object"
    version = data.get("pgarchive_manifest")
    if type(version) is not int or version != MANIFEST_VERSION:
        return "no \"pgarchive_manifest\": 1"
    for key in ("hash", "format", "archive_version", "compression"):
        if key in data and not isinstance(data[key], str):
            return f"\"{key}\" is {_json_type(data[key])}, not a string"
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return f"\"entries\" is {_json_type(entries)}, not an object"
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            return f"entry {key[:40]!r} is {_json_type(entry)}, not an object"
        for name, value in entry.items():
            allowed = _ENTRY_FIELDS.get(name)
            if allowed is not None and (type(value) not in allowed):
                return f"field {name!r} of entry {key[:40]!r} is {_json_type(value)}"
    toc = data.get("toc")
    if toc is not None:
        if not isinstance(toc, dict):
            return f"\"toc\" is {_json_type(toc)}, not an object"
        for key, value in toc.items():
            if not isinstance(value, str):
                return f"TOC checksum of {key[:40]!r} is {_json_type(value)}, not a string"
    return None


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


def apply_manifest(report: VerifyReport, manifest: dict[str, Any], manifest_path: str) -> None:
    """Put the differences from the manifest into ``report``: an entry whose checksum, rows
    or sizes changed shows ``changed`` and counts as damaged; differences no entry owns
    (TOC entries gone or changed) are the report's problems.  The note that a change is
    only caught with a manifest goes: one was given."""
    by_id = {e.dump_id: e for e in report.entries}
    for p in compare(report, manifest, manifest_path):
        owner = by_id.get(p.dump_id) if p.dump_id is not None else None
        if owner is not None:
            owner.fail(p, "changed")
        else:
            report.problems.append(p)
    report.notes = [n for n in report.notes if MANIFEST_NOTE not in n]
