"""CREATE EXTENSION (extension.c): offered by the server's installation, its required
extensions there or restored, its schema, and who may create it (a superuser, or for a
trusted extension a role with CREATE on the database)."""

from __future__ import annotations

from ...format.model import TocEntry
from .. import statements as st
from .model import Obj, Problem
from .state import State


def extension(s: State, e: TocEntry) -> list[Problem]:
    """One CREATE EXTENSION IF NOT EXISTS (what pg_dump writes)."""
    f = s.facts
    parsed = st.extension_create(e.defn or "")
    name, schema = parsed if parsed else (e.tag, None)
    have = f.installed_extensions.get(name)
    if have is not None:
        s.extensions[name] = Obj(True, have.owner, have.acts_as_owner)
        return []
    avail = f.available_extensions.get(name)
    if avail is None or avail.default is None:
        return [Problem("extension_unavailable", f'extension "{name}" is not available on '
                        "the server")]
    version = avail.default
    for req in version.requires:
        if req not in f.installed_extensions and req not in s.extensions:
            return [Problem("extension_requires", f'extension "{name}" requires extension '
                            f'"{req}", which the target will not have')]
    if schema and schema not in f.schemas and schema not in s.schemas:
        return [Problem("schema_missing", f'schema "{schema}" does not exist')]
    if version.superuser and not f.superuser:
        if not version.trusted:
            return [Problem("extension_superuser", f'extension "{name}" is not trusted: '
                            "only a superuser may create it")]
        if not f.create_on_database:
            return [Problem("extension_privilege", f'extension "{name}" is trusted but needs '
                            f'CREATE on database "{f.database}"')]
    s.extensions[name] = Obj(True, f.current_user, True)
    if name.startswith("pl"):
        s.languages[name] = version.trusted or not version.superuser
    return []
