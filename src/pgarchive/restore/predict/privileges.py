"""What only some roles may do: superuser-only objects, publications and subscriptions
(publicationcmds.c, subscriptioncmds.c), foreign servers and user mappings
(foreigncmds.c), creating a database, comments and security labels on objects of other
roles (comment.c, seclabel.c), and everything that acts on a table or sequence, which
needs its owner's privileges (indexes, constraints, triggers, policies, data...)."""

from __future__ import annotations

from ...format.model import TocEntry
from .. import statements as st
from .kinds import RELATIONS, SUPERUSER_ONLY
from .model import Problem, label
from .state import State


def superuser_only(s: State, e: TocEntry) -> list[Problem]:
    """Entry types only a superuser may create."""
    if s.facts.superuser:
        return []
    cause, what = SUPERUSER_ONLY[e.desc]
    return [Problem(cause, f"only a superuser may {what}")]


def publication(s: State, e: TocEntry) -> list[Problem]:
    """CREATE PUBLICATION: CREATE on the database; FOR ALL TABLES a superuser."""
    f = s.facts
    if "FOR ALL TABLES" in (e.defn or "") and not f.superuser:
        return [Problem("publication_all_tables", "only a superuser may create a FOR ALL "
                        "TABLES publication")]
    if not (f.superuser or f.create_on_database):
        return [Problem("publication_privilege", f'no CREATE privilege on database '
                        f'"{f.database}"')]
    return []


def subscription(s: State, e: TocEntry) -> list[Problem]:
    """CREATE SUBSCRIPTION: a superuser, or from 16 pg_create_subscription with CREATE on
    the database, password_required and a password in the connection string."""
    f = s.facts
    if f.superuser:
        return []
    defn = e.defn or ""
    if f.major < 16 or not f.create_subscription:
        need = ("a superuser" if f.major < 16 else
                'a superuser or a member of "pg_create_subscription"')
        return [Problem("subscription_privilege", f"only {need} may create subscriptions")]
    if not f.create_on_database:
        return [Problem("subscription_privilege", "no CREATE privilege on database "
                        f'"{f.database}"')]
    opts = st.subscription_options(defn)
    if opts.get("password_required", "true").lower() in ("false", "off", "0"):
        return [Problem("subscription_password", "only a superuser may create a "
                        "subscription with password_required = false")]
    conninfo = st.subscription_conninfo(defn)
    if conninfo is not None and not st.conninfo_has_password(conninfo):
        return [Problem("subscription_password", "the connection string has no password, "
                        "which non-superusers must give")]
    return []


def server(s: State, e: TocEntry) -> list[Problem]:
    """CREATE SERVER: the wrapper must exist, with USAGE on it."""
    f = s.facts
    fdw = st.server_wrapper(e.defn or "")
    if fdw is None or f.superuser:
        return []
    have = f.fdws.get(fdw)
    if have is None:
        return [Problem("superuser_required", f'foreign-data wrapper "{fdw}" does not exist '
                        "(creating it needs a superuser)")]
    if not have.usage:
        return [Problem("create_privilege", f'no USAGE privilege on foreign-data wrapper '
                        f'"{fdw}"')]
    return []


def user_mapping(s: State, e: TocEntry) -> list[Problem]:
    """CREATE USER MAPPING: pg_dump records no dependency on the server, so it is found
    by name."""
    f = s.facts
    defn = e.defn or ""
    role = st.user_mapping_role(defn)
    if role and role not in f.roles:
        return [Problem("role_missing", f'role "{role}" does not exist')]
    name = st.user_mapping_server(defn)
    if name is None:
        return []
    made = s.servers.get(name)
    if made is not None:
        o = s.objects.get(made)
        if o is not None and not o.exists:
            return [Problem("dependency", f"needs {label(s.by_id[made])}, which fails",
                            because=o.root)]
        if o is not None and (o.acts or f.superuser):
            return []
        return [Problem("not_owner", f'server "{name}" belongs to another role')]
    have = f.servers.get(name)
    if have is None:
        return [Problem("dependency", f'server "{name}" does not exist')]
    if f.superuser or have.acts_as_owner or (role == f.current_user and have.usage):
        return []
    return [Problem("not_owner", f'server "{name}" belongs to "{have.owner}"')]


def database(s: State, e: TocEntry) -> list[Problem]:
    """CREATE DATABASE (with -C) needs CREATEDB."""
    del e
    if not (s.facts.superuser or s.facts.createdb):
        return [Problem("createdb", "the restoring role may not create databases")]
    return []


