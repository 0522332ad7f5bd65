"""``pgarchive query``: SQL over the archive's tables through DuckDB (placeholder)."""
