"""``--clean --if-exists``: pg_restore 18's rewriting of each DROP statement.

pg_restore does not parse the statement: it puts ``IF EXISTS`` after a leading
``ALTER TABLE`` and after the first ``DROP <type>`` it finds (``DROP CONSTRAINT`` for the
three kinds of constraint), leaves DEFAULT, DATABASE PROPERTIES and ``CREATE OR REPLACE
VIEW`` statements alone, and warns about (and keeps as they are) the statements where it
finds no ``DROP <type>``, such as a publication's ``ALTER PUBLICATION ... DROP TABLE``.
"""

from __future__ import annotations

_CONSTRAINTS = frozenset({"CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT"})


def if_exists_statement(desc: str, drop: str) -> tuple[str, str | None]:
    """The DROP statement of an entry of type ``desc`` with IF EXISTS put in, and the
    warning pg_restore prints when it cannot (None when it can)."""
    out = ""
    rest = drop
    if rest.startswith("ALTER TABLE"):
        out = "ALTER TABLE IF EXISTS"
        rest = rest[11:]
    if desc in ("DEFAULT", "DATABASE PROPERTIES") or rest.startswith("CREATE OR REPLACE VIEW"):
        return out + rest, None
    # snprintf into char[40]: a longer "DROP <desc>" would be cut to 39 bytes
    marker = "DROP CONSTRAINT" if desc in _CONSTRAINTS else f"DROP {desc}"
    marker = marker.encode("utf-8", "surrogateescape")[:39].decode("utf-8", "surrogateescape")
    at = rest.find(marker)
    if at < 0:
        return (out + rest,
                f'could not find where to insert IF EXISTS in statement "{drop}"')
    return out + rest[:at] + marker + " IF EXISTS" + rest[at + len(marker):], None
