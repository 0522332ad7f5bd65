"""Older archive versions: entries rewritten as the older pg_dump wrote them (checked against
the same database dumped by pg_dump 15 and 16), read by the real pg_restore 15, and refused
with the reason where the older version cannot say the same thing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import pgarchive
from convert_helpers import checksums, run_pg_restore, script
from helpers import TESTDATA
from pgarchive.compression import CompressionSpec
from pgarchive.convert import ConvertOptions, convert, make_plan
from pgarchive.convert.versions import lo_command_for, parse, readers
from pgarchive.errors import UsageError
from pgarchive.format.constants import (
    K_VERS_1_12,
    K_VERS_1_13,
    K_VERS_1_14,
    K_VERS_1_15,
    K_VERS_1_16,
    Compression,
    Section,
)
from pgarchive.format.model import TocEntry

LO_DESCS = ("BLOB", "BLOBS", "BLOB METADATA")


def _lo_entries(path: Path) -> tuple[list[tuple[Any, ...]], dict[int, TocEntry]]:
    """The large-object entries without their dump ids, dependencies named by tag."""
    with pgarchive.open(str(path)) as a:
        by_id = {e.dump_id: e for e in a.entries}
        out = []
        for e in a.entries:
            if e.desc in LO_DESCS or e.tag.startswith("LARGE OBJECT"):
                deps = tuple(by_id[d].tag for d in e.dependencies if d in by_id)
                out.append((e.table_oid, e.oid, e.tag, e.desc, e.section, e.defn, e.drop_stmt,
                            e.owner, e.had_dumper, deps))
        return out, by_id


@pytest.mark.parametrize(("new", "old"), [("pg18/custom.dump", "pg16/custom.dump"),
                                          ("pg17/custom.dump", "pg16/custom.dump"),
                                          ("samples/bigoid18.dump", "samples/bigoid15.dump")])
def test_large_objects_are_written_as_older_pg_dump_wrote_them(new: str, old: str,
                                                               tmp_path: Path) -> None:
    """The 1.16 dump converted to 1.15 has the same large-object entries -- fields,
    dependencies, data -- as the same database dumped by pg_dump 15/16."""
    out = tmp_path / "old.dump"
    report = convert(str(TESTDATA / new), str(out), ConvertOptions(version=K_VERS_1_15))
    assert any("large objects" in n for n in report.notes)
    mine, _ = _lo_entries(out)
    theirs, _ = _lo_entries(TESTDATA / old)
    assert sorted(mine, key=repr) == sorted(theirs, key=repr)
    with pgarchive.open(str(out)) as a, pgarchive.open(str(TESTDATA / old)) as b:
        assert dict(a.read_large_objects()) == dict(b.read_large_objects())
        assert len({e.dump_id for e in a.entries}) == len(a.entries)  # fresh ids are unique
        assert a.header.version == K_VERS_1_15


def test_group_acls_become_one_per_object() -> None:
    """A 1.16 ACL for a group of large objects is pg_restore 17's IssueACLPerBlob, stored
    as one entry per object; quoted role names are left alone."""
    defn = ('REVOKE ALL ON LARGE OBJECT 16501 FROM "LARGE OBJECT 16501";\n'
            "GRANT SELECT,UPDATE ON LARGE OBJECT 16501 TO reader;\n")
    assert lo_command_for(defn, "3000000000") == (
        'REVOKE ALL ON LARGE OBJECT 3000000000 FROM "LARGE OBJECT 16501";\n'
        "GRANT SELECT,UPDATE ON LARGE OBJECT 3000000000 TO reader;\n")
    meta = TocEntry(10, False, 2613, 16501, "16501..16503", "BLOB METADATA", Section.DATA,
                    "16501\n16502\n16503\n", "-- dummy", None, None, None, None, 0, "bob",
                    False, ())
    acl = TocEntry(11, False, 0, 0, "LARGE OBJECTS 16501..16503", "ACL", Section.NONE, defn,
                   None, None, None, None, None, 0, "bob", False, (10,))
    comment = TocEntry(12, False, 0, 0, "LARGE OBJECT 16502", "COMMENT", Section.NONE,
                       "COMMENT ON LARGE OBJECT 16502 IS 'x';\n", None, None, None, None,
                       None, 0, "bob", False, (10,))
    blobs = TocEntry(13, True, 0, 0, "16501..16503", "BLOBS", Section.DATA, None, None, None,
                     None, None, None, 0, "bob", False, (10, 99))
    from pgarchive.format.constants import ArchiveFormat
    from pgarchive.format.model import Header

    h = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, Compression.NONE, None,
               (0, 0, 0, 1, 0, 120, 0), "db", "17", "17", 4, 0)
    plan = make_plan(h, "custom", [meta, acl, comment, blobs],
                     ConvertOptions(version=K_VERS_1_14))
    got = [(i.entry.dump_id, i.entry.desc, i.entry.tag, i.entry.dependencies)
           for i in plan.entries]
    assert got == [(10, "BLOB", "16501", ()), (100, "BLOB", "16502", ()),
                   (101, "BLOB", "16503", ()),
                   (11, "ACL", "LARGE OBJECT 16501", (10,)),
                   (102, "ACL", "LARGE OBJECT 16502", (100,)),
                   (103, "ACL", "LARGE OBJECT 16503", (101,)),
                   (12, "COMMENT", "LARGE OBJECT 16502", (100,)),
                   (13, "BLOBS", "BLOBS", ())]
    assert plan.entries[5].entry.defn == lo_command_for(defn, "16503")
    assert plan.entries[-1].sources == (blobs,)
    assert plan.header.toc_count == 8 and plan.header.compression_level == 0


PG15_READS = ["pg16/custom.dump", "pg16/custom_lz4.dump", "pg16/dir_zstd", "pg16/tar.tar",
              "pg17/custom.dump", "pg17/dir", "pg17/custom_zstd.dump", "pg17/data_only.dump",
              "pg18/custom.dump", "pg18/custom_pipe.dump", "pg18/dir_lz4", "pg18/tar.tar",
              "pg18/schema_only.dump", "pg18/data_only.dump", "samples/bigoid18.dump"]
COPY_BLOCK = re.compile(rb"^COPY .*? FROM stdin;\n.*?^\\\.\n", re.S | re.M)
LO_WRITE = re.compile(rb"^SELECT pg_catalog\.lo_open\('(\d+)'.*?lo_close\(0\);\n", re.S | re.M)


@pytest.mark.parametrize("name", PG15_READS)
def test_pg_restore_15_reads_the_1_14_archive(name: str, tmp_path: Path) -> None:
    """-l and -f work; the script has the same table data (COPY blocks) and large objects
    as pg_restore 18's script of the original; verify finds the same data."""
    src = TESTDATA / name
    out = tmp_path / ("out" if (src.is_dir()) else "out.dump")
    report = convert(str(src), str(out), ConvertOptions(version=K_VERS_1_14))
    assert report.archive_version == "1.14"
    assert "PostgreSQL 12 and later" in report.readers
    listed = run_pg_restore(["-l", str(out)], major=15)
    assert listed.returncode == 0, listed.stderr.decode()
    assert b"Dump Version: 1.14-0" in listed.stdout
    old = script(out, major=15)
    new = script(src)
    assert sorted(COPY_BLOCK.findall(old)) == sorted(COPY_BLOCK.findall(new))
    assert sorted(LO_WRITE.findall(old)) == sorted(LO_WRITE.findall(new))
    assert b"lo_create" in old or not LO_WRITE.findall(new)
    mine = checksums(out)
    theirs = checksums(src)
    assert sorted(v for v in mine.values() if v[3] is None) == \
        sorted(v for v in theirs.values() if v[3] is None)  # table data, by content
    assert sum(v[3] or 0 for v in mine.values()) == sum(v[3] or 0 for v in theirs.values())


