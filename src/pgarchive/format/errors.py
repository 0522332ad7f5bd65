"""The one exception family pgarchive raises: every failure names file, offset and entry.

It lives at the bottom, in :mod:`pgarchive.format`, because the format readers raise it and
import nothing from above; :mod:`pgarchive.errors` is its public name."""

from __future__ import annotations


class ArchiveError(Exception):
    """Anything wrong with an archive or with how it is used.

    ``path``, ``offset`` (a byte offset in ``path``) and ``entry`` (a short description of
    the TOC entry concerned) are filled in where known; ``str()`` gives the one-line form
    the CLI prints after ``pgarchive: error:``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        entry: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset
        self.entry = entry

    def located(self, *, path: str | None = None, offset: int | None = None,
                entry: str | None = None) -> ArchiveError:
        """Fill in whatever location facts are still missing (innermost facts win)."""
        if self.path is None:
            self.path = path
        if self.offset is None:
            self.offset = offset
        if self.entry is None:
            self.entry = entry
        return self

    def __str__(self) -> str:
        where = []
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        if self.entry:
            where.append(f"entry {self.entry}")
        text = self.message
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.path:
            text = f"{self.path}: {text}"
        return text.replace("\n", " ")


class NotAnArchiveError(ArchiveError):
    """The input is not a pg_dump archive (or is a plain SQL dump)."""


class FormatError(ArchiveError):
    """The bytes do not follow the archive format."""


class TruncatedError(FormatError):
    """The archive ends before a structure it promised is complete."""


class MissingDataError(FormatError):
    """Data the TOC promises is not in the archive (a missing file or tar member)."""


class UnsupportedVersionError(ArchiveError):
    """The archive's version is outside what this reader understands."""


class CompressionError(FormatError):
    """A compressed stream is damaged, truncated or uses an unknown algorithm."""


class UsageError(ArchiveError):
    """The request itself cannot be carried out (bad option, missing entry, ...)."""
