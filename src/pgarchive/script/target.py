"""``--target-version MAJOR``: adapt pg_restore 18's script to an older server.

Each rule knows the first PostgreSQL major that accepts what it rewrites (from the release
notes and pg_dump.c, which writes these clauses only for servers that have them) and
works on the statements pg_dump writes for one kind of TOC entry, whose shape is fixed by
pg_dump.c.  A rule either adapts a statement (the same object, without the clause the old
server lacks, or with an equivalent) or leaves it out; either way an SQL comment
``-- pgarchive --target-version N: ...`` says what was done, and a statement left out stays
in the script, commented out.  :data:`RULES` lists them all; tests/script/test_target.py
runs the script of an archive that uses every one of them on a real server of each major.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from . import model as m


@dataclass(frozen=True)
class Rule:
    """One adaptation: applies when the target major is below ``since``."""

    since: int
    name: str
    descs: frozenset[str]      # entry types whose statements it reads ("*": any)
    apply: Callable[[str], str | None]  # new text, or None when the rule does not apply
    note: str                  # what the SQL comment says
    whole_entry: bool = False  # when it applies to one statement, the entry is left out


def _sub(pattern: str, repl: str, flags: int = 0) -> Callable[[str], str | None]:
    rx = re.compile(pattern, flags)

    def apply(text: str) -> str | None:
        new, n = rx.subn(repl, text)
        return new if n else None

    return apply


def _leave_out(pattern: str, flags: int = 0) -> Callable[[str], str | None]:
    """Comment out the whole text when it matches."""
    rx = re.compile(pattern, flags)

    def apply(text: str) -> str | None:
        return _commented(text) if rx.search(text) else None

    return apply


def _commented(text: str) -> str:
    body = text.rstrip("\n")
    tail = text[len(body):]
    return "\n".join("-- " + line if line else "--" for line in body.split("\n")) + tail


def _statements(fn: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """Apply ``fn`` to each line-starting statement of a multi-statement text (ACLs)."""

    def apply(text: str) -> str | None:
        out, changed = [], False
        for stmt in re.split(r"(?<=;\n)", text):
            new = fn(stmt) if stmt else None
            if new is not None:
                changed = True
                out.append(new)
            else:
                out.append(stmt)
        return "".join(out) if changed else None

    return apply


def _matching_paren(text: str, at: int) -> int:
    """The index of the ``)`` closing the ``(`` at ``at`` (quotes respected), or -1."""
    depth, i, n = 0, at, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            close = text.find(ch, i + 1)
            while close != -1 and text[close + 1:close + 2] == ch:
                close = text.find(ch, close + 2)
            if close == -1:
                return -1
            i = close
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _virtual_to_stored(text: str) -> str | None:
    """``GENERATED ALWAYS AS (expr)`` without STORED is virtual (18): make it STORED."""
    out, pos, changed = [], 0, False
    key = "GENERATED ALWAYS AS ("
    while (at := text.find(key, pos)) >= 0:
        close = _matching_paren(text, at + len(key) - 1)
        if close < 0:
            break
        out.append(text[pos:close + 1])
        pos = close + 1
        if not text.startswith(" STORED", pos):
            out.append(" STORED")
            changed = True
    if not changed:
        return None
    out.append(text[pos:])
    return "".join(out)


def _no_maintain(stmt: str) -> str | None:
    """MAINTAIN (17) out of a GRANT/REVOKE privilege list; the statement left out when
    nothing else is granted."""
    mt = re.match(r"((?:ALTER DEFAULT PRIVILEGES .*?)?(?:GRANT|REVOKE) )([A-Z ,()a-z_\"]*?)"
                  r"( ON )", stmt)
    if not mt or "MAINTAIN" not in mt.group(2).split(","):
        return None
    privs = [p for p in mt.group(2).split(",") if p != "MAINTAIN"]
    if not privs:
        return _commented(stmt)
    return mt.group(1) + ",".join(privs) + stmt[mt.end(2):]


PREDEFINED_ROLES = {"pg_signal_autovacuum_worker": 18, "pg_maintain": 17,
                    "pg_create_subscription": 16, "pg_use_reserved_connections": 16,
                    "pg_checkpoint": 15}


def _unknown_role(target: int) -> Callable[[str], str | None]:
    names = [r for r, since in PREDEFINED_ROLES.items() if target < since]
    if not names:
        return lambda _s: None
    rx = re.compile(r"(?:\bTO|\bFROM) (?:" + "|".join(names) + r")\b")
    return lambda stmt: _commented(stmt) if rx.search(stmt) else None


def _subscription(target: int) -> Callable[[str], str | None]:
    """The WITH options of CREATE SUBSCRIPTION that ``target`` does not know (before 16,
    ``streaming = parallel`` too)."""
    drop = [opt for opt, since in (("failover", 17), ("origin", 16),
                                   ("password_required", 16), ("run_as_owner", 16),
                                   ("two_phase", 15), ("disable_on_error", 15))
            if target < since]

    def apply(text: str) -> str | None:
        new = text
        for opt in drop:
            new = re.sub(rf", {opt} = [^,)]*", "", new)
        if target < 16:
            # parallel is 18's default and pg_dump 18 writes it even then: the target's
            # own default (off), as the same database there would have
            new = new.replace(", streaming = parallel", "")
        return new if new != text else None

    return apply


ANY = frozenset({"*"})
_TABLES = frozenset({"TABLE"})
_CONSTRAINTS = frozenset({"CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT"})
_ACLS = frozenset({"ACL", "DEFAULT ACL"})


def rules(target: int) -> list[Rule]:
    """Every rule that applies to a server of major ``target`` (14 to 18)."""
    every = [
        Rule(17, "transaction_timeout",
             frozenset({"<preamble>", "DATABASE", "DATABASE PROPERTIES"}),
             _sub(r"SET transaction_timeout = 0;\n", ""),
             "left out SET transaction_timeout (PostgreSQL 17+)"),
        Rule(18, "statistics", frozenset({"STATISTICS DATA"}), _leave_out(r"."),
             "left out statistics: pg_restore_relation_stats and "
             "pg_restore_attribute_stats are PostgreSQL 18+", whole_entry=True),
        Rule(18, "virtual generated columns", _TABLES, _virtual_to_stored,
             "virtual generated columns (PostgreSQL 18+) made STORED"),
        Rule(18, "NOT NULL NOT VALID", _CONSTRAINTS,
             _sub(r"ADD CONSTRAINT (\S+) NOT NULL (\S+) NOT VALID",
                  r"ADD CONSTRAINT \1 CHECK (\2 IS NOT NULL) NOT VALID"),
             "NOT NULL ... NOT VALID (PostgreSQL 18+) written as an equivalent CHECK "
             "constraint"),
        Rule(18, "NOT ENFORCED constraints", _CONSTRAINTS, _leave_out(r"\) NOT ENFORCED;"),
             "left out a NOT ENFORCED constraint (PostgreSQL 18+; it checks nothing)",
             whole_entry=True),
        Rule(18, "temporal constraints", _CONSTRAINTS | frozenset({"INDEX"}),
             _leave_out(r" WITHOUT OVERLAPS\)|\bPERIOD "),
             "left out a WITHOUT OVERLAPS / PERIOD constraint (PostgreSQL 18+)", whole_entry=True),
        Rule(18, "publish_generated_columns", frozenset({"PUBLICATION"}),
             _sub(r", publish_generated_columns = \w+", ""),
             "left out publish_generated_columns (PostgreSQL 18+)"),
        Rule(18, "default privileges on large objects", frozenset({"DEFAULT ACL"}),
             _statements(lambda s: _commented(s) if " ON LARGE OBJECTS " in s else None),
             "left out default privileges on large objects (PostgreSQL 18+)"),
        Rule(17, "MAINTAIN privilege", _ACLS, _statements(_no_maintain),
             "left out the MAINTAIN privilege (PostgreSQL 17+)"),
        Rule(17, "login event triggers", frozenset({"EVENT TRIGGER"}),
             _leave_out(r"^CREATE EVENT TRIGGER \S+ ON login\b"),
             "left out an event trigger on login (PostgreSQL 17+)", whole_entry=True),
        Rule(17, "partitioned table access method", _TABLES,
             _sub(r"(?m)^(ALTER TABLE \S+ SET ACCESS METHOD \S+;)$", r"-- \1"),
             "left out the access method of a partitioned table (PostgreSQL 17+)"),
        Rule(17, "builtin collation provider", frozenset({"COLLATION"}),
             _sub(r"provider = builtin, locale = '(C|C\.UTF-8|PG_C_UTF8|PG_UNICODE_FAST)'",
                  "provider = libc, locale = 'C'"),
             "the builtin collation provider (PostgreSQL 17+) replaced by libc's C locale"),
        Rule(17, "builtin database locale", frozenset({"DATABASE"}),
             _sub(r"LOCALE_PROVIDER = builtin( LOCALE = '[^']*')? BUILTIN_LOCALE = '[^']*'",
                  "LOCALE_PROVIDER = libc LOCALE = 'C'"),
             "the builtin locale provider (PostgreSQL 17+) replaced by libc's C locale"),
        Rule(15, "database locale provider", frozenset({"DATABASE"}),
             _sub(r" LOCALE_PROVIDER = libc", ""),
             "left out LOCALE_PROVIDER (PostgreSQL 15+; libc is the only one before)"),
        Rule(15, "NULLS NOT DISTINCT", _CONSTRAINTS | frozenset({"INDEX"}),
             _sub(r" NULLS NOT DISTINCT", ""),
             "left out NULLS NOT DISTINCT (PostgreSQL 15+): NULLs are distinct again"),
        Rule(15, "security_invoker views", frozenset({"VIEW"}),
             _sub(r" WITH \(security_invoker='[^']*'\)|(?<=\()security_invoker='[^']*', ?"
                  r"|, ?security_invoker='[^']*'", ""),
             "left out security_invoker (PostgreSQL 15+): the view runs with its owner's "
             "privileges"),
        Rule(15, "unlogged sequences", frozenset({"SEQUENCE"}),
             _sub(r"^CREATE UNLOGGED SEQUENCE ", "CREATE SEQUENCE "),
             "unlogged sequence (PostgreSQL 15+) made logged"),
        Rule(15, "schema publications", frozenset({"PUBLICATION TABLES IN SCHEMA"}),
             _leave_out(r"."), "left out FOR TABLES IN SCHEMA (PostgreSQL 15+)",
             whole_entry=True),
        Rule(15, "publication column lists and row filters", frozenset({"PUBLICATION TABLE"}),
             _pub_table, "left out the column list and row filter of a published table "
             "(PostgreSQL 15+): all of it is published"),
    ]
    out = [r for r in every if target < r.since]
    out.append(Rule(99, "subscription options", frozenset({"SUBSCRIPTION"}),
                    _subscription(target),
                    f"left out the subscription options PostgreSQL {target} lacks"))
    out.append(Rule(99, "predefined roles", _ACLS, _statements(_unknown_role(target)),
                    f"left out a grant to a predefined role PostgreSQL {target} lacks"))
    return out


def _pub_table(text: str) -> str | None:
    mt = re.match(r"(ALTER PUBLICATION \S+ ADD TABLE ONLY \S+)", text)
    if not mt:
        return None
    rest = text[mt.end():]
    if not rest.startswith(" (") and not rest.startswith(" WHERE ("):
        return None
    return mt.group(1) + ";\n" + text[len(text.rstrip("\n")):]


def adapt(steps: Iterable[m.Step], target: int, encoding: str,
          warn: Callable[[str], None] | None = None) -> Iterator[m.Step]:
    """The steps, each statement adapted by the rules for ``target``."""
    del encoding, warn
    adapter = Adapter(target)
    for step in steps:
        yield adapter(step)


class Adapter:
    """The rules for ``target``, applied to one Step at a time (in restore order: a
    comment on an event trigger left out is left out too)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.by_desc: dict[str, list[Rule]] = {}
        for r in rules(target):
            for d in r.descs:
                self.by_desc.setdefault(d, []).append(r)
        self.gone_triggers: set[str] = set()

    def __call__(self, step: m.Step) -> m.Step:
        """The step with its statements adapted (the same object, changed in place)."""
        target = self.target
        e = step.entry
        desc = "<preamble>" if e is None else e.desc
        todo = self.by_desc.get(desc, [])
        if e is not None and e.desc in ("COMMENT", "SECURITY LABEL") and \
                e.tag.startswith("EVENT TRIGGER ") and e.tag[14:] in self.gone_triggers:
            todo = [Rule(0, "", ANY, _leave_out(r"."),
                         "left out: it names an event trigger left out above")]
        if not todo:
            return step
        mark = f"-- pgarchive --target-version {target}: "
        whole = next((r for r in todo if r.whole_entry and any(
            k == m.SQL and r.apply(t) is not None for k, t in step.parts)), None)
        parts: list[m.Part] = []
        if whole is not None:
            if whole.name == "login event triggers" and e is not None:
                self.gone_triggers.add(e.tag)
            noted = False
            for kind, text in step.parts:
                if kind == m.SQL:
                    if not noted:
                        parts.append((m.COMMENT, f"{mark}{whole.note}\n"))
                        noted = True
                    text = _commented(text)
                parts.append((kind, text))
            step.parts = parts
            return step
        for kind, text in step.parts:
            if kind in (m.SQL, m.SESSION):
                for r in todo:
                    new = r.apply(text)
                    if new is not None and new != text:
                        text = new
                        parts.append((m.COMMENT, f"{mark}{r.note}\n"))
            parts.append((kind, text))
        step.parts = parts
        return step