def test_archive_1_12_and_1_13_are_read_as_such(tmp_path: Path) -> None:
    for v, text in ((K_VERS_1_13, "1.13-0"), (K_VERS_1_12, "1.12-0")):
        out = tmp_path / f"{v}.dump"
        report = convert(str(TESTDATA / "pg18" / "custom.dump"), str(out),
                         ConvertOptions(version=v))
        assert any("access methods" in n for n in report.notes)
        listed = run_pg_restore(["-l", str(out)], major=15)
        assert listed.returncode == 0 and f"Dump Version: {text}".encode() in listed.stdout
        with pgarchive.open(str(out)) as a:
            assert all(e.tableam is None for e in a.entries)
        assert script(out, major=15).count(b"COPY ") == script(
            TESTDATA / "pg18" / "custom.dump").count(b"COPY ")
    assert "10.3" in readers(K_VERS_1_13) and "9.0" in readers(K_VERS_1_12)


def _header(version: int, compression: Compression = Compression.GZIP) -> Any:
    from pgarchive.format.constants import ArchiveFormat
    from pgarchive.format.model import Header

    level = None if version >= K_VERS_1_15 else (0 if compression == Compression.NONE else -1)
    return Header(1, (version >> 8) & 0xFF, 0, 4, 8, ArchiveFormat.CUSTOM, compression, level,
                  (0, 0, 0, 1, 0, 120, 0), "db", "17", "17", 0, 0)


