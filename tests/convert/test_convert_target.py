"""``convert --target-version``: the entries' SQL adapted by the rules of ``sql
--target-version`` (the same text the script gets), and the result restored by the real
pg_restore 15 into a real PostgreSQL 15 server."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import pgarchive
from helpers import make_features_archive
from pgarchive.convert import ConvertOptions, convert, make_plan
from pgarchive.errors import UsageError
from pgarchive.format.constants import K_VERS_1_14, K_VERS_1_16, ArchiveFormat, Compression
from pgarchive.format.constants import Section as S
from pgarchive.format.model import Header, TocEntry
from pgarchive.script import model as m
from pgarchive.script.target import adapt

HEADER = Header(1, 16, 0, 4, 8, ArchiveFormat.CUSTOM, Compression.NONE, None,
                (0, 0, 0, 1, 0, 125, 0), "db", "18", "18", 0, 0)


def entry(dump_id: int, desc: str, defn: str, tag: str = "x", section: S = S.PRE_DATA,
          drop: str | None = None, relkind: int = 0, tableam: str | None = None,
          deps: tuple[int, ...] = ()) -> TocEntry:
    return TocEntry(dump_id, False, 0, 0, tag, desc, section, defn, drop, None, "tv", None,
                    tableam, relkind, "me", False, deps)


ENTRIES = [
    entry(1, "TABLE", "CREATE TABLE tv.gen (\n    a integer,\n    b integer GENERATED ALWAYS "
          "AS ((a * 2))\n);\n", tag="gen", drop="DROP TABLE tv.gen;\n", relkind=ord("r"),
          tableam="heap"),
    entry(2, "TABLE", "CREATE TABLE tv.parted (\n    id integer\n)\nPARTITION BY LIST (id);\n",
          tag="parted", relkind=ord("p"), tableam="heap"),
    entry(3, "EVENT TRIGGER", "CREATE EVENT TRIGGER tv_login ON login\n   EXECUTE FUNCTION "
          "tv.on_login();\n", tag="tv_login", drop="DROP EVENT TRIGGER tv_login;\n"),
    entry(4, "COMMENT", "COMMENT ON EVENT TRIGGER tv_login IS 'hi';\n",
          tag="EVENT TRIGGER tv_login", section=S.NONE, deps=(3,)),
    entry(5, "ACL", "GRANT MAINTAIN,SELECT ON TABLE tv.gen TO tv_owner;\n"
          "GRANT SELECT ON TABLE tv.gen TO pg_maintain;\n", tag="TABLE gen", section=S.NONE,
          deps=(1,)),
    entry(6, "STATISTICS DATA", "SELECT * FROM pg_catalog.pg_restore_relation_stats(\n"
          "\t'version', '180000'::integer);\n", tag="gen", section=S.DATA, deps=(1,)),
    entry(7, "INDEX", "CREATE UNIQUE INDEX u_b_idx ON tv.u USING btree (b) NULLS NOT "
          "DISTINCT;\n", tag="u_b_idx", section=S.POST_DATA),
    entry(8, "VIEW", "CREATE VIEW tv.v AS\n SELECT 1;\n", tag="v"),
]


def _planned(target: int | None, version: int | None = None) -> tuple[list[TocEntry],
                                                                        list[str]]:
    plan = make_plan(HEADER, "custom", ENTRIES, ConvertOptions(target_version=target,
                                                                version=version))
    return [i.entry for i in plan.entries], plan.notes


def _script_text(e: TocEntry, target: int) -> str:
    """What sql --target-version makes of the entry's definition."""
    (step,) = adapt([m.Step(e, m.SCHEMA, [(m.SQL, e.defn or "")])], target, "UTF8")
    return step.text()


