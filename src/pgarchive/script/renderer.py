"""The restore pg_restore 18 performs, entry by entry, as typed Steps.

This follows ``RestoreArchive``, ``restore_toc_entry`` and ``_printTocEntry`` of
PostgreSQL 18's ``pg_backup_archiver.c`` in script mode (``pg_restore -f``): the fixed
settings, the DROP pass of ``--clean`` (reversed TOC order), the main pass, the ACL pass
and the post-ACL pass; and the session state pg_restore tracks so as to write each
``SET SESSION AUTHORIZATION``, ``search_path``, ``default_tablespace`` and
``default_table_access_method`` only when it changes.  Pure: entries and decisions in,
Steps out; the data itself is left to the consumer (:mod:`pgarchive.script.writer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Final

from ..errors import UsageError
from ..format.constants import K_VERS_1_12, Section
from ..format.model import Header, TocEntry
from ..selection import Bits, Decision, Req
from . import model as m
from .clean import if_exists_statement
from .options import ScriptOptions
from .quoting import fmt_id, fmt_qualified_id, psql_connect, sanitize_line, string_literal

INV_WRITE = 0x20000
# Req as plain ints (IntFlag arithmetic is slow on a 100,000-entry TOC); Final, so that
# compiled code reads them as constants, not from the module's dictionary each time
_SCHEMA: Final = int(Req.SCHEMA)
_DATA: Final = int(Req.DATA)
_STATS: Final = int(Req.STATS)
_SCHEMA_OR_DATA: Final = _SCHEMA | _DATA
_ANY: Final = _SCHEMA | _DATA | _STATS
PASS_MAIN: Final = 0
PASS_ACL: Final = 1
PASS_POST_ACL: Final = 2
ACL_DESCS: Final = frozenset({"ACL", "ACL LANGUAGE", "DEFAULT ACL"})

# _getObjectDescription(): how ALTER ... OWNER TO names an object of each type.
_PLAIN_OWNED: Final = frozenset({
    "COLLATION", "CONVERSION", "DOMAIN", "FOREIGN TABLE", "MATERIALIZED VIEW", "SEQUENCE",
    "STATISTICS", "TABLE", "TEXT SEARCH DICTIONARY", "TEXT SEARCH CONFIGURATION", "TYPE",
    "VIEW", "DATABASE", "PROCEDURAL LANGUAGE", "SCHEMA", "EVENT TRIGGER",
    "FOREIGN DATA WRAPPER", "SERVER", "PUBLICATION", "SUBSCRIPTION"})
_FROM_DROP: Final = frozenset({"AGGREGATE", "FUNCTION", "OPERATOR", "OPERATOR CLASS",
                        "OPERATOR FAMILY", "PROCEDURE"})
#: What pg_restore runs ALTER ... OWNER TO for (when the entry has an owner and a DROP).
OWNED = _PLAIN_OWNED | _FROM_DROP | {"BLOB", "BLOB METADATA"}
_UNOWNED: Final = frozenset({"CAST", "CHECK CONSTRAINT", "CONSTRAINT", "DATABASE PROPERTIES",
                      "DEFAULT", "FK CONSTRAINT", "INDEX", "RULE", "TRIGGER", "ROW SECURITY",
                      "POLICY", "USER MAPPING"})

# Canonical PostgreSQL encoding names (pg_encoding_to_char) by their "clean" spelling
# (lower case, letters and digits only), with the aliases of encnames.c.
_CANONICAL = ["SQL_ASCII", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004", "UTF8",
              "MULE_INTERNAL", "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6",
              "LATIN7", "LATIN8", "LATIN9", "LATIN10", "WIN1256", "WIN1258", "WIN866",
              "WIN874", "KOI8R", "WIN1251", "WIN1252", "ISO_8859_5", "ISO_8859_6",
              "ISO_8859_7", "ISO_8859_8", "WIN1250", "WIN1253", "WIN1254", "WIN1255",
              "WIN1257", "KOI8U", "SJIS", "BIG5", "GBK", "UHC", "GB18030", "JOHAB",
              "SHIFT_JIS_2004"]
_ALIASES = {"unicode": "UTF8", "alt": "WIN866", "koi8": "KOI8R", "tcvn": "WIN1258",
            "tcvn5712": "WIN1258", "vscii": "WIN1258", "mskanji": "SJIS", "shiftjis": "SJIS",
            "abc": "WIN1258", "iso88591": "LATIN1", "iso88592": "LATIN2",
            "iso88593": "LATIN3", "iso88594": "LATIN4", "iso88599": "LATIN5",
            "iso885910": "LATIN6", "iso885913": "LATIN7", "iso885914": "LATIN8",
            "iso885915": "LATIN9", "iso885916": "LATIN10", "iso88595": "ISO_8859_5",
            "iso88596": "ISO_8859_6", "iso88597": "ISO_8859_7", "iso88598": "ISO_8859_8",
            "win": "WIN1251", "wansung": "EUC_KR", "windows1250": "WIN1250",
            "windows1251": "WIN1251", "windows1252": "WIN1252", "windows1253": "WIN1253",
            "windows1254": "WIN1254", "windows1255": "WIN1255", "windows1256": "WIN1256",
            "windows1257": "WIN1257", "windows1258": "WIN1258", "windows866": "WIN866",
            "windows874": "WIN874", "windows932": "SJIS", "windows936": "GBK",
            "windows949": "UHC", "windows950": "BIG5", "cp932": "SJIS", "cp936": "GBK",
            "cp949": "UHC", "cp950": "BIG5", "cp1250": "WIN1250", "cp1251": "WIN1251",
            "cp1252": "WIN1252", "cp1253": "WIN1253", "cp1254": "WIN1254",
            "cp1255": "WIN1255", "cp1256": "WIN1256", "cp1257": "WIN1257",
            "cp1258": "WIN1258", "cp866": "WIN866", "cp874": "WIN874", "koi8r": "KOI8R",
            "koi8u": "KOI8U", "mule": "MULE_INTERNAL"}
_BY_CLEAN = {"".join(c for c in n.lower() if c.isalnum()): n for n in _CANONICAL}
_BY_CLEAN.update(_ALIASES)


def encoding_of(defn: str) -> str:
    """processEncodingEntry(): the canonical encoding named in ``SET client_encoding =
    'x';``, refused as pg_restore refuses it."""
    first = defn.find("'")
    second = defn.find("'", first + 1) if first >= 0 else -1
    if second < 0:
        raise UsageError(f"invalid ENCODING item: {defn}")
    name = defn[first + 1:second]
    clean = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
    found = _BY_CLEAN.get(clean)
    if found is None:
        raise UsageError(f'unrecognized encoding "{name}"')
    return found


def std_strings_of(defn: str) -> bool:
    """processStdStringsEntry(): ``'on'`` or ``'off'`` after the first quote."""
    at = defn.find("'")
    if at >= 0 and defn.startswith("'on'", at):
        return True
    if at >= 0 and defn.startswith("'off'", at):
        return False
    raise UsageError(f"invalid STDSTRINGS item: {defn}")


def _int(flags: int) -> int:
    """Req bits as a plain int: compiled, an unboxing (``int()`` is a call)."""
    return flags


def restore_pass(e: TocEntry) -> int:
    """_tocEntryRestorePass(): ACLs after everything else, then event triggers, matview
    data and the statistics that may depend on it."""
    desc = e.desc
    if desc in ACL_DESCS:
        return PASS_ACL
    if desc in ("EVENT TRIGGER", "MATERIALIZED VIEW DATA"):
        return PASS_POST_ACL
    if desc in ("COMMENT", "SECURITY LABEL") and e.tag.startswith("EVENT TRIGGER "):
        return PASS_POST_ACL
    if desc == "STATISTICS DATA" and e.section == Section.POST_DATA:
        return PASS_POST_ACL
    return PASS_MAIN


class _Name:
    """A namespace's or owner's forms in the script: its comment text (sanitize_line's,
    ``-`` for none) and its identifier (fmt_id's)."""

    def __init__(self, name: str | None, line: str, ident: str) -> None:
        self.name = name
        self.line = line
        self.ident = ident


class Renderer:
    """Turns an archive's selected entries into pg_restore's Steps.

    ``warn`` receives the warnings pg_restore prints on stderr (an ``--if-exists``
    statement it could not rewrite, a WARNING entry of the dump).
    """

    def __init__(self, header: Header, decisions: Sequence[Decision] | Bits,
                 opts: ScriptOptions, *, create: bool = False, dump_schema: bool = True,
                 warn: Callable[[str], None] | None = None, comments: bool = True) -> None:
        self.header = header
        #: the "-- Name: ...; Type: ..." comment before each entry (a consumer that sends
        #: statements to a server, which gets no comments, is spared building them)
        self.comments = comments
        self.create = create
        self.decisions = decisions
        #: the entries in restore order and their Req bits, as plain lists (the loops over
        #: 100,000 entries read them, not a Decision each)
        self.entries: list[TocEntry]
        self.bits: list[int]
        if isinstance(decisions, Bits):
            self.entries = list(decisions.entries)
            self.bits = decisions.reqs
        else:
            self.entries = [d.entry for d in decisions]
            self.bits = [_int(d.reqs) for d in decisions]
        self.opts = opts
        self.warn = warn or (lambda _msg: None)
        #: entries by dump id, made when a LARGE OBJECTS ACL first needs it (for most
        #: archives never: 100,000 entries cost 5 MB here)
        self._by_id: dict[int, TocEntry] | None = None
        self.encoding = "SQL_ASCII"
        self.std_strings = False
        self.searchpath: str | None = None
        for e in self.entries:  # ReadToc's processing of the special entries
            if e.desc == "ENCODING":
                self.encoding = encoding_of(e.defn or "")
            elif e.desc == "STDSTRINGS":
                self.std_strings = std_strings_of(e.defn or "")
            elif e.desc == "SEARCHPATH":
                self.searchpath = e.defn
        # "implied no-schema restore": nothing selected has a schema part
        self.dump_schema = dump_schema and any(b & _SCHEMA for b in self.bits)
        self.key = opts.restrict_key or ""
        # the switches every entry asks about, as the renderer's own fields (compiled: a
        # field read, where the frozen options cost a dictionary lookup each time)
        self.no_owner = opts.no_owner
        self.set_session_auth = opts.use_set_session_authorization
        self.no_tablespaces = opts.no_tablespaces
        self.no_tableam = opts.no_table_access_method
        self.txn_size = opts.transaction_size
        self.txn_count = 0
        self.curr_user: str | None = None
        self.curr_schema: str | None = None
        self.curr_tablespace: str | None = None
        self.curr_tableam: str | None = None
        self.old_lo_style = header.version < K_VERS_1_12
        #: the last two names _names made (a namespace and an owner take turns)
        self._memo = _Name(None, "-", "")
        self._memo2 = _Name(None, "-", "")

    # -- the whole restore -------------------------------------------------------------

    def steps(self) -> Iterator[m.Step]:
        """Every Step of the script, in pg_restore's order."""
        yield self.preamble()
        if self.opts.clean:
            yield from self.drops()
        entries, bits = self.entries, self.bits
        later: list[list[int]] = [[], []]  # (positions)
        for i, e in enumerate(entries):
            reqs = bits[i]
            if not reqs & _ANY:
                continue
            which = restore_pass(e)
            if which == PASS_MAIN:
                for phase in range(4):  # (what entry() does, without a generator each)
                    step = self._phase(e, reqs, phase)
                    if step is not None:
                        yield step
            else:
                later[which - 1].append(i)
        for group in later:
            for i in group:
                for phase in range(4):
                    step = self._phase(entries[i], bits[i], phase)
                    if step is not None:
                        yield step
        yield self.epilogue()

    # -- the pieces of the restore, for a consumer that orders entries itself ------------
    # (a native engine restoring in parallel: pg_restore's RestoreArchive, one entry at a
    # time, on connections of its own; see pgarchive.restore.engine)

    def preamble(self) -> m.Step:
        """The start: header comments, -1's BEGIN and the fixed settings."""
        o = self.opts
        head = m.Step(None, m.PREAMBLE)
        p = head.parts
        p.append((m.COMMENT, "--\n-- PostgreSQL database dump\n--\n\n"))
        p.append((m.META, f"\\restrict {self.key}\n\n"))
        if self.header.server_version is not None:
            p.append((m.COMMENT, f"-- Dumped from database version "
                                 f"{self.header.server_version}\n"))
        if self.header.dump_version is not None:
            p.append((m.COMMENT, f"-- Dumped by pg_dump version {self.header.dump_version}\n"))
        p.append((m.COMMENT, "\n"))
        if o.single_transaction:
            p.append((m.TRANSACTION, "BEGIN;\n\n"))
        self._fixed_state(p)
        return head

    def drops(self) -> Iterator[m.Step]:
        """--clean's DROP pass, in reverse TOC order."""
        return self._drops()

    def entry(self, d: Decision) -> Iterator[m.Step]:
        """restore_toc_entry() for one entry: its schema, data and statistics Steps (and,
        with --transaction-size, the commit that may follow), each rendered when asked
        for: a consumer may change the session state between them."""
        e, reqs = d.entry, int(d.reqs)
        for phase in range(4):
            step = self._phase(e, reqs, phase)
            if step is not None:
                yield step

    def epilogue(self) -> m.Step:
        """The end: -1's or --transaction-size's COMMIT, and the closing comments."""
        tail = m.Step(None, m.EPILOGUE)
        if self.opts.single_transaction or self.txn_size > 0:
            tail.parts.append((m.TRANSACTION, "COMMIT;\n\n"))
        tail.parts.append((m.COMMENT, "--\n-- PostgreSQL database dump complete\n--\n\n"))
        tail.parts.append((m.META, f"\\unrestrict {self.key}\n\n"))
        return tail

    def fixed_state(self) -> list[m.Part]:
        """_doSetFixedOutputState(): the settings of a new connection (a parallel worker's,
        or one made again after a lost one); the session state is forgotten."""
        self.forget_session()
        p: list[m.Part] = []
        self._fixed_state(p)
        return p

    def forget_session(self) -> None:
        """Forget the session state (owner, search_path, tablespace, access method), so
        the next entry sets what it needs: after a new connection, or after a rolled-back
        transaction undid SET commands."""
        self.curr_user = self.curr_schema = self.curr_tableam = self.curr_tablespace = None

    def session(self) -> tuple[str | None, str | None, str | None, str | None]:
        """The session state the next step will assume (owner, schema, tablespace,
        access method; None: unknown)."""
        return (self.curr_user, self.curr_schema, self.curr_tablespace, self.curr_tableam)

    def restore_session(self, saved: tuple[str | None, str | None, str | None, str | None]
                        ) -> list[m.Part]:
        """The SET commands that bring a new connection (after :meth:`fixed_state`) to a
        saved session state, so that a step rendered for it can run there."""
        self.forget_session()
        user, schema, tablespace, tableam = saved
        p: list[m.Part] = []
        if user is not None:
            self._become_user(p, user)
        if schema is not None:
            self._select_schema(p, schema)
        if tablespace is not None:
            self._select_tablespace(p, tablespace)
        if tableam is not None:
            self._select_tableam(p, tableam)
        return p

    def worker(self) -> Renderer:
        """A renderer for a parallel worker's connection (CloneArchive): the same entries
        and options, a session state of its own, and no --transaction-size (a worker
        commits every statement, so that the other workers see its objects)."""
        # (a new one, not copy.copy: compiled with mypyc, the class has no __reduce__)
        clone = Renderer(self.header, self.decisions, self.opts, create=self.create,
                         dump_schema=self.dump_schema, warn=self.warn,
                         comments=self.comments)
        clone.txn_size = 0
        clone.txn_count = 0
        clone.forget_session()
        return clone

    def _fixed_state(self, p: list[m.Part]) -> None:
        """_doSetFixedOutputState(): one part per command, as pg_restore sends each one on
        its own to a server."""
        o = self.opts
        for text in ("SET statement_timeout = 0;\n",
                     "SET lock_timeout = 0;\n",
                     "SET idle_in_transaction_session_timeout = 0;\n",
                     "SET transaction_timeout = 0;\n",
                     f"SET client_encoding = '{self.encoding}';\n",
                     f"SET standard_conforming_strings = "
                     f"{'on' if self.std_strings else 'off'};\n"):
            p.append((m.SESSION, text))
        if o.role:
            p.append((m.SESSION, f"SET ROLE {fmt_id(o.role, self.encoding)};\n"))
        if self.searchpath is not None:
            p.append((m.SESSION, self.searchpath))
        p.append((m.SESSION, "SET check_function_bodies = false;\n"))
        p.append((m.SESSION, "SET xmloption = content;\n"))
        p.append((m.SESSION, "SET client_min_messages = warning;\n"))
        if not self.std_strings:
            p.append((m.SESSION, "SET escape_string_warning = off;\n"))
        p.append((m.SESSION, f"SET row_security = {'on' if o.enable_row_security else 'off'};\n"))
        if self.txn_size > 0:
            p.append((m.TRANSACTION, "\nBEGIN;\n"))
            self.txn_count = 0
        p.append((m.COMMENT, "\n"))

    # -- session state -----------------------------------------------------------------

    def _become_user(self, p: list[m.Part], user: str | None) -> None:
        user = user or ""
        if self.curr_user is not None and self.curr_user == user:
            return
        if user:
            p.append((m.SESSION, "SET SESSION AUTHORIZATION "
                      f"{string_literal(user, self.encoding, self.std_strings)};\n\n"))
        else:
            p.append((m.SESSION, "SET SESSION AUTHORIZATION DEFAULT;\n\n"))
        self.curr_user = user

    def _become_owner(self, p: list[m.Part], e: TocEntry) -> None:
        if self.no_owner or not self.set_session_auth:
            return
        self._become_user(p, e.owner)

    def _select_schema(self, p: list[m.Part], schema: str | None) -> None:
        if self.searchpath is not None:
            return
        if not schema or self.curr_schema == schema:
            return
        text = f"SET search_path = {fmt_id(schema, self.encoding)}"
        if schema != "pg_catalog":
            text += ", pg_catalog"
        p.append((m.SESSION, text + ";\n\n"))
        self.curr_schema = schema

    def _select_tablespace(self, p: list[m.Part], tablespace: str | None) -> None:
        if self.no_tablespaces or tablespace is None:
            return
        if self.curr_tablespace is not None and self.curr_tablespace == tablespace:
            return
        if tablespace == "":
            p.append((m.SESSION, "SET default_tablespace = '';\n\n"))
        else:
            p.append((m.SESSION, "SET default_tablespace = "
                                 f"{fmt_id(tablespace, self.encoding)};\n\n"))
        self.curr_tablespace = tablespace

    def _select_tableam(self, p: list[m.Part], tableam: str | None) -> None:
        if self.no_tableam or tableam is None:
            return
        if self.curr_tableam is not None and self.curr_tableam == tableam:
            return
        p.append((m.SESSION, "SET default_table_access_method = "
                             f"{fmt_id(tableam, self.encoding)};\n\n"))
        self.curr_tableam = tableam

    def _count_action(self, p: list[m.Part], text: str = "COMMIT;\nBEGIN;\n\n") -> None:
        """One more action against --transaction-size: commit when it is time to."""
        self.txn_count += 1
        if self.txn_count >= self.txn_size:
            p.append((m.TRANSACTION, text))
            self.txn_count = 0

    # -- the DROP pass -----------------------------------------------------------------

    def _drops(self) -> Iterator[m.Step]:
        o = self.opts
        for i in range(len(self.entries) - 1, -1, -1):
            e = self.entries[i]
            is_db = e.desc in ("DATABASE", "DATABASE PROPERTIES")
            if self.create and not is_db:
                continue
            if not self.bits[i] & _SCHEMA_OR_DATA or e.drop_stmt is None:
                continue
            step = m.Step(e, m.DROP)
            p = step.parts
            if self.txn_size > 0 and is_db:
                p.append((m.TRANSACTION, "COMMIT;\n"))
            self._become_owner(p, e)
            self._select_schema(p, e.namespace)
            drop = e.drop_stmt
            if e.desc == "BLOB METADATA":
                if o.if_exists:
                    self._per_blob(p, e, "SELECT pg_catalog.lo_unlink(oid) FROM "
                                  "pg_catalog.pg_largeobject_metadata WHERE oid = '", "'")
                else:
                    self._per_blob(p, e, "SELECT pg_catalog.lo_unlink('", "')")
            elif drop:
                if not o.if_exists or drop.startswith("--"):
                    p.append((m.SQL, drop))
                elif e.desc == "BLOB":
                    p.append((m.SQL, "SELECT pg_catalog.lo_unlink(oid) FROM "
                                     "pg_catalog.pg_largeobject_metadata WHERE oid = "
                                     f"'{e.oid}';\n"))
                else:
                    text, problem = if_exists_statement(e.desc, drop)
                    if problem:
                        self.warn(problem)
                    p.append((m.SQL, text))
            if self.txn_size > 0:
                if is_db:
                    p.append((m.TRANSACTION, "BEGIN;\n"))
                    self.txn_count = 0
                else:
                    self._count_action(p, "COMMIT;\nBEGIN;\n")
            yield step
        self.curr_schema = None

    # -- one entry ---------------------------------------------------------------------

    def _phase(self, e: TocEntry, reqs: int, phase: int) -> m.Step | None:
        """restore_toc_entry() of an entry with these Req bits, one phase at a time: 0 the
        definition, 1 the data, 2 the statistics, 3 --transaction-size's commit (None:
        nothing in that phase)."""
        if phase == 0:
            if e.desc == "WARNING" and (e.defn or e.copy_stmt):
                self.warn(f"warning from original dump file: "
                          f"{e.defn if self.dump_schema and e.defn else e.copy_stmt}")
            if not reqs & _SCHEMA:
                return None
            step = m.Step(e, m.SCHEMA)
            p = step.parts
            is_db = e.desc in ("DATABASE", "DATABASE PROPERTIES")
            if is_db and self.txn_size > 0:
                p.append((m.TRANSACTION, "COMMIT;\n\n"))
            self._print_entry(p, e, "")
            if is_db:
                self._reconnect(p, e.tag)
            return step
        if phase == 1:
            if not reqs & _DATA:
                return None
            if e.had_dumper:
                return self._data(e)
            if reqs & _SCHEMA:  # the definition, printed already
                return None
            step = m.Step(e, m.DATA_PHASE)
            self._print_entry(step.parts, e, "")
            return step
        if phase == 2:
            if not reqs & _STATS:
                return None
            step = m.Step(e, m.STATS)
            self._print_entry(step.parts, e, "Statistics for ")
            return step
        if self.txn_size > 0 and reqs & _ANY:
            step = m.Step(e, m.EPILOGUE)
            self._count_action(step.parts)
            if step.parts:
                return step
        return None

    def _data(self, e: TocEntry) -> m.Step:
        step = m.Step(e, m.DATA_PHASE)
        p = step.parts
        self._print_entry(p, e, "Data for ")
        if e.desc in ("BLOBS", "BLOB COMMENTS"):
            self._select_schema(p, "pg_catalog")
            if not e.has_data:
                return step
            if e.desc == "BLOB COMMENTS":
                p.append((m.DATA, ""))
                return step
            in_txn = self.opts.single_transaction or self.txn_size > 0
            if not in_txn:
                p.append((m.TRANSACTION, "BEGIN;\n\n"))
            p.append((m.LARGE_OBJECTS, ""))
            if not in_txn:
                p.append((m.TRANSACTION, "COMMIT;\n\n"))
            return step
        triggers = not self.dump_schema and self.opts.disable_triggers
        if triggers:
            self._become_user(p, self.opts.superuser)
            p.append((m.SQL, f"ALTER TABLE {fmt_qualified_id(e.namespace, e.tag, self.encoding)}"
                             " DISABLE TRIGGER ALL;\n\n"))
        self._become_owner(p, e)
        self._select_schema(p, e.namespace)
        if e.copy_stmt:
            p.append((m.COPY, e.copy_stmt))
        if e.has_data:
            p.append((m.DATA, ""))
        if triggers:
            self._become_user(p, self.opts.superuser)
            p.append((m.SQL, f"ALTER TABLE {fmt_qualified_id(e.namespace, e.tag, self.encoding)}"
                             " ENABLE TRIGGER ALL;\n\n"))
        return step

    def _reconnect(self, p: list[m.Part], dbname: str) -> None:
        """_reconnectToDB() in script mode: leave restricted mode for \\connect."""
        p.append((m.META, f"\\unrestrict {self.key}\n"))
        p.append((m.CONNECT, psql_connect(dbname)))
        p.append((m.META, f"\\restrict {self.key}\n\n"))
        self.forget_session()
        self._fixed_state(p)

    def _print_entry(self, p: list[m.Part], e: TocEntry, pfx: str) -> None:
        """_printTocEntry()."""
        self._become_owner(p, e)
        self._select_schema(p, e.namespace)
        self._select_tablespace(p, e.tablespace)
        partitioned = e.relkind == 0x70  # 'p'
        if not partitioned:
            self._select_tableam(p, e.tableam)
        if self.comments:
            ts = (f"; Tablespace: {sanitize_line(e.tablespace, False)}"
                  if e.tablespace and not self.no_tablespaces else "")
            p.append((m.COMMENT,
                      f"--\n-- {pfx}Name: {sanitize_line(e.tag, False)}; Type: {e.desc}; "
                      f"Schema: {self._names(e.namespace).line}; "
                      f"Owner: {self._names(None if self.no_owner else e.owner).line}"
                      f"{ts}\n--\n\n"))
        desc = e.desc
        defn = e.defn or ""
        if self.no_owner and desc == "SCHEMA" and not defn.startswith("--"):
            p.append((m.SQL, f"CREATE SCHEMA {fmt_id(e.tag, self.encoding)};\n\n\n"))
        elif desc == "BLOB METADATA":
            self._per_blob(p, e, "SELECT pg_catalog.lo_create('", "')")
        elif desc == "ACL" and e.tag.startswith("LARGE OBJECTS"):
            self._acl_per_blob(p, e)
        elif defn:
            p.append((m.SQL, defn + "\n\n"))
            if self.txn_size > 0 and desc not in ("FUNCTION", "PROCEDURE"):
                semis = defn.count(";")
                if semis > 1:
                    self.txn_count += semis - 1
        owner = e.owner
        if (not self.no_owner and owner and e.drop_stmt and
                (not self.set_session_auth or
                 (desc == "SCHEMA" and defn.startswith("--")))):
            if desc == "BLOB METADATA":
                self._per_blob(p, e, "ALTER LARGE OBJECT ",
                               f" OWNER TO {fmt_id(owner, self.encoding)}")
            else:
                what = self._object_description(e)
                if what:
                    p.append((m.SQL, f"ALTER {what} OWNER TO "
                                     f"{self._names(owner).ident};\n\n"))
        if partitioned and not self.no_tableam and e.tableam:
            p.append((m.SQL, f"ALTER TABLE {fmt_qualified_id(e.namespace, e.tag, self.encoding)}"
                             f" SET ACCESS METHOD {fmt_id(e.tableam, self.encoding)};\n\n"))
        if desc in ACL_DESCS:
            self.curr_user = None

    def _names(self, name: str | None) -> _Name:
        """A namespace's or owner's forms, made once for a run of entries that share it
        (the walker gives them one string object: an identity test finds it)."""
        memo = self._memo
        if memo.name is not name:
            memo = self._memo2
            if memo.name is not name:
                memo = _Name(name, sanitize_line(name, True),
                             "" if name is None else fmt_id(name, self.encoding))
            self._memo, self._memo2 = memo, self._memo
        return memo

    def _object_description(self, e: TocEntry) -> str:
        """_getObjectDescription(): the object as ALTER ... OWNER TO names it."""
        desc = e.desc
        if desc in _PLAIN_OWNED:
            ns = f"{self._names(e.namespace).ident}." if e.namespace else ""
            return f"{desc} {ns}{fmt_id(e.tag, self.encoding)}"
        if desc == "BLOB":
            return f"LARGE OBJECT {e.tag}"
        if desc in _FROM_DROP:
            return (e.drop_stmt or "")[5:].rstrip("\n;")
        if desc in _UNOWNED:
            return ""
        raise UsageError(f'don\'t know how to set owner for object type "{desc}"',
                         entry=e.label)

    def _per_blob(self, p: list[m.Part], e: TocEntry, begin: str, end: str) -> None:
        """IssueCommandPerBlob(): one command per OID line of a BLOB METADATA entry."""
        lines = (e.defn or "").split("\n")[:-1]
        if self.txn_size > 0:
            for oid in lines:
                p.append((m.SQL, f"{begin}{oid}{end};\n"))
                self._count_action(p)
        else:  # one part per command: pg_restore sends each on its own to a server
            p.extend((m.SQL, f"{begin}{oid}{end};\n") for oid in lines)
        p.append((m.SQL, "\n"))

    def _acl_per_blob(self, p: list[m.Part], e: TocEntry) -> None:
        """IssueACLPerBlob(): the one copy of the GRANT/REVOKE commands of a "LARGE
        OBJECTS" ACL entry, applied to every large object of its BLOB METADATA entry."""
        dep = e.dependencies[0] if e.dependencies else 0
        if self._by_id is None:
            self._by_id = {}
            for entry in self.entries:
                self._by_id.setdefault(entry.dump_id, entry)
        blob = self._by_id.get(dep)
        if blob is None:
            raise UsageError(f"could not find entry for ID {dep}", entry=e.label)
        text = e.defn or ""
        i, n = 0, len(text)
        start, second = 0, -1
        first = ""
        inquotes = False
        while i < n:
            ch = text[i]
            if ch == '"':
                inquotes = not inquotes
            if inquotes:
                i += 1
                continue
            if text.startswith("LARGE OBJECT ", i):
                i += 13
                first = text[start:i]
                i += 1
                while i < n and text[i].isdigit() and text[i].isascii():
                    i += 1
                second = i
            elif ch == ";":
                if second < 0:
                    raise UsageError("malformed LARGE OBJECTS ACL entry", entry=e.label)
                self._per_blob(p, blob, first, text[second:i])
                i += 1
                while i < n and text[i] in " \t\n\r\f\v":
                    i += 1
                start, second = i, -1
            else:
                i += 1

