"""Property tests: synthetic archives of every version, format and compression, built with
the construct specification, read back exactly; mutated (truncated, flipped, spliced,
duplicated, length fields inflated) they give a correct result or an ArchiveError, never
another exception, within bounded time and memory."""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgarchive
from helpers import TESTDATA
from pgarchive.errors import ArchiveError
from pgarchive.format.constants import ArchiveFormat, Compression, OffsetFlag, Section
from pgarchive.format.model import Header, TocEntry
from pgarchive.format.writer import build_custom, build_directory, build_tar
from pgarchive.selection import RestoreOptions, Selection, chosen, select
from pgarchive.verify import verify
from psql_regex import reference_regex

VERSIONS = [(1, m) for m in range(10, 17)]
DESCS = ["TABLE", "INDEX", "COMMENT", "ACL", "SEQUENCE", "FUNCTION", "CONSTRAINT",
         "FK CONSTRAINT", "SCHEMA", "VIEW", "TRIGGER", "DEFAULT"]
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=12)
maybe = st.none() | text


@st.composite
def archives(draw: st.DrawFn) -> tuple[Header, list[TocEntry], dict[int, object], str]:
    vmaj, vmin = draw(st.sampled_from(VERSIONS))
    fmt = draw(st.sampled_from(["custom", "directory", "tar"]))
    algos = [Compression.NONE, Compression.GZIP]
    if vmin >= 15:
        algos += [Compression.LZ4, Compression.ZSTD]
    algo = draw(st.sampled_from(algos))
    h = Header(vmaj, vmin, 0, 4, 8, ArchiveFormat.CUSTOM, algo,
               None if vmin >= 15 else (0 if algo == Compression.NONE else -1),
               (1, 2, 3, 4, 5, 120, 0), draw(maybe), draw(maybe), draw(maybe), 0, 0)
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n, unique=True))
    entries: list[TocEntry] = []
    data: dict[int, object] = {}
    used_oids: set[int] = set()
    for i in ids:
        desc = draw(st.sampled_from([*DESCS, "TABLE DATA", "BLOBS"]))
        if desc == "BLOBS" and vmin < 16 and any(x.desc == "BLOBS" for x in entries):
            desc = "TABLE DATA"  # before 1.16 pg_dump writes one BLOBS entry at most
        had = desc in ("TABLE DATA", "BLOBS")
        deps = tuple(draw(st.lists(st.integers(1, 70), max_size=4)))  # missing, repeated, cyclic
        cols = draw(st.integers(1, 4))
        sect = (Section.DATA if had else draw(st.sampled_from(list(Section)))) \
            if vmin >= 11 else (Section.DATA if had else Section.PRE_DATA)
        entries.append(TocEntry(
            i, had, draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1)),
            draw(text), desc, sect, draw(maybe), draw(maybe),
            "COPY t (" + ", ".join(f"c{k}" for k in range(cols)) + ") FROM stdin;\n"
            if desc == "TABLE DATA" else None,
            draw(maybe), draw(maybe) if vmin >= 10 else None,
            draw(maybe) if vmin >= 14 else None, draw(st.integers(0, 127)) if vmin >= 16 else 0,
            draw(maybe), False, deps if vmin >= 5 else (),
            OffsetFlag.NO_DATA, 0, None, 0))
        if desc == "TABLE DATA":
            rows = draw(st.lists(st.lists(st.text("ab\\\t\n", max_size=4).map(
                lambda s: s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")),
                min_size=cols, max_size=cols), max_size=5))
            data[i] = ("".join("\t".join(r) + "\n" for r in rows) + "\\.\n\n\n").encode()
        elif desc == "BLOBS":
            # oids are unique in a database (a directory archive names files after them)
            oids = draw(st.lists(st.integers(1, 2**32 - 1).filter(lambda o: o not in used_oids),
                                 max_size=3, unique=True))
            used_oids.update(oids)
            data[i] = [(oid, draw(st.binary(max_size=40))) for oid in oids]
    # pg_dump creates each large object in a BLOB entry (BLOB METADATA from 1.16): one that
    # none creates is damage (issue 12.4), so the well-formed archives create theirs.
    for k, oid in enumerate(sorted(used_oids)):
        entries.append(entries[0]._replace(
            dump_id=1000 + k, had_dumper=False, desc="BLOB", tag=str(oid),
            defn=f"SELECT pg_catalog.lo_create('{oid}');\n", copy_stmt=None,
            section=Section.PRE_DATA, dependencies=(), offset_flag=OffsetFlag.NO_DATA,
            data_offset=0))
    return h, entries, data, fmt


def write(tmp: Path, h: Header, entries: list[TocEntry], data: dict[int, object],
          fmt: str) -> Path:
    if fmt == "custom":
        p = tmp / "a.dump"
        p.write_bytes(build_custom(h, entries, data))  # type: ignore[arg-type]
    elif fmt == "tar":
        p = tmp / "a.tar"
        p.write_bytes(build_tar(h, entries, data))  # type: ignore[arg-type]
    else:
        p = tmp / "a_dir"
        p.mkdir(exist_ok=True)
        for f in p.iterdir():
            f.unlink()
        for name, raw in build_directory(h, entries, data).items():  # type: ignore[arg-type]
            (p / name).write_bytes(raw)
    return p


def exercise(path: str) -> None:
    """Everything a user can ask of an archive; ArchiveError is the only allowed failure."""
    with pgarchive.open(path) as a:
        sel = Selection(RestoreOptions(tables=("x",), sel_table=True), with_deps=True)
        chosen(select(a.entries, sel))
        for e in a.entries:
            if e.has_data and e.desc != "BLOBS":
                for _ in a.data(e):
                    pass
    verify(path)


FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(archives())
def test_round_trip(arch: tuple[Header, list[TocEntry], dict[int, object], str]) -> None:
    h, entries, data, fmt = arch
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d), h, entries, data, fmt)
        with pgarchive.open(str(p)) as a:
            assert [(e.dump_id, e.tag, e.desc, e.defn, e.owner, e.dependencies)
                    for e in a.entries] == [(e.dump_id, e.tag, e.desc, e.defn, e.owner,
                                             e.dependencies) for e in entries]
            for e in a.entries:
                if e.desc == "TABLE DATA" and e.has_data:
                    assert b"".join(a.data(e)) == data[e.dump_id]
                elif e.desc == "BLOBS" and e.has_data:
                    assert list(a.read_large_objects(e)) == data[e.dump_id]
        report = verify(str(p))
        assert report.ok, [str(x) for x in report.all_problems()]


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, float, int]]:
    return draw(st.lists(st.tuples(
        st.sampled_from(["truncate", "flip", "splice", "duplicate", "inflate"]),
        st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=3))


def mutate(raw: bytes, ops: list[tuple[str, float, int]]) -> bytes:
    b = bytearray(raw)
    for op, where, v in ops:
        if not b:
            break
        i = min(int(where * len(b)), len(b) - 1)
        if op == "truncate":
            del b[i:]
        elif op == "flip":
            b[i] ^= v or 1
        elif op == "splice":
            b[i:i] = b[max(0, i - v):i]
        elif op == "duplicate":
            b[i:i] = b[i:i + v] * 2
        else:  # inflate a length-like field: a sign byte 0 then a huge magnitude
            b[i:i + 5] = bytes([0, 0xFF, 0xFF, 0xFF, 0x7F])
    return bytes(b)


@FAST
@given(archives(), mutations())
def test_mutated_archives_fail_cleanly(
        arch: tuple[Header, list[TocEntry], dict[int, object], str],
        ops: list[tuple[str, float, int]]) -> None:
    h, entries, data, fmt = arch
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d), h, entries, data, fmt)
        targets = [p] if p.is_file() else [p / "toc.dat", *sorted(p.iterdir())[:2]]
        for t in targets:
            t.write_bytes(mutate(t.read_bytes(), ops))
        tracemalloc.start()
        start = time.perf_counter()
        try:
            exercise(str(p))
        except ArchiveError as e:
            assert str(e) and "\n" not in str(e)
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert time.perf_counter() - start < 5
        assert peak < 64 << 20


