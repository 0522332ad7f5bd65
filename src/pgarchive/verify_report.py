"""What verify reports: the problems it found, one report per entry with data, and the
archive's report (kept apart from verify.py so that manifest.py, which compares a report
with a manifest, and verify.py, which reads one, both sit above it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ArchiveError

HASH_NAME = "xxh3_128"
#: How verify's note on data without a checksum ends (dropped when a manifest is given).
MANIFEST_NOTE = "only caught with --manifest"


@dataclass
class Problem:
    """One thing found wrong; ``offset`` is a byte offset in ``path`` (or, for content
    problems, in the entry's decompressed data, said so in the message)."""

    message: str
    path: str
    offset: int | None = None
    dump_id: int | None = None
    entry: str | None = None

    def __str__(self) -> str:
        return str(ArchiveError(self.message, path=self.path, offset=self.offset,
                                entry=self.entry))


#: problems kept per entry (and for the archive as a whole): an archive damaged everywhere,
#: say 320,000 large objects that nothing creates, is reported with the first ones and a
#: count of the rest, in bounded memory, rather than a list as long as the archive
KEPT_PROBLEMS = 100


@dataclass
class EntryReport:
    """What verify found for one entry with data: its counts, checksum, status and problems."""
    dump_id: int
    desc: str
    namespace: str | None
    tag: str
    rows: int | None = None
    raw_bytes: int = 0
    stored_bytes: int = 0
    large_objects: int | None = None
    checksum: str | None = None
    status: str = "ok"  # ok, damaged, missing, changed (differs from --manifest)
    problems: list[Problem] = field(default_factory=list)
    #: XXH3-128 of the entry's TOC fields, so a manifest also catches changed definitions
    toc_checksum: str | None = None
    # custom format: where the block was found and where it ended
    block_start: int | None = None
    block_end: int | None = None
    #: its data ends before what the archive promised (the file was cut): a typed fact for
    #: verify --jobs 2 to choose the one-pass answer by, not a word in a message
    cut: bool = False

    #: problems past the first KEPT_PROBLEMS, counted but not kept
    more_problems: int = 0

    def fail(self, problem: Problem, status: str = "damaged") -> None:
        """Record a problem (kept up to KEPT_PROBLEMS, counted past it) and mark the entry."""
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1
        if self.status == "ok":
            self.status = status


@dataclass
class VerifyReport:
    """What verify found for a whole archive: one report per entry and the archive's problems."""
    path: str
    format: str
    archive_version: str
    compression: str
    hash: str
    entries: list[EntryReport]
    problems: list[Problem]  # not tied to one entry (framing, extra files)
    elapsed: float = 0.0
    jobs: int = 1
    #: every TOC entry (with or without data): dump id -> checksum of its fields
    toc: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: problems not tied to one entry past the first KEPT_PROBLEMS, counted but not kept
    more_problems: int = 0

    def __post_init__(self) -> None:
        if len(self.problems) > KEPT_PROBLEMS:
            self.more_problems += len(self.problems) - KEPT_PROBLEMS
            del self.problems[KEPT_PROBLEMS:]

    @property
    def problem_count(self) -> int:
        """Every problem found, kept or only counted."""
        return (len(self.problems) + self.more_problems
                + sum(len(e.problems) + e.more_problems for e in self.entries))

    @property
    def damaged(self) -> list[EntryReport]:
        """The entries that are not intact (damaged, missing, changed)."""
        return [e for e in self.entries if e.status != "ok"]

    @property
    def ok(self) -> bool:
        """Intact: no entry damaged and no problem of the archive (exit status 0)."""
        return not self.damaged and not self.problems

    @property
    def total_rows(self) -> int:
        """Rows counted in every entry."""
        return sum(e.rows or 0 for e in self.entries)

    @property
    def total_raw(self) -> int:
        """Decompressed bytes of every entry."""
        return sum(e.raw_bytes for e in self.entries)

    @property
    def total_stored(self) -> int:
        """Stored (compressed) bytes of every entry."""
        return sum(e.stored_bytes for e in self.entries)

    def all_problems(self) -> list[Problem]:
        """The problems kept, the archive's first, then each entry's."""
        return self.problems + [p for e in self.entries for p in e.problems]

    def to_dict(self) -> dict[str, Any]:
        """The report as the JSON document verify --json prints (with a summary)."""
        d = asdict(self)
        for e in d["entries"]:
            e.pop("block_start")
            e.pop("block_end")
            e.pop("cut")
        d["summary"] = {"entries": len(self.entries), "rows": self.total_rows,
                        "raw_bytes": self.total_raw, "stored_bytes": self.total_stored,
                        "damaged": len(self.damaged), "problems": self.problem_count,
                        "elapsed": round(self.elapsed, 3), "ok": self.ok}
        return d