def comment(s: State, e: TocEntry) -> list[Problem]:
    """COMMENT ON / SECURITY LABEL FOR: the object's owner's privileges (and, for a
    label, its provider loaded)."""
    f = s.facts
    if e.desc == "SECURITY LABEL":
        prov = st.security_label_provider(e.defn or "")
        have = f.seclabel_providers or frozenset()
        if (prov is None and not have) or (prov is not None and prov not in have):
            what = f'"{prov}" is not loaded' if prov else "none is loaded"
            return [Problem("seclabel_provider", f"security label provider {what}")]
    target = s.object_of(e)
    if target is None:
        if e.tag.startswith("ACCESS METHOD ") and not f.superuser:
            return [Problem("superuser_required", "only a superuser may comment on an "
                            "access method")]
        return []
    obj, dep = target
    if obj.acts or f.superuser:
        return []
    cause = "extension_not_owner" if dep.desc == "EXTENSION" else "comment_not_owner"
    return [Problem(cause, f'must be owner of {dep.desc.lower()} "{dep.tag}" (owned by '
                    f'"{obj.owner}")')]


def on_table(s: State, e: TocEntry) -> list[Problem]:
    """Indexes, constraints, triggers, rules, ... need the table owner's privileges (an
    FK also needs REFERENCES on the table it points to: the owner's privileges, as its
    grants come later, in the ACL pass)."""
    return s.needs_owner_of(e, RELATIONS)


def policy(s: State, e: TocEntry) -> list[Problem]:
    """CREATE POLICY ... TO roles: the table's owner, and roles that exist."""
    out = s.needs_owner_of(e, RELATIONS)
    missing = [r for r in st.policy_roles(e.defn or "") if r not in s.facts.roles]
    if missing:
        out.append(Problem("policy_role_missing", f'role "{missing[0]}" does not exist',
                           roles=tuple(missing)))
    return out


def publication_table(s: State, e: TocEntry) -> list[Problem]:
    """ALTER PUBLICATION ... ADD TABLE: the publication's and the table's owner."""
    return s.needs_owner_of(e, ("PUBLICATION", *RELATIONS))


def sequence_set(s: State, e: TocEntry) -> list[Problem]:
    """SELECT setval(...): the sequence's owner."""
    return s.needs_owner_of(e, ("SEQUENCE",))


def identity_sequence(s: State, e: TocEntry) -> list[Problem]:
    """An identity column's sequence (ALTER TABLE ... ADD GENERATED): the table's owner."""
    return s.needs_owner_of(e, ("TABLE",))


def inherits(s: State, e: TocEntry) -> list[Problem]:
    """CREATE TABLE ... INHERITS needs the parent's owner's privileges."""
    for d in e.dependencies:
        dep = s.by_id.get(d)
        o = s.objects.get(d)
        if dep is not None and dep.desc == "TABLE" and o is not None and not o.acts \
                and not s.facts.superuser:
            return [Problem("not_owner", f'must be owner of {label(dep)} (owned by '
                            f'"{o.owner}") to create a table that inherits from it')]
    return []


def owned_by(s: State, e: TocEntry) -> list[Problem]:
    """ALTER SEQUENCE ... OWNED BY: the sequence's owner, and the same owner as the
    table's."""
    seq = tab = None
    for d in e.dependencies:
        dep = s.by_id.get(d)
        if dep is not None and dep.desc == "SEQUENCE":
            seq = s.objects.get(d)
            for d2 in dep.dependencies:
                p = s.by_id.get(d2)
                if p is not None and p.desc in RELATIONS - {"SEQUENCE"}:
                    tab = s.objects.get(d2)
    if seq is not None and not seq.acts and not s.facts.superuser:
        return [Problem("not_owner", f'the sequence belongs to "{seq.owner}"')]
    if seq is not None and tab is not None and tab.exists and seq.owner != tab.owner:
        return [Problem("not_owner", "sequence must have the same owner as the table it is "
                        f'linked to ("{seq.owner}" and "{tab.owner}")')]
    return []


def data(s: State, e: TocEntry) -> list[Problem]:
    """COPY into a table (its owner's privileges) and large objects (their owner's)."""
    if e.desc == "TABLE DATA":
        return s.needs_owner_of(e, RELATIONS)
    if e.desc == "BLOBS" and not s.facts.superuser:
        # pg_dump 17+ ties each BLOBS entry to its BLOB METADATA; older archives have one
        # BLOBS entry for every BLOB
        los = [d for d in e.dependencies if d in s.by_id and
               s.by_id[d].desc in ("BLOB", "BLOB METADATA")]
        for i in los or sorted(s.selected):
            b = s.by_id[i]
            o = s.objects.get(i)
            if b.desc in ("BLOB", "BLOB METADATA") and o is not None and not o.acts:
                return [Problem("not_owner", f'large objects belong to "{o.owner}", whose '
                                "privileges the restoring role lacks")]
    return []