def test_inflated_counts_allocate_nothing(tmp_path: Path) -> None:
    """A TOC count of a billion and a string length of 2^31 in a small file: errors, fast."""
    src = (TESTDATA / "pg18" / "custom.dump").read_bytes()
    with pgarchive.open(str(TESTDATA / "pg18/custom.dump")) as a:
        count_at = a.header.toc_offset - 5
    for patch_at, value in ((count_at, bytes([0, 0, 0xCA, 0x9A, 0x3B])),
                            (count_at + 5 + 10 + 5 + 4, bytes([0, 0, 0, 0, 0x80]))):
        raw = bytearray(src[:1024])
        raw[patch_at:patch_at + 5] = value
        p = tmp_path / "x.dump"
        p.write_bytes(raw)
        tracemalloc.start()
        try:
            with pgarchive.open(str(p)):
                raise AssertionError("should not parse")
        except ArchiveError as e:
            assert "truncated" in str(e)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 1 << 20


def test_zip_bomb_block_is_bounded(tmp_path: Path) -> None:
    """A small gzip block that inflates to 200 MB is streamed in bounded pieces."""
    import zlib

    from pgarchive.compression import decompress

    bomb = zlib.compress(b"\0" * (200 << 20), 9)
    assert len(bomb) < 300_000
    tracemalloc.start()
    total = 0
    for piece in decompress(Compression.GZIP, [bomb[i:i + 4096]
                                               for i in range(0, len(bomb), 4096)]):
        assert len(piece) <= 1 << 20
        total += len(piece)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == 200 << 20 and peak < 16 << 20


