"""The one exception family pgarchive raises (defined in :mod:`pgarchive.format.errors`, the
bottom layer, which raises it too); import it from here."""

from __future__ import annotations

from .format.errors import (
    ArchiveError,
    CompressionError,
    FormatError,
    MissingDataError,
    NotAnArchiveError,
    TruncatedError,
    UnsupportedVersionError,
    UsageError,
)

__all__ = ["ArchiveError", "CompressionError", "FormatError", "MissingDataError",
           "NotAnArchiveError", "TruncatedError", "UnsupportedVersionError", "UsageError"]
