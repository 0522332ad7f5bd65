"""Reading the few things the pre-flight needs out of the SQL pg_dump writes.

pg_dump's statements have fixed shapes (pg_dump.c and dumputils.c write them), so these
are small patterns over those shapes, not a SQL parser: the extension and schema of a
CREATE EXTENSION, a function's language and ``SET`` clauses, the roles a GRANT, REVOKE,
ALTER DEFAULT PRIVILEGES or CREATE POLICY names, the settings an ALTER DATABASE sets,
the connection string of a subscription.  Pure: text in, values out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: an SQL identifier, quoted or not.  The unquoted one's classes, [A-Za-z_\x80-\U0010ffff]
#: and [A-Za-z0-9_$\x80-\U0010ffff], written as the ASCII they exclude: the same sets, but
#: a range up to U+10FFFF costs re.compile ~15 ms per pattern (0.13 s of restore's start-up)
IDENT = (r'(?:"(?:[^"]|"")+"|[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]'
         r'[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*)')
_NOT_ROLES = {"public", "current_user", "session_user", "current_role"}


def ident(text: str) -> str:
    """An identifier as the server reads it: quoted kept exactly, else lower-cased."""
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


def literal(text: str) -> str:
    """A standard string literal's value (``'it''s'`` -> ``it's``)."""
    if text.startswith("E'"):
        text = text[1:]
    return text[1:-1].replace("''", "'") if text.startswith("'") else text


def statements(text: str) -> list[str]:
    """The statements of a multi-statement entry, one per line-ending ``;`` (the shape
    pg_dump writes ACL, DATABASE PROPERTIES and TABLE entries in)."""
    return [s for s in re.split(r"(?<=;\n)", text) if s.strip()]


def role_list(text: str) -> list[str]:
    """Role names in a comma list (``PUBLIC`` and ``CURRENT_USER`` are not roles)."""
    out = []
    for part in re.findall(rf"(?:GROUP\s+)?({IDENT})", text):
        name = ident(part)
        if part.startswith('"') or name not in _NOT_ROLES:
            out.append(name)
    return out


_EXTENSION = re.compile(
    rf"CREATE EXTENSION (?:IF NOT EXISTS )?({IDENT})(?: WITH SCHEMA ({IDENT}))?")


def extension_create(defn: str) -> tuple[str, str | None] | None:
    """(extension, schema) of ``CREATE EXTENSION IF NOT EXISTS x WITH SCHEMA s``."""
    m = _EXTENSION.search(defn)
    if not m:
        return None
    return ident(m.group(1)), ident(m.group(2)) if m.group(2) else None


_SCHEMA = re.compile(rf"CREATE SCHEMA ({IDENT})(?: AUTHORIZATION ({IDENT}))?")


def schema_create(defn: str) -> tuple[str, str | None] | None:
    """(schema, AUTHORIZATION role) of a CREATE SCHEMA (older pg_dump wrote the role)."""
    m = _SCHEMA.match(defn.lstrip())
    if not m:
        return None
    return ident(m.group(1)), ident(m.group(2)) if m.group(2) else None


def _header(defn: str) -> str:
    """A CREATE FUNCTION up to its body: pg_dump puts LANGUAGE and SET before ``AS``."""
    cut = len(defn)
    for marker in ("\n    AS ", "\nBEGIN ATOMIC", "\n    BEGIN ATOMIC"):
        at = defn.find(marker)
        if 0 <= at < cut:
            cut = at
    return defn[:cut]


def function_language(defn: str) -> str | None:
    """The LANGUAGE of a CREATE FUNCTION/PROCEDURE."""
    m = re.search(rf"\n    LANGUAGE ({IDENT})", _header(defn))
    return ident(m.group(1)) if m else None


_SET = re.compile(rf"\n    SET ({IDENT}(?:\.{IDENT})?) (?:TO|=) ")


def function_settings(defn: str) -> list[str]:
    """The settings a function's ``SET name TO value`` clauses name."""
    return [_setting_name(m.group(1)) for m in _SET.finditer(_header(defn))]


def function_flags(defn: str) -> set[str]:
    """LEAKPROOF and SUPPORT, which only superusers may give a function."""
    head = _header(defn)
    flags = set()
    if re.search(r"\n    LEAKPROOF\b|\bLEAKPROOF\n", head):
        flags.add("LEAKPROOF")
    if re.search(r"\n    SUPPORT ", head):
        flags.add("SUPPORT")
    return flags


def _setting_name(text: str) -> str:
    return ".".join(ident(p) for p in re.findall(IDENT, text))


@dataclass(frozen=True)
class DatabaseSetting:
    """``ALTER DATABASE d SET name TO value`` or ``ALTER ROLE r IN DATABASE d SET ...``."""

    name: str
    role: str | None


_DB_SET = re.compile(rf"^ALTER (?:ROLE ({IDENT}) IN )?DATABASE {IDENT} SET "
                     rf"({IDENT}(?:\.{IDENT})?) (?:TO|=) ", re.MULTILINE)


def database_setting(stmt: str) -> DatabaseSetting | None:
    """The setting one DATABASE PROPERTIES statement sets, if it sets one."""
    m = _DB_SET.match(stmt.lstrip())
    if not m:
        return None
    return DatabaseSetting(_setting_name(m.group(2)), ident(m.group(1)) if m.group(1) else None)