def test_directory_names_cannot_leave_the_folder(tmp_path: Path) -> None:

    h = Header(1, 16, 0, 4, 8, ArchiveFormat.TAR, Compression.NONE, None, (0,) * 7,
               "db", "18", "18", 1, 0)
    e = TocEntry(5, True, 0, 1, "t", "TABLE DATA", Section.DATA, None, None,
                 "COPY t (a) FROM stdin;\n", "public", None, None, 0, "o", False, ())
    for name in ("../outside.dat", "/etc/passwd", "sub/x.dat"):
        from pgarchive.format.writer import build_toc_file

        d = tmp_path / f"d{abs(hash(name))}"
        d.mkdir()
        (d / "toc.dat").write_bytes(build_toc_file(h, [e._replace(filename=name)], "filename"))
        (tmp_path / "outside.dat").write_bytes(b"1\n\\.\n\n\n")
        report = verify(str(d))
        assert not report.ok
        assert any("not a plain file name" in str(p) for p in report.all_problems())
    # A plain name, but the file is a link to something outside the archive.
    d = tmp_path / "linked"
    d.mkdir()
    (d / "toc.dat").write_bytes(build_toc_file(h, [e._replace(filename="5.dat")], "filename"))
    os.symlink(tmp_path / "outside.dat", d / "5.dat")
    report = verify(str(d))
    assert any("link that leaves the archive" in str(p) for p in report.all_problems())


# --- issue 12: the classes of round two, generated -------------------------------------

@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(-2**40, 2**40) | st.sampled_from([0, -128, -129, 255, 256, 0xD800,
                                                       2**31 - 1, 2**63 - 1]),
       st.sampled_from([4, 8]))
def test_any_relkind_reads_or_fails_cleanly(relkind: int, int_size: int) -> None:
    if int_size == 4 and abs(relkind) >= 2**32:
        relkind = relkind % 2**32
    h = Header(1, 16, 0, int_size, 8, ArchiveFormat.CUSTOM, Compression.NONE, None, (0,) * 7,
               "db", "18", "18", 0, 0)
    e = TocEntry(1, False, 0, 1, "t", "TABLE", Section.PRE_DATA, "CREATE TABLE t ();", "",
                 None, "public", "", "heap", relkind, "o", False, ())
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "a.dump"
        p.write_bytes(build_custom(h, [e], {}))
        if -128 <= relkind <= 255:
            with pgarchive.open(str(p)) as a:
                got = a.entries[0]
                assert got.relkind == relkind
                assert got.relkind_char in (None, chr(relkind & 0xFF))
        else:
            try:
                pgarchive.open(str(p))
                raise AssertionError("relkind out of range was read")
            except ArchiveError as err:
                assert "relkind" in str(err) and "\n" not in str(err)


