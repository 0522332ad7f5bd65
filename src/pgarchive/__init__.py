"""pgarchive: read, verify and selectively restore PostgreSQL pg_dump archives."""

from .archive import Archive, open
from .errors import ArchiveError
from .format.model import Header, TocEntry

__all__ = ["Archive", "ArchiveError", "Header", "TocEntry", "open"]
__version__ = "0.1.0"