@dataclass(frozen=True)
class AclStatement:
    """One statement of an ACL or DEFAULT ACL entry, as the pre-flight needs it."""

    kind: str                    # grant, revoke, default, session, reset, other
    roles: tuple[str, ...]       # every role it names (grantees, FOR ROLE, GRANTED BY)
    for_role: str | None = None  # ALTER DEFAULT PRIVILEGES FOR ROLE
    in_schema: str | None = None


_ROLES_AFTER = re.compile(
    rf"\b(?:TO|FROM|GRANTED BY)\s+((?:GROUP\s+)?{IDENT}(?:\s*,\s*(?:GROUP\s+)?{IDENT})*)")


def acl_statement(stmt: str) -> AclStatement:
    """Classify one ACL statement and list the roles it needs."""
    s = stmt.strip()
    m = re.match(r"SET SESSION AUTHORIZATION (.+?);$", s)
    if m:
        who = m.group(1)
        return AclStatement("session", (literal(who) if who.startswith("'") else ident(who),))
    if s.startswith("RESET SESSION AUTHORIZATION"):
        return AclStatement("reset", ())
    roles: list[str] = []
    for_role = in_schema = None
    kind = "other"
    if s.startswith("ALTER DEFAULT PRIVILEGES"):
        kind = "default"
        fm = re.match(rf"ALTER DEFAULT PRIVILEGES FOR ROLE ({IDENT})", s)
        if fm:
            for_role = ident(fm.group(1))
            roles.append(for_role)
        sm = re.search(rf" IN SCHEMA ({IDENT})", s)
        if sm:
            in_schema = ident(sm.group(1))
        body = s[s.find(" GRANT ") if " GRANT " in s else s.find(" REVOKE "):]
    elif s.startswith(("GRANT ", "REVOKE ")):
        kind = "grant" if s.startswith("GRANT ") else "revoke"
        body = s
    else:
        return AclStatement(kind, ())
    # Object names may contain TO/FROM inside quotes: look after the ON ... clause only.
    on = _after_object(body)
    for m2 in _ROLES_AFTER.finditer(on):
        roles += role_list(m2.group(1))
    return AclStatement(kind, tuple(dict.fromkeys(roles)), for_role, in_schema)


_QUOTED = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'')


def _after_object(body: str) -> str:
    """The part of a GRANT/REVOKE after its object name (quoted names may hold TO)."""
    masked = _QUOTED.sub(lambda m: " " * len(m.group(0)), body)
    cut = max(masked.rfind(" TO "), masked.rfind(" FROM "))
    return body[cut:] if cut >= 0 else ""


_POLICY_TO = re.compile(rf"\bTO\s+({IDENT}(?:\s*,\s*{IDENT})*)\s*(?:USING|WITH|;)")


def policy_roles(defn: str) -> list[str]:
    """The roles of a CREATE POLICY ... TO clause."""
    m = _POLICY_TO.search(defn)
    return role_list(m.group(1)) if m else []


_CONN = re.compile(r"CONNECTION ('(?:[^']|'')*')")


def subscription_conninfo(defn: str) -> str | None:
    """The connection string of a CREATE SUBSCRIPTION."""
    m = _CONN.search(defn)
    return literal(m.group(1)) if m else None


def conninfo_has_password(conninfo: str) -> bool:
    """Whether a connection string gives a non-empty password (what the server checks
    before a non-superuser may create a subscription)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return bool(conninfo_to_dict(conninfo).get("password"))
    except Exception:  # unparsable: the server refuses it too
        return False


def subscription_options(defn: str) -> dict[str, str]:
    """The WITH (...) options of a CREATE SUBSCRIPTION."""
    m = re.search(r"WITH \((.*)\);", defn)
    out: dict[str, str] = {}
    if m:
        for item in m.group(1).split(","):
            key, _, value = item.partition("=")
            out[key.strip().lower()] = literal(value.strip())
    return out


_CAST = re.compile(r"CREATE CAST \((.+) AS (.+?)\)\s+(WITH FUNCTION|WITHOUT FUNCTION|WITH INOUT)")


def cast_kind(defn: str) -> str | None:
    """How a CREATE CAST converts: WITH FUNCTION, WITHOUT FUNCTION or WITH INOUT."""
    m = _CAST.search(defn)
    return m.group(3) if m else None


def database_tablespace(defn: str) -> str | None:
    """The TABLESPACE of a CREATE DATABASE."""
    m = re.search(rf" TABLESPACE = ({IDENT})", defn)
    return ident(m.group(1)) if m else None


def server_wrapper(defn: str) -> str | None:
    """The FOREIGN DATA WRAPPER of a CREATE SERVER."""
    m = re.search(rf"FOREIGN DATA WRAPPER ({IDENT})", defn)
    return ident(m.group(1)) if m else None


def user_mapping_role(defn: str) -> str | None:
    """The role of a CREATE USER MAPPING FOR role (None for PUBLIC/CURRENT_USER)."""
    m = re.search(rf"CREATE USER MAPPING FOR ({IDENT})", defn)
    if not m:
        return None
    names = role_list(m.group(1))
    return names[0] if names else None


def user_mapping_server(defn: str) -> str | None:
    """The SERVER of a CREATE USER MAPPING."""
    m = re.search(rf" SERVER ({IDENT})", defn)
    return ident(m.group(1)) if m else None


def security_label_provider(defn: str) -> str | None:
    """The provider of ``SECURITY LABEL FOR provider ON ...``."""
    m = re.match(rf"SECURITY LABEL FOR ({IDENT}) ON ", defn.lstrip())
    return ident(m.group(1)) if m else None