def _reference_list_ids(data: bytes, max_id: int) -> list[int]:
    """pg_restore's SortTocFromFile over whole lines, written plainly (fgets + strlen:
    a NUL byte joins the next line on)."""
    import re

    lines, joined = [], b""
    for physical in data.split(b"\n"):
        if b"\0" in physical:
            joined += physical.split(b"\0", 1)[0]
        else:
            lines.append(joined + physical)
            joined = b""
    if joined:
        lines.append(joined)
    ids: list[int] = []
    for line in lines:
        if b";" in line:
            line = line[:line.index(b";")]
        if not line.strip(b" \t\r\n"):
            continue
        m = re.match(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)", line)
        if not m:
            continue
        v = min(int(m.group(2)), (1 << 63) - 1 + (m.group(1) == b"-"))
        v = (-v if m.group(1) == b"-" else v) & 0xFFFFFFFF
        v = v - (1 << 32) if v >= 1 << 31 else v
        if 0 < v <= max_id and v not in ids:
            ids.append(v)
    return ids


LIST_ATOMS = ["1", "2", "3", "12", "0", "9" * 30, "4294967298", " ", "\t", "\v", "\f", "\r",
              ";", "+", "-", "\x00", "\n", "\u0661", "\uff13", "x", "7 ; 8"]


@FAST
@given(st.lists(st.sampled_from(LIST_ATOMS), max_size=40), st.integers(1, 9),
       st.integers(1, 15))
def test_list_files_read_as_pg_restore_reads_them(atoms: list[str], step: int,
                                                 max_id: int) -> None:
    from pgarchive.listfile import parse_list_chunks

    data = "".join(atoms).encode()
    chunks = [data[i:i + step] for i in range(0, len(data), step)]
    assert parse_list_chunks(chunks, max_id).ids == _reference_list_ids(data, max_id)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children,
                                                                      max_size=3),
    max_leaves=8)


@FAST
@given(st.sampled_from(["entries", "toc", "hash", "pgarchive_manifest", "format"]),
       json_values, st.sampled_from(["rows", "tag", "checksum", "raw_bytes", "namespace"]))
def test_manifests_of_any_shape_load_or_fail_cleanly(key: str, value: object,
                                                     field: str) -> None:
    import json

    from pgarchive.manifest import load_manifest

    good = {"pgarchive_manifest": 1, "hash": "xxh3_128",
            "entries": {"1": {"desc": "TABLE DATA", "tag": "t", "rows": 1, "raw_bytes": 3,
                              "stored_bytes": 3, "checksum": "ab"}}, "toc": {"1": "cd"}}
    for doc in ({**good, key: value},
                {**good, "entries": {"1": {**good["entries"]["1"], field: value}}}):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "m.json"
            p.write_text(json.dumps(doc))
            try:
                got = load_manifest(str(p), 1 << 20)
            except ArchiveError as err:
                assert "manifest" in str(err) and "\n" not in str(err)
            else:
                for entry in got["entries"].values():
                    assert isinstance(entry, dict)
                    assert entry.get("rows") is None or type(entry["rows"]) is int


@settings(max_examples=1000, deadline=None)
@given(st.text("ab*?.\"A_", max_size=10), st.text("abA_\n.\"", max_size=12),
       st.text("abA_", max_size=4))
def test_patterns_mean_their_regular_expression(pattern: str, name: str, schema: str) -> None:
    import re

    from pgarchive.errors import UsageError
    from pgarchive.patterns import compile_pattern

    try:
        compiled = compile_pattern(pattern)
    except UsageError:
        return
    if compiled.exact:
        assert compiled.matches(name, schema) == (name == pattern)
        return
    parts = [re.sub(r"(\.\*)+", ".*", p) for p in reference_regex(pattern)]  # backtracks less
    expected = (bool(re.fullmatch(parts[-1], name, re.S)) and
                (len(parts) == 1 or bool(re.fullmatch(parts[0], schema, re.S))))
    assert compiled.matches(name, schema) == expected


@FAST
@given(st.text(max_size=30) | st.binary(max_size=30).map(
    lambda b: b.decode("utf-8", "surrogateescape")))
