"""Pure parsing and building of the pg_dump archive format: bytes in, values out."""
