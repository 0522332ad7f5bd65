"""The TOC walker: the one hot loop of pgarchive, over the bytes of a TOC.

Plain, strictly typed Python that mypyc compiles at install time when a C compiler is
there (``setup.py``); without one it runs as it is, slower.  It is resumable: given a
buffer that ends mid-entry it returns what it completed, so a caller can read a huge TOC in
windows without knowing its size first.

Two modes share the walk:

* ``ROWS``: one tuple per entry with TocEntry's fields, in its order (decoded strings);
* ``LIST``: the ``pg_restore -l`` lines of the entries that pg_restore prints with default
  options, as raw archive bytes -- nothing decoded -- for ``ls --format list``, one bytes
  object per line, each built in one allocation.

The tests prove ROWS equals the construct specification, and LIST equals rendering ROWS
through the general selection, on every archive of the corpus and on synthetic ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .constants import (
    K_VERS_1_3,
    K_VERS_1_5,
    K_VERS_1_6,
    K_VERS_1_7,
    K_VERS_1_8,
    K_VERS_1_9,
    K_VERS_1_10,
    K_VERS_1_11,
    K_VERS_1_14,
    K_VERS_1_16,
)

ROWS: Final = 0
LIST: Final = 1

_SPECIAL: Final = (b"ENCODING", b"STDSTRINGS", b"SEARCHPATH")
_DEPENDENT: Final = (b"ACL", b"COMMENT", b"SECURITY LABEL")
_DATA_ONLY: Final = (b"SEQUENCE SET", b"BLOB", b"BLOB METADATA")
_PARTITION_ROOT: Final = b"-- load via partition root "

if TYPE_CHECKING:
    # Compiled, positions and lengths are machine integers (mypyc's i64): no tagged-int
    # checks and reference counts on every byte the walk reads.  Only in annotations,
    # never called: plain Python (or a build without mypy) never needs the name.
    from mypy_extensions import i64


class ScanError(Exception):
    """A format error at ``pos`` (absolute), in entry number ``index`` (0-based)."""

    def __init__(self, message: str, pos: int, index: int, truncated: bool) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.index = index
        self.truncated = truncated


class _Short(Exception):
    """The buffer ends inside the current entry; ``need`` is the buffer position it must
    reach at least (so a caller reads what one big entry needs at once, not by doubling)."""

    def __init__(self, need: int) -> None:
        super().__init__()
        self.need = need


class WalkResult:
    """What one call of :func:`walk` read: rows or list lines, and where to resume."""

    def __init__(self, rows: list[tuple[object, ...]], lines: list[bytes], done: int,
                 pos: int, max_offset: int, need: int) -> None:
        self.rows = rows
        self.lines = lines
        self.done = done          # entries completed
        self.pos = pos            # buffer position after the last completed entry
        self.max_offset = max_offset  # the largest SET data offset seen (custom)
        self.need = need          # when stopped early: buffer position the entry needs


class Limits:
    """The largest name and definition the walker accepts (see pgarchive.limits), and the
    values it shares between entries: the same owner, schema or dependency id is one
    object, not one per entry (a million entries name a few owners); ``sections`` (codes
    1-4) and ``flags`` (offset flags 1-3) are the objects rows carry for those codes (the
    reader's enums, so that rows are its entries' fields as they are: no pass in Python
    to convert them)."""

    def __init__(self, max_name: int, max_defn: int,
                 sections: tuple[object, ...] = (1, 2, 3, 4),
                 flags: tuple[object, ...] = (1, 2, 3)) -> None:
        self.max_name = max_name
        self.max_defn = max_defn
        self.sections = sections
        self.flags = flags
        self.names: dict[bytes, str] = {}
        self.ints: dict[int, object] = {}

    def name(self, raw: bytes, encoding: str) -> str:
        """The decoded name, shared with earlier entries that have the same bytes."""
        s = self.names.get(raw)
        if s is None:
            s = raw.decode(encoding, "surrogateescape")
            if len(raw) <= 128 and len(self.names) < 65536:
                self.names[raw] = s
        return s

    def int_(self, value: int) -> object:
        """The same int object for the same value (dependency ids repeat across entries)."""
        o = self.ints.get(value)
        if o is None:
            o = value
            if len(self.ints) < 65536:  # bounded: a pass over a huge TOC keeps no more
                self.ints[value] = o
        return o


def uint_text(s: bytes) -> int:
    """An OID or id as pg_restore parses it, strtoul-like: leading blanks, optional +,
    at most 20 digits (more saturate); 32 bits."""
    return _uint_at(s, 0, len(s))


def _uint_at(s: bytes, i: i64, n: i64) -> int:
    """:func:`uint_text` of ``s[i:n]``, read in place (the walker's ids: no copy each)."""
    while i < n:
        c: i64 = s[i]
        if c != 32 and (c < 9 or c > 13):  # not one of " \t\n\v\f\r"
            break
        i += 1
    if i < n and s[i] == 43:  # '+'
        i += 1
    first = i
    while i < n:
        c = s[i]
        if c < 48 or c > 57:
            break
        i += 1
    digits = i - first
    if digits > 20:
        return 0xFFFFFFFF
    if digits > 18:  # (19 or 20 digits may pass 64 bits: as a Python int)
        big = int(s[first:i])
        return 0xFFFFFFFF if big >= 1 << 64 else big & 0xFFFFFFFF
    value: i64 = 0
    for k in range(first, i):
        d: i64 = s[k]
        value = value * 10 + (d - 48)
    return value & 0xFFFFFFFF


def _guess_section(desc: bytes) -> int:
    if desc in (b"COMMENT", b"ACL", b"ACL LANGUAGE"):
        return 1
    if desc in (b"TABLE DATA", b"BLOBS", b"BLOB COMMENTS"):
        return 3
    if desc in (b"CONSTRAINT", b"CHECK CONSTRAINT", b"FK CONSTRAINT", b"INDEX", b"RULE",
                b"TRIGGER"):
        return 4
    return 2


def _sanitize(s: bytes) -> bytes:
    """CR and LF become spaces (pg_restore's sanitize_line); a plain loop, as names are short."""
    for i in range(len(s)):
        c = s[i]
        if c == 10 or c == 13:
            return s.replace(b"\n", b" ").replace(b"\r", b" ")
    return s


#: name_'s fields: namespace, tablespace, table access method, owner
_NS: Final = 0
_TS: Final = 1
_AM: Final = 2
_OWNER: Final = 3
_SLOTS: Final = 4


class _Walker:
    def __init__(self, buf: bytes, base: int, int_size: int) -> None:
        self.buf = buf
        self.base = base
        self.end: i64 = len(buf)
        self.isz: i64 = int_size
        self.p: i64 = 0
        #: the last bytes and name of each field read by name_ (see there)
        self.raws: list[bytes] = [b""] * _SLOTS
        self.strs: list[str] = [""] * _SLOTS

    def int_(self) -> int:
        p = self.p
        isz = self.isz
        if p + 1 + isz > self.end:
            raise _Short(p + 1 + isz)
        buf = self.buf
        if isz == 4:
            b0: i64 = buf[p + 1]
            b1: i64 = buf[p + 2]
            b2: i64 = buf[p + 3]
            b3: i64 = buf[p + 4]
            v: int = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
        else:  # (any size up to 32 bytes: a Python int, never a machine one)
            v = 0
            shift: int = 0
            for k in range(isz):
                v |= buf[p + 1 + k] << shift
                shift += 8
        self.p = p + 1 + isz
        return -v if buf[p] != 0 else v

    def length(self, limit: i64, what: str) -> i64:
        """The length of a Str, refused past ``limit`` before anything is read; -1 for
        NULL (any negative length)."""
        start = self.p
        n = self.int_()
        if n > limit:
            raise _TooLong(f"{what} of {n} bytes is longer than the limit of {limit} bytes "
                           "(see README, Limits)", start)
        if n < 0:
            return -1
        length: i64 = n
        return length

    def take(self, limit: i64, what: str) -> i64:
        """Step over a Str's bytes and return where they start (they end at ``self.p``);
        -1 for NULL.  Every field reader below is this and what it does with the bytes."""
        n = self.length(limit, what)
        if n < 0:
            return -1
        p = self.p
        if n > self.end - p:
            raise _Short(p + n)
        self.p = p + n
        return p

    def str_(self, limit: i64, what: str) -> bytes | None:
        """A Str: None for NULL (a negative length)."""
        p = self.take(limit, what)
        if p < 0:
            return None
        q = self.p
        return self.buf[p:q] if q > p else b""

    def uint_(self, limit: i64, what: str) -> int:
        """A Str holding an OID or id, parsed where it lies (:func:`uint_text`); -1 for
        NULL."""
        p = self.take(limit, what)
        if p < 0:
            return -1
        return _uint_at(self.buf, p, self.p)

    def is_true(self, limit: i64, what: str) -> bool:
        """Whether a Str says ``true`` (with_oids), compared where it lies."""
        p = self.take(limit, what)
        if p < 0:
            return False
        buf = self.buf
        return (self.p - p == 4 and buf[p] == 116 and buf[p + 1] == 114 and
                buf[p + 2] == 117 and buf[p + 3] == 101)  # b"true"

    def name_(self, limit: i64, what: str, slot: int, limits: Limits, encoding: str
              ) -> str | None:
        """A name Str, decoded and shared (:meth:`Limits.name`): "" at once, and the same
        bytes as this field of the entry before (one schema, one owner) without a copy or
        a lookup."""
        p = self.take(limit, what)
        if p < 0:
            return None
        n: i64 = self.p - p
        if n == 0:
            return ""
        buf = self.buf
        last = self.raws[slot]
        if len(last) == n:
            j: i64 = 0
            while j < n and buf[p + j] == last[j]:
                j += 1
            if j == n:
                return self.strs[slot]
        raw = buf[p:p + n]
        name = limits.name(raw, encoding)
        self.raws[slot] = raw
        self.strs[slot] = name
        return name

    def defn_kind(self, limit: i64) -> int:
        """Read a defn without copying it: 0 NULL or empty, 1 a partition-root comment,
        2 a real definition (all that the default selection needs to know)."""
        p = self.take(limit, "definition")
        if p < 0 or self.p == p:
            return 0
        k = len(_PARTITION_ROOT)
        if self.p - p >= k and self.buf[p:p + k] == _PARTITION_ROOT:
            return 1
        return 2

    def skip_str(self, limit: i64, what: str) -> bool:
        """Skip a Str; False if it was NULL."""
        return self.take(limit, what) >= 0


class _TooLong(Exception):
    """A field longer than its limit, at ``pos`` (in the buffer)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def walk(buf: bytes, base: int, pos: int, count: int, version: int, int_size: int,
         off_size: int, offset_extra: bool, mode: int, encoding: str,
         statistics: bool, limits: Limits) -> WalkResult:
    """Walk up to ``count`` entries of ``buf`` from ``pos``; ``base`` is the file offset of
    ``buf[0]`` (for positions in results and errors).  Stops early, without error, when the
    buffer ends inside an entry: ``done`` tells how many were read, ``need`` how far the
    buffer must reach for the next one.  Fields longer than ``limits`` allow, and a relkind
    that is not a character, are errors."""
    w = _Walker(buf, base, int_size)
    w.p = pos
    rows: list[tuple[object, ...]] = []
    parts: list[bytes] = []
    max_offset = -1
    done = 0
    errs = "surrogateescape"
    name: i64 = limits.max_name
    big: i64 = limits.max_defn
    # Which fields this version has, decided once (locals: no global lookup in the loop).
    has_copy = version >= K_VERS_1_3
    has_deps = version >= K_VERS_1_5
    has_namespace = version >= K_VERS_1_6
    has_offset = version >= K_VERS_1_7
    has_tableoid = version >= K_VERS_1_8
    has_with_oids = version >= K_VERS_1_9
    has_tablespace = version >= K_VERS_1_10
    has_section = version >= K_VERS_1_11
    has_tableam = version >= K_VERS_1_14
    has_relkind = version >= K_VERS_1_16
    for index in range(count):
        start = w.p
        try:
            dump_id = w.int_()
            if dump_id <= 0:
                raise ScanError(f"entry ID {dump_id} out of range -- perhaps a corrupt TOC",
                                base + start, index, False)
            had_dumper = w.int_()
            # ROWS reads ids and names where they lie (LIST wants them as bytes)
            tableoid: bytes | None = None
            oid: bytes | None = None
            tableoid_n = -1
            oid_n = -1
            if mode == ROWS:
                if has_tableoid:
                    tableoid_n = w.uint_(name, "table oid")
                oid_n = w.uint_(name, "oid")
            else:
                tableoid = w.str_(name, "table oid") if has_tableoid else None
                oid = w.str_(name, "oid")
            tag = w.str_(name, "tag")
            desc = w.str_(name, "desc")
            desc_b = desc if desc is not None else b""
            tag_b = tag if tag is not None else b""
            if has_section:
                section = w.int_()
                if section < 1 or section > 4:
                    raise ScanError(f"unexpected section code {section}",
                                    base + w.p - 1 - int_size, index, False)
            else:
                section = _guess_section(desc_b)
            defn: bytes | None = None
            defn_kind = 0
            if mode == ROWS:
                defn = w.str_(big, "definition")
            else:
                defn_kind = w.defn_kind(big)
            drop: bytes | None = None
            copy: bytes | None = None
            if mode == ROWS:
                drop = w.str_(big, "drop statement")
                copy = w.str_(big, "COPY statement") if has_copy else None
            else:
                w.skip_str(big, "drop statement")
                if has_copy:
                    w.skip_str(big, "COPY statement")
            ns: bytes | None = None
            ns_s: str | None = None
            ts: str | None = None
            am: str | None = None
            if mode == ROWS:
                if has_namespace:
                    ns_s = w.name_(name, "namespace", _NS, limits, encoding)
                if has_tablespace:
                    ts = w.name_(name, "tablespace", _TS, limits, encoding)
                if has_tableam:
                    am = w.name_(name, "table access method", _AM, limits, encoding)
            else:
                ns = w.str_(name, "namespace") if has_namespace else None
                if has_tablespace:
                    w.skip_str(name, "tablespace")
                if has_tableam:
                    w.skip_str(name, "table access method")
            relkind = 0
            if has_relkind:
                at = w.p
                relkind = w.int_()
                if relkind < -128 or relkind > 255:
                    # pg_dump writes pg_class.relkind, a C char: anything else is damage
                    raise ScanError(f"relkind {relkind} is not a character",
                                    base + at, index, False)
            owner: bytes | None = None
            owner_s: str | None = None
            if mode == ROWS:
                owner_s = w.name_(name, "owner", _OWNER, limits, encoding)
            else:
                owner = w.str_(name, "owner")
            with_oids = False
            deps: list[object] = []
            if mode == ROWS:
                if has_with_oids:
                    with_oids = w.is_true(name, "with oids")
                if has_deps:
                    while True:
                        d = w.uint_(name, "dependency")
                        if d < 0:
                            break
                        deps.append(limits.int_(d))
            else:
                if has_with_oids:
                    w.skip_str(name, "with oids")
                if has_deps:
                    while w.skip_str(name, "dependency"):
                        pass
            flag = 0
            offset = 0
            filename: bytes | None = None
            if offset_extra:
                if has_offset:
                    p = w.p
                    if p + 1 + off_size > w.end:
                        raise _Short(p + 1 + off_size)
                    flag = buf[p]
                    if flag < 1 or flag > 3:
                        raise ScanError(f"unexpected data offset flag {flag}", base + p,
                                        index, False)
                    for k in range(off_size):
                        byte = buf[p + 1 + k]
                        if k < 8:
                            offset |= byte << (8 * k)
                        elif byte:
                            raise ScanError("file offset in dump file is too large",
                                            base + p, index, False)
                    w.p = p + 1 + off_size
                else:
                    o = w.int_()
                    flag = 1 if o < 0 else (3 if o == 0 else 2)
                    offset = o if o > 0 else 0
                if flag == 2 and offset > max_offset:
                    max_offset = offset
            else:
                filename = w.str_(name, "file name")
        except _Short as short:
            return _result(rows, parts, done, start, max_offset, short.need)
        except _TooLong as long:
            raise ScanError(long.message, base + long.pos, index, False) from None
        if mode == ROWS:
            rows.append((
                dump_id, had_dumper != 0,
                limits.int_(tableoid_n) if tableoid_n >= 0 else 0,
                oid_n if oid_n >= 0 else 0,
                tag_b.decode(encoding, errs), limits.name(desc_b, encoding),
                limits.sections[section - 1],
                defn.decode(encoding, errs) if defn is not None else None,
                drop.decode(encoding, errs) if drop is not None else None,
                copy.decode(encoding, errs) if copy is not None else None,
                ns_s, ts, am,
                relkind,
                owner_s,
                with_oids, tuple(deps),
                limits.flags[flag - 1] if offset_extra else None,
                offset if offset_extra else None,
                filename.decode(encoding, errs) if filename is not None else None,
                base + start,
            ))
        elif _listed_by_default(desc_b, tag_b, had_dumper != 0, defn_kind, statistics):
            # One bytes % build per line: mypyc turns it into a single allocation of the
            # total length (CPyBytes_Build), where an append per field cost 2.5x the walk.
            parts.append(b"%s; %s %s %s %s %s %s\n" % (
                str(dump_id).encode(), _oid_text(tableoid), _oid_text(oid), desc_b,
                _sanitize(ns) if ns is not None else b"-", _sanitize(tag_b),
                _sanitize(owner) if owner is not None else b""))
        done += 1
    return _result(rows, parts, done, w.p, max_offset, 0)


def _result(rows: list[tuple[object, ...]], parts: list[bytes], done: int, pos: int,
            max_offset: int, need: int) -> WalkResult:
    return WalkResult(rows, [b"".join(parts)] if parts else [], done, pos, max_offset, need)


def _oid_text(s: bytes | None) -> bytes:
    """An OID as pg_restore prints it (%u of its parsed value); canonical digits as they are."""
    if s is None:
        return b"0"
    n = len(s)
    if 0 < n < 10 and (n == 1 or s[0] != 48):
        for i in range(n):
            if not 48 <= s[i] <= 57:
                return str(uint_text(s)).encode()
        return s
    return str(uint_text(s)).encode()


def _listed_by_default(desc: bytes, tag: bytes, had_dumper: bool, defn_kind: int,
                       statistics: bool) -> bool:
    """pg_restore 18's _tocEntryRequired with default options, on raw bytes."""
    if desc in _SPECIAL:
        return False
    schema = True
    data = True
    stats = False
    if desc == b"STATISTICS DATA":
        if not statistics:
            return False
        schema = data = False
        stats = True
    if desc == b"DATABASE" or desc == b"DATABASE PROPERTIES":
        return False
    if desc in _DEPENDENT and tag.startswith(b"DATABASE "):
        return False
    if not had_dumper:
        if desc in _DATA_ONLY or (desc in _DEPENDENT and tag.startswith(b"LARGE OBJECT")):
            schema = False
        else:
            data = False
    if defn_kind != 2:
        schema = False
    if desc == b"<Init>" and tag == b"Max OID":
        return False
    return schema or data or stats
