"""What the selection needs of each TOC entry, in columns: a million entries in tens of MB.

A TocEntry costs ~450 bytes and its Decision more (issue 12: ``ls -t t1 --with-deps`` on a
million-entry TOC peaked at 950 MiB).  :class:`TocTable` keeps per entry only the fields
the selection rules read -- dump id, desc, schema, tag, section, whether it had a dumper,
the kind of its definition, its dependencies -- in arrays (~40 bytes an entry), and is
filled either from a list of entries or from one streamed pass over the TOC.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .format.model import TocEntry
from .rule import entry_flags  # the flags column's bits (HAD_DUMPER ...) are the rule's


class IdView(NamedTuple):
    """An entry seen through its dump id alone (all a -L list file is checked against)."""

    dump_id: int


class TocTable:
    """The selection's columns of a TOC, rows in file order."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.descs: list[str] = []          # distinct descs; ``desc`` holds indexes
        self._desc_codes: dict[str, int] = {}
        self.desc = array("I")
        self.namespaces: list[str | None] = [None]  # distinct schemas; ``ns`` indexes
        self._ns_codes: dict[str | None, int] = {None: 0}
        self.ns = array("I")
        self.section = bytearray()
        self.flags = bytearray()
        self._tags = bytearray()            # every tag, UTF-8 (surrogates kept), end to end
        self._tag_end = array("q", [0])     # row's tag: _tags[_tag_end[row]:_tag_end[row + 1]]
        self.deps = array("q")              # every dependency id, end to end
        self.dep_end = array("q", [0])      # row's: deps[dep_end[row]:dep_end[row + 1]]

    @classmethod
    def of(cls, entries: Iterable[TocEntry]) -> TocTable:
        """The table of ``entries`` (a list, or one pass over a TOC that keeps none)."""
        t = cls()
        for e in entries:
            t.add(e)
        return t

    def add(self, e: TocEntry) -> None:
        """Append one entry's columns."""
        self.ids.append(e.dump_id)
        code = self._desc_codes.get(e.desc)
        if code is None:
            code = self._desc_codes[e.desc] = len(self.descs)
            self.descs.append(e.desc)
        self.desc.append(code)
        code = self._ns_codes.get(e.namespace)
        if code is None:
            code = self._ns_codes[e.namespace] = len(self.namespaces)
            self.namespaces.append(e.namespace)
        self.ns.append(code)
        self.section.append(int(e.section))
        self.flags.append(entry_flags(e))
        self._tags += e.tag.encode("utf-8", "surrogatepass")
        self._tag_end.append(len(self._tags))
        self.deps.extend(e.dependencies)
        self.dep_end.append(len(self.deps))

    def __len__(self) -> int:
        return len(self.ids)

    def desc_of(self, row: int) -> str:
        return self.descs[self.desc[row]]

    def namespace(self, row: int) -> str | None:
        return self.namespaces[self.ns[row]]

    def tag(self, row: int) -> str:
        ends = self._tag_end
        return self._tags[ends[row]:ends[row + 1]].decode("utf-8", "surrogatepass")

    def dependencies(self, row: int) -> array[int]:
        """The entry's dependency ids, in archive order (repeats kept)."""
        return self.deps[self.dep_end[row]:self.dep_end[row + 1]]

    def label(self, row: int) -> str:
        """As :attr:`TocEntry.label`: ``3392 TABLE DATA s1 t1``."""
        ns = self.namespace(row)
        ns_text = f"{ns} " if ns else ""
        return f"{self.ids[row]} {self.desc_of(row)} {ns_text}{self.tag(row)}".replace("\n", " ")

    def names(self) -> Iterator[tuple[str, str, str | None]]:
        """(desc, tag, namespace) of every entry, in file order."""
        for row in range(len(self.ids)):
            yield self.desc_of(row), self.tag(row), self.namespace(row)

    def id_views(self) -> Iterator[IdView]:
        """Every entry as its dump id, in file order."""
        return (IdView(i) for i in self.ids)


class IdMap:
    """Dump id -> int (a position), -1 when absent: an array when the ids are dense (as
    pg_dump writes them: 4 bytes an id), a dict otherwise."""

    def __init__(self, ids: Iterable[int], count: int) -> None:
        lo, hi = 0, -1
        for i in ids:
            if i < lo:
                lo = i
            if i > hi:
                hi = i
        self._dense: array[int] | None = None
        self._sparse: dict[int, int] = {}
        if lo >= 0 and hi <= 4 * count + 1024:
            self._dense = array("i", [-1]) * (hi + 1)

    def get(self, i: int) -> int:
        d = self._dense
        if d is not None:
            return d[i] if 0 <= i < len(d) else -1
        return self._sparse.get(i, -1)

    def set(self, i: int, value: int) -> None:
        """Map ``i`` (one of the ids the map was made for) to ``value``."""
        d = self._dense
        if d is not None:
            d[i] = value
        else:
            self._sparse[i] = value