@pytest.mark.parametrize("target", [14, 15, 16, 17])
def test_definitions_adapted_as_the_script_is(target: int) -> None:
    """Each definition becomes what sql --target-version writes for it (comment marks
    included); an entry a rule leaves out keeps its place, id and dependencies."""
    got, notes = _planned(target)
    assert [e.dump_id for e in got] == [e.dump_id for e in ENTRIES]
    assert [e.dependencies for e in got] == [e.dependencies for e in ENTRIES]
    gone = [e for e in ENTRIES if e.desc == "EVENT TRIGGER"]
    for before, after in zip(ENTRIES, got, strict=True):
        if before.desc == "COMMENT":  # names the event trigger left out (17 knows login)
            if target < 17:
                assert after.defn == ("-- pgarchive --target-version "
                                      f"{target}: left out: it names an event trigger left "
                                      "out above\n-- " + (before.defn or ""))
            continue
        assert after.defn == _script_text(before, target), before.desc
    assert (got[2].drop_stmt == "") == (target < 17) and gone  # so no ALTER ... OWNER
    mark, sql = (got[0].defn or "").split("\n", 1)
    assert mark.startswith(f"-- pgarchive --target-version {target}: ")
    assert "GENERATED ALWAYS AS ((a * 2)) STORED\n" in sql
    assert got[1].tableam == (None if target < 17 else "heap")
    assert ("MAINTAIN" in (got[4].defn or "").split("--")[-1]) == (target >= 17)
    assert all(line.startswith("--") for line in (got[5].defn or "").splitlines())
    assert any("make" in n or "STORED" in n for n in notes), notes


def test_target_18_and_none_change_nothing() -> None:
    assert _planned(18)[0] == _planned(None)[0] == ENTRIES


def test_older_version_needs_the_access_method_left_out() -> None:
    """A partitioned table's access method has no place before 1.16: refused, unless the
    target server (before 17) could not take it anyway."""
    with pytest.raises(UsageError, match="partitioned table"):
        _planned(None, K_VERS_1_14)
    with pytest.raises(UsageError, match="partitioned table"):
        _planned(17, K_VERS_1_14)
    got, notes = _planned(16, K_VERS_1_14)
    assert got[1].tableam is None
    assert any("access method of a partitioned table" in n for n in notes)
    assert any("pg_restore of PostgreSQL 16" in n for n in notes)


def test_unknown_target_refused() -> None:
    with pytest.raises(UsageError, match="not supported"):
        _planned(13)


@pytest.fixture(scope="module")
def features_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_features_archive(tmp_path_factory.mktemp("target") / "features.dump")


@pytest.mark.slow
@pytest.mark.server
def test_pg_restore_15_restores_it_on_postgresql_15(features_archive: Path,
                                                     tmp_path: Path) -> None:
    """pg_dump 18's archive of everything 15-18 added: as it is, pg_restore 15 cannot
    read it (and convert refuses 1.14 for the partitioned table's access method); with
    --archive-version 1.14 --target-version 15, pg_restore 15 -C restores it into
    PostgreSQL 15 without an error, with what each rule kept."""
    import pgenv

    with pytest.raises(UsageError, match="partitioned table"):
        convert(str(features_archive), str(tmp_path / "no.dump"),
                ConvertOptions(version=K_VERS_1_14))
    out = tmp_path / "for15.dump"
    report = convert(str(features_archive), str(out),
                     ConvertOptions(version=K_VERS_1_14, target_version=15))
    assert any("--target-version 15" in n for n in report.notes)
    with pgarchive.open(str(features_archive)) as a:
        assert a.header.version >= K_VERS_1_16
    with pgenv.cluster(15) as c:
        c.psql("postgres", "CREATE ROLE tv_owner")
        res = subprocess.run([c.tool("pg_restore"), "-C", "-d", "postgres",
                              "--exit-on-error", str(out)], env=c.client_env(),
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
        assert c.psql("tv", "SELECT attname, attgenerated FROM pg_attribute WHERE "
                      "attrelid = 'tv.gen'::regclass AND attnum > 0 ORDER BY 1"
                      ).splitlines() == ["a|", "b|s", "c|s"]  # VIRTUAL made STORED
        assert c.psql("tv", "SELECT conname, convalidated FROM pg_constraint WHERE "
                      "conrelid = 'tv.nn'::regclass ORDER BY 1").splitlines() == \
            ["nn_a_not_null|f"]
        assert c.psql("tv", "SELECT count(*) FROM tv.gen").strip() == "2"
        assert c.psql("tv", "SELECT subname, subenabled FROM pg_subscription").strip() == \
            "tv_sub|f"
        assert c.psql("tv", "SELECT string_agg(pubname, ',' ORDER BY pubname) FROM "
                      "pg_publication").strip() == "tv_cols_pub,tv_pub,tv_schema_pub"