def _table(**kw: Any) -> TocEntry:
    base = TocEntry(5, False, 1259, 77, "t", "TABLE", Section.PRE_DATA, "CREATE TABLE t ();\n",
                    "DROP TABLE t;\n", None, "public", "", "heap", ord("r"), "bob", False, ())
    return base._replace(**kw)


@pytest.mark.parametrize(("version", "entry", "asked", "message"), [
    (K_VERS_1_16, _table(relkind=ord("p"), tableam="columnar"), K_VERS_1_15,
     "partitioned table with table access method 'columnar'"),
    (K_VERS_1_14, _table(tableam="columnar"), K_VERS_1_13,
     "uses table access method 'columnar'; archive versions before 1.14"),
])
def test_what_an_older_version_cannot_say_is_refused(version: int, entry: TocEntry,
                                                     asked: int, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make_plan(_header(version), "custom", [entry], ConvertOptions(version=asked))


def test_partitioned_tables_without_access_method_go_back() -> None:
    plan = make_plan(_header(K_VERS_1_16), "custom",
                     [_table(relkind=ord("p"), tableam=None)], ConvertOptions(version=K_VERS_1_15))
    assert plan.entries[0].entry.tableam is None


@pytest.mark.parametrize(("version", "opts", "message"), [
    (K_VERS_1_14, ConvertOptions(version=K_VERS_1_16), "raises versions only up to 1.15"),
    (K_VERS_1_15, ConvertOptions(compression=CompressionSpec.parse("zstd"),
                                 version=K_VERS_1_14),
     "zstd compression needs archive version 1.15 or later"),
    (K_VERS_1_16, ConvertOptions(kind="tar", compression=CompressionSpec.parse("gzip")),
     "tar archives hold uncompressed data"),
])
def test_impossible_requests_are_refused(version: int, opts: ConvertOptions,
                                         message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make_plan(_header(version), "custom", [_table()], opts)


def test_lz4_asked_of_a_1_14_archive_raises_it_to_1_15() -> None:
    plan = make_plan(_header(K_VERS_1_14), "custom", [_table()],
                     ConvertOptions(compression=CompressionSpec.parse("lz4")))
    assert plan.header.version == K_VERS_1_15 and plan.header.compression_level is None
    assert "raised from 1.14 to 1.15" in plan.notes[0]
    kept = make_plan(_header(K_VERS_1_16, Compression.LZ4), "custom", [_table()],
                     ConvertOptions(version=K_VERS_1_14))
    assert kept.spec.algorithm == Compression.GZIP and kept.header.compression_level == -1
    assert "recompressed with gzip" in kept.notes[0]


def test_gzip_level_is_recorded_before_1_15() -> None:
    plan = make_plan(_header(K_VERS_1_16), "custom", [_table()],
                     ConvertOptions(compression=CompressionSpec.parse("gzip:9"),
                                    version=K_VERS_1_14))
    assert plan.header.compression_level == 9
    same = make_plan(_header(K_VERS_1_14)._replace(compression_level=5), "custom", [_table()],
                     ConvertOptions())
    assert same.header.compression_level == 5 and same.source_level == 5


@pytest.mark.parametrize("text", ["1.11", "1.17", "2.0", "x"])
def test_unknown_versions_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match=re.escape("convert writes archive versions 1.12, "
                                                   "1.13, 1.14, 1.15, 1.16")):
        parse(text)
    assert parse("1.16") == K_VERS_1_16