def test_terminal_and_csv_renderings_are_safe(value: str) -> None:
    from pgarchive.output import FORMULA_START, csv_cell, render_json, render_table
    from pgarchive.terminal import for_terminal

    shown = for_terminal(value)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or 0xDC80 <= ord(c) <= 0xDCFF
                   for c in shown)
    table = render_table([{"a": value}], ["a"])
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in table)
    assert table.count("\n") == 2
    cell = csv_cell(value)
    assert not str(cell).startswith(FORMULA_START)
    assert csv_cell(value, raw=True) == value
    import json

    out = render_json({"v": value})
    assert not any(0x7F <= ord(c) <= 0x9F for c in out)
    assert json.loads(out)["v"] == value


@FAST
@given(st.integers(1, 8), st.integers(0, 3), st.data())
def test_names_and_definitions_past_the_limits_fail_cleanly(name_len: int, extra: int,
                                                            data: st.DataObject) -> None:
    """Fields are refused past the limits (lowered here), accepted up to them."""
    from unittest import mock

    from pgarchive.format import toc

    limit = 5  # "false", the with_oids field, is 5 bytes
    tag = "t" * name_len
    defn = "d" * data.draw(st.integers(0, 12))
    h = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, Compression.NONE, None, (0,) * 7,
               "db", "18", "18", 0, 0)
    e = TocEntry(1, False, 0, 1, tag, "T", Section.PRE_DATA, defn, "", None, "s", "", "",
                 0, "o", False, tuple(range(extra)))
    with tempfile.TemporaryDirectory() as d, mock.patch.object(toc, "MAX_NAME", limit), \
            mock.patch.object(toc, "MAX_DEFN", 10):
        p = Path(d) / "a.dump"
        p.write_bytes(build_custom(h, [e], {}))
        too_long = name_len > limit or len(defn) > 10
        try:
            with pgarchive.open(str(p)) as a:
                assert a.entries[0].tag == tag and a.entries[0].defn == defn
            assert not too_long
        except ArchiveError as err:
            assert too_long and "longer than the limit" in str(err), str(err)


def _reference_close(decisions: list[object], sel: Selection) -> None:
    """--with-deps with quadratic binding checks (as before issue 12): the rules the linear
    version must keep, including issue 11's --with-fks closure and the reason of an entry
    first needed and then wanted whole."""
    from pgarchive.selection import (
        ALWAYS_ALONG,
        BELONGINGS,
        BINDINGS,
        DEPENDENT_DESCS,
        OWNERS,
        TABLE_LIKE,
        Req,
        _mask_only,
        _qualified,
        _required,
        fk_name,
        fk_tables,
    )

    ds: list = decisions  # type: ignore[type-arg]
    mask = Req.SCHEMA | Req.DATA | Req.STATS
    by_id = {d.entry.dump_id: d for d in ds}
    children: dict[int, list] = {}  # type: ignore[type-arg]
    for d in ds:
        for dep in set(d.entry.dependencies):
            children.setdefault(dep, []).append(d)
    mask_opts = _mask_only(sel.restore)
    section = {}
    cur = Section.PRE_DATA
    for d in ds:
        if d.entry.section != Section.NONE:
            cur = d.entry.section
        section[d.entry.dump_id] = cur
    chosen_ids = {d.entry.dump_id for d in ds if d.reqs & mask}
    full = {i for i in chosen_ids if by_id[i].entry.desc not in DEPENDENT_DESCS}
    work = list(chosen_ids)

    def relations_of(d: object) -> list[int]:
        rels = []
        for dep in d.entry.dependencies:  # type: ignore[attr-defined]
            p = by_id.get(dep)
            if p is None:
                continue
            if p.entry.desc in TABLE_LIKE and p.entry.desc != "SEQUENCE":
                rels.append(dep)
            elif d.entry.desc == "SEQUENCE OWNED BY" and p.entry.desc == "SEQUENCE":  # type: ignore[attr-defined]
                rels += [x for x in p.entry.dependencies
                         if x in by_id and by_id[x].entry.desc in TABLE_LIKE]
        return rels

    def take(d: object, why: str, parent: object, owner: bool, needed: bool = False
             ) -> None:
        i = d.entry.dump_id  # type: ignore[attr-defined]
        if i in chosen_ids:
            if owner and i not in full:
                full.add(i)
                work.append(i)
                if d.needed:  # type: ignore[attr-defined]
                    d.needed = False  # type: ignore[attr-defined]
                    d.reason = why  # type: ignore[attr-defined]
                    d.pulled_by = [*(d.pulled_by or []),  # type: ignore[attr-defined]
                                   parent.entry.dump_id]
            return
        reqs = _required(d.entry, section[i], mask_opts, None, by_id)  # type: ignore[attr-defined]
        if not reqs & mask:
            return
        d.reqs = reqs  # type: ignore[attr-defined]
        d.reason = why  # type: ignore[attr-defined]
        d.needed = needed  # type: ignore[attr-defined]
        d.pulled_by = [*(d.pulled_by or []), parent.entry.dump_id]  # type: ignore[attr-defined]
        chosen_ids.add(i)
        if owner:
            full.add(i)
        work.append(i)

    while work:
        i = work.pop()
        d = by_id[i]
        e = d.entry
        for dep in dict.fromkeys(e.dependencies):
            p = by_id.get(dep)
            if p is not None:
                take(p, f"needed by {e.label}", d, False, needed=True)
        owner_full = i in full and e.desc in OWNERS
        partitioned = e.desc == "TABLE" and "PARTITION BY" in (e.defn or "")
        for c in children.get(i, []):
            ce = c.entry
            if ce.desc in BINDINGS:
                if sel.with_fks and owner_full and ce.desc == "FK CONSTRAINT":
                    src, ref = fk_tables(ce, by_id)
                    if src == i and ref is not None:
                        name = fk_name(ce, e)
                        take(by_id[ref], f"referenced by foreign key {name} of "
                             f"{_qualified(e)} (--with-fks)", d, True)
                        take(c, f"foreign key of {_qualified(e)} (--with-fks)", d, False)
                        continue
                if ce.dump_id not in chosen_ids and all(r in full for r in relations_of(c)):
                    take(c, f"ties selected tables ({e.label})", d, False)
            elif ce.desc in ALWAYS_ALONG or (owner_full and ce.desc in BELONGINGS):
                take(c, f"belongs to {e.label}", d, True)
            elif owner_full and partitioned and ce.desc == "TABLE":
                take(c, f"partition of {e.label}", d, True)


