"""Code and settings: a function's language (present, trusted, USAGE), the flags and
``SET`` clauses only a superuser may give it, settings the server does not know or keeps
for superusers (guc.c), base types, procedural languages and casts, and the settings of
DATABASE PROPERTIES."""

from __future__ import annotations

import re

from ...format.model import TocEntry
from .. import statements as st
from .kinds import UNTRUSTED_LANGUAGES
from .model import Problem
from .state import State


def function(s: State, e: TocEntry) -> list[Problem]:
    """CREATE FUNCTION / PROCEDURE."""
    f = s.facts
    defn = e.defn or ""
    lang = st.function_language(defn)
    if lang:
        have = f.languages.get(lang)
        if have is None and lang not in s.languages:
            return [Problem("language_missing", f'language "{lang}" does not exist')]
        trusted = have.trusted if have is not None else s.languages[lang]
        if lang in UNTRUSTED_LANGUAGES:
            trusted = False
        if not f.superuser and not trusted:
            return [Problem("language_untrusted", f'language "{lang}" is untrusted: only a '
                            "superuser may create functions in it")]
        if not f.superuser and have is not None and not have.usage:
            return [Problem("language_privilege", f'no USAGE privilege on language "{lang}"')]
    for flag in sorted(st.function_flags(defn)):
        if not f.superuser:
            return [Problem("superuser_required", f"only a superuser may give a function "
                            f"{flag}")]
    for name in st.function_settings(defn):
        p = setting(s, name)
        if p:
            return [p]
    return []


def setting(s: State, name: str) -> Problem | None:
    """Whether a stored setting (function SET, ALTER DATABASE SET) is accepted: guc.c
    validate_option_array_item."""
    f = s.facts
    context = f.settings.get(name)
    if context is None:
        if "." not in name:
            return Problem("setting_unknown", f'unrecognized configuration parameter "{name}"')
        if f.superuser or name in f.settable:
            return None
        return Problem("setting_superuser", f'"{name}" is not a parameter the server knows '
                       "(a placeholder): only a superuser may store it")
    if context == "user":
        return None
    if context == "superuser":
        if f.superuser or name in f.settable:
            return None
        return Problem("setting_superuser", f'only a superuser may set "{name}"')
    return Problem("setting_superuser", f'"{name}" cannot be set here (context {context})')


def base_type(s: State, e: TocEntry) -> list[Problem]:
    """A base type (CREATE TYPE with INPUT =) needs a superuser."""
    if re.search(r"\n    INPUT = ", e.defn or "") and not s.facts.superuser:
        return [Problem("superuser_required", "only a superuser may create a base type")]
    return []


def procedural_language(s: State, e: TocEntry) -> list[Problem]:
    """CREATE LANGUAGE outside an extension (old archives) needs a superuser."""
    del e
    if s.facts.superuser:
        return []
    return [Problem("superuser_required", "only a superuser may create a procedural "
                    "language outside an extension")]


def cast(s: State, e: TocEntry) -> list[Problem]:
    """CREATE CAST: WITHOUT FUNCTION needs a superuser; otherwise the source or target
    type must be the restoring role's."""
    if s.facts.superuser:
        return []
    if st.cast_kind(e.defn or "") == "WITHOUT FUNCTION":
        return [Problem("superuser_required", "only a superuser may create a cast WITHOUT "
                        "FUNCTION")]
    for d in e.dependencies:
        dep = s.by_id.get(d)
        o = s.objects.get(d)
        if dep is not None and dep.desc in ("TYPE", "DOMAIN") and o is not None and o.acts:
            return []
    return [Problem("not_owner", "must own the source or target type of the cast")]


def database_properties(s: State, e: TocEntry) -> list[Problem]:
    """ALTER DATABASE ... SET and ALTER ROLE ... IN DATABASE ... SET (with -C)."""
    f = s.facts
    db = next((s.objects.get(i) for i, x in s.by_id.items() if x.desc == "DATABASE"), None)
    if db is not None and not (db.acts or f.superuser):
        return [Problem("not_owner", f'the database belongs to "{db.owner}", whose '
                        "privileges the restoring role lacks")]
    for stmt in st.statements(e.defn or ""):
        found = st.database_setting(stmt)
        if found is None:
            continue
        if found.role is not None:
            if found.role not in f.roles:
                return [Problem("role_missing", f'role "{found.role}" does not exist')]
            if not f.superuser and found.role != f.current_user:
                return [Problem("superuser_required", "only a superuser may store settings "
                                f'of role "{found.role}"')]
        p = setting(s, found.name)
        if p:
            return [p]
    return []
