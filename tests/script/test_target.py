"""``--target-version``: every rule tested on a real server of each older major.

An archive made by pg_dump 18 of a database using everything target_features.sql uses
(each rule's reason to exist) is turned into a script for 14, 15, 16 and 17; psql runs it
on a server of that major with ON_ERROR_STOP, and the catalogs show what each rule did.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from helpers import make_features_archive
from pgarchive.cli import cli
from pgarchive.script.target import rules

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def features_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_features_archive(tmp_path_factory.mktemp("target") / "features.dump")


def _script(archive: Path, *args: str) -> str:
    res = CliRunner().invoke(cli, ["sql", str(archive), "-C", "--restrict-key", "k", *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def _run_on(major: int, script: str, tmp: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    import pgenv

    f = tmp / f"script_{major}.sql"
    f.write_text(script)
    f.chmod(0o644)
    cluster = pgenv.cluster(major)
    c = cluster.__enter__()
    try:
        c.psql("postgres", "CREATE ROLE tv_owner")
        res = subprocess.run([c.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                              "postgres", "-f", str(f)], env=c.client_env(),
                             capture_output=True, text=True)
        facts = {
            "generated": c.psql("tv", "SELECT attname, attgenerated FROM pg_attribute WHERE "
                                "attrelid = 'tv.gen'::regclass AND attnum > 0 ORDER BY 1"),
            "checks": c.psql("tv", "SELECT conname, convalidated FROM pg_constraint WHERE "
                             "conrelid = 'tv.nn'::regclass ORDER BY 1"),
            "rows": c.psql("tv", "SELECT count(*) FROM tv.gen"),
            "subs": c.psql("tv", "SELECT subname, subenabled FROM pg_subscription"),
            "pubs": c.psql("tv", "SELECT string_agg(pubname, ',' ORDER BY pubname) "
                           "FROM pg_publication"),
        } if res.returncode == 0 else {}
    finally:
        cluster.__exit__(None, None, None)
    return res, facts


@pytest.mark.parametrize("major", [14, 15, 16, 17])
def test_script_restores_on_older_server(major: int, features_archive: Path,
                                         tmp_path: Path) -> None:
    script = _script(features_archive, "--target-version", str(major))
    res, facts = _run_on(major, script, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "ERROR" not in res.stderr
    # Every rule meant for this major did something, and said so.
    for rule in rules(major):
        if rule.since != 99:
            assert rule.note in script, rule.name
    assert facts["generated"].splitlines() == ["a|", "b|s", "c|s"]  # VIRTUAL made STORED
    assert facts["checks"].splitlines() == ["nn_a_not_null|f"]     # NOT VALID kept
    assert facts["rows"].strip() == "2"
    assert facts["subs"].strip() == "tv_sub|f"
    # FOR TABLES IN SCHEMA left out before 15: the publication is there, publishing nothing
    assert facts["pubs"].strip() == "tv_cols_pub,tv_pub,tv_schema_pub"


def test_without_target_version_older_servers_fail(features_archive: Path,
                                                   tmp_path: Path) -> None:
    """What the rules are for: pg_restore 18's own script stops on PostgreSQL 17."""
    res, _ = _run_on(17, _script(features_archive), tmp_path)
    assert res.returncode != 0
    assert "transaction_timeout" not in res.stderr  # 17 knows it; something newer fails


def test_target_18_changes_nothing(features_archive: Path) -> None:
    assert _script(features_archive, "--target-version", "18") == _script(features_archive)


def test_unknown_target_refused(features_archive: Path) -> None:
    res = CliRunner().invoke(cli, ["sql", str(features_archive), "--target-version", "12"])
    assert res.exit_code != 0
    assert "not supported" in str(res.exception) or "not supported" in res.output


def test_rules_list_their_versions() -> None:
    names = {r.name for r in rules(14)}
    assert {"transaction_timeout", "statistics", "MAINTAIN privilege",
            "NULLS NOT DISTINCT", "subscription options"} <= names
    assert {r.name for r in rules(17)} & {"NULLS NOT DISTINCT"} == set()


def test_corpus_for_15_restores_like_pg_dump_15(tmp_path: Path) -> None:
    """The pg_dump 18 archive of corpus.sql, as --target-version 15 writes it and psql 15
    runs it, gives the database that pg_restore 15 makes of pg_dump 15's archive of the
    same corpus.sql: pg_dump 15 of both (schema and data) is the same."""
    import pgenv
    from helpers import TESTDATA

    script = tmp_path / "for15.sql"
    res = CliRunner().invoke(cli, ["sql", str(TESTDATA / "pg18" / "custom.dump"),
                                   "--target-version", "15", "-f", str(script)])
    assert res.exit_code == 0, res.output
    script.chmod(0o644)
    with pgenv.cluster(15) as c:
        c.psql("postgres", 'CREATE ROLE alice; CREATE ROLE "Bob Smith"; CREATE ROLE reader')
        for db in ("from15", "from18"):
            c.run(["createdb", "-T", "template0", "-E", "UTF8", db])
        c.run(["pg_restore", "-d", "from15", "--exit-on-error",
               str(TESTDATA / "pg15" / "custom.dump")], capture_output=True)
        run = subprocess.run([c.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                              "from18", "-f", str(script)], env=c.client_env(),
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        dumps = {}
        for db in ("from15", "from18"):
            out = c.run(["pg_dump", "--restrict-key", "k", db], capture_output=True).stdout
            dumps[db] = out.decode().replace(f"\\connect {db}", "")
    a, b = dumps["from15"].splitlines(), dumps["from18"].splitlines()
    import difflib

    assert a == b, "\n".join(list(difflib.unified_diff(a, b, lineterm="", n=1))[:80])