CLOSURE_DESCS = ["TABLE", "TABLE DATA", "SEQUENCE", "SEQUENCE SET", "SEQUENCE OWNED BY",
                 "FK CONSTRAINT", "TABLE ATTACH", "INDEX", "INDEX ATTACH", "COMMENT", "ACL",
                 "VIEW", "FUNCTION", "SCHEMA", "DOMAIN", "CONSTRAINT", "DEFAULT"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CLOSURE_DESCS),
                          st.lists(st.integers(1, 14), max_size=5),
                          st.sampled_from(["t", "u", "v"]), st.booleans()),
                min_size=1, max_size=14),
       st.sampled_from(["t", "u*", "*"]), st.booleans())
def test_with_deps_keeps_its_rules(spec: list[tuple[str, list[int], str, bool]],
                                   table_name: str, with_fks: bool) -> None:
    """The linear closure decides exactly as the one it replaced, on random graphs."""
    import copy

    from pgarchive import selection

    entries = [TocEntry(i, desc in ("TABLE DATA", "SEQUENCE SET"), 0, i, tag, desc,
                        Section.PRE_DATA,
                        ("CREATE TABLE x () PARTITION BY RANGE (a);" if part else "X;"),
                        "", None, "public", "", "", 0, "o", False, tuple(deps))
               for i, (desc, deps, tag, part) in enumerate(spec, 1)]
    sel = Selection(RestoreOptions(tables=(table_name,), sel_table=True), with_deps=True,
                    with_fks=with_fks)
    plain = selection.required(entries, sel.restore)
    mask = selection.Req.SCHEMA | selection.Req.DATA | selection.Req.STATS
    for d in plain:
        if d.reqs & mask:
            d.reason = "selected"
    mine, theirs = copy.deepcopy(plain), copy.deepcopy(plain)
    selection._close(mine, sel)
    _reference_close(theirs, sel)  # type: ignore[arg-type]
    assert [(d.entry.dump_id, d.reqs, d.reason, d.pulled_by) for d in mine] == \
        [(d.entry.dump_id, d.reqs, d.reason, d.pulled_by) for d in theirs]
