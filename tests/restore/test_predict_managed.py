"""Predicted failures against the real pg_restore (issue #14).

Each case restores an archive of testdata/managed (or the pg_dump 10 archive of
testdata/pg10, or the corpus archive of testdata/pg18) with the real pg_restore
--verbose, as a role that owns the target database but is not a superuser, into a server
whose installation lacks the citext and cube extensions, and compares the entries
pg_restore prints ``from TOC entry N`` for with the prediction made beforehand from the
target's catalogs: the two sets must be equal.
Then ``pgarchive restore --skip-unrestorable`` must restore with no pg_restore error and
every restored table's row count equal to the archive's.

Targets: PostgreSQL 18 (restored with pg_restore 18) and 15 (with pg_restore 15 and 18;
pg_dump 18 archives go into 15 too, where what 15 does not know fails).
Roles there: app_owner, reader, stranger, side_owner (not ghost_owner nor ghost_reader),
and two restoring roles with CREATEDB:

* app_admin: a member of app_owner; on 18 also of side_owner WITH INHERIT FALSE (it can
  give objects to side_owner but has none of its privileges);
* ops_admin: a member of app_owner and stranger, on 16+ of pg_create_subscription; its
  databases are "prepared" as providers do: hstore, plpython3u and file_fdw installed by a
  superuser, USAGE on file_fdw granted.

The 15 server has tablespace archive_ts (CREATE granted to ops_admin only); 18 has none.
One case restores as the superuser: what is left to fail is what the server lacks.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from helpers import TESTDATA
from pgarchive import open as pgarchive_open
from pgarchive.restore.predict import Prediction, PredictOptions, predict, roles_of_interest
from pgarchive.restore.targetfacts import TargetFacts, gather
from pgarchive.selection import RestoreOptions, Selection, chosen, select

sys.path.insert(0, str(TESTDATA))
import pgenv

MANAGED = TESTDATA / "managed"
LEGACY = TESTDATA / "pg10" / "custom.dump"
CORPUS = TESTDATA / "pg18" / "custom.dump"
MISSING_EXTENSIONS = ("citext", "cube")
PREPARED = ("CREATE EXTENSION hstore; CREATE EXTENSION plpython3u; CREATE EXTENSION file_fdw; "
            "GRANT USAGE ON FOREIGN DATA WRAPPER file_fdw TO ops_admin")
_db = itertools.count()
_TOC = re.compile(r"^pg_restore: from TOC entry (\d+); ")


def _roles_sql(major: int) -> str:
    sql = ("CREATE ROLE app_admin LOGIN CREATEDB; CREATE ROLE ops_admin LOGIN CREATEDB; "
           "CREATE ROLE app_owner; CREATE ROLE reader; CREATE ROLE stranger; "
           "CREATE ROLE side_owner; GRANT app_owner TO app_admin; "
           "GRANT app_owner, stranger TO ops_admin; ")
    if major >= 16:
        sql += ("GRANT side_owner TO app_admin WITH INHERIT FALSE, SET TRUE; "
                "GRANT pg_create_subscription TO ops_admin; ")
    return sql


@pytest.fixture(scope="module")
def managed_servers() -> Iterator[dict[int, pgenv.Cluster]]:
    """PostgreSQL 18 and 15 servers whose installations lack citext and cube."""
    with tempfile.TemporaryDirectory(prefix="pgarchive-managed-") as tmp:
        Path(tmp).chmod(0o755)
        out: dict[int, pgenv.Cluster] = {}
        inst18 = pgenv.installation_without(18, Path(tmp) / "18", MISSING_EXTENSIONS)
        inst15 = pgenv.installation_without(15, Path(tmp) / "15", MISSING_EXTENSIONS)
        with pgenv.cluster(18, install=inst18) as c18, pgenv.cluster(15, install=inst15) as c15:
            for c in (c18, c15):
                c.psql("postgres", _roles_sql(c.major))
            ts = c15.datadir.parent / "archive_ts"
            ts.mkdir()
            if c15.user:
                import pwd

                os.chown(ts, pwd.getpwnam(c15.user).pw_uid, -1)
            c15.psql("postgres", f"CREATE TABLESPACE archive_ts LOCATION '{ts}'")
            c15.psql("postgres", "GRANT CREATE ON TABLESPACE archive_ts TO ops_admin")
            out[18], out[15] = c18, c15
            yield out


@dataclass(frozen=True)
class Case:
    """One restore: archive, target major, pg_restore major, restoring role, options."""

    archive: Path
    major: int
    pg_restore: int
    role: str
    options: tuple[str, ...] = ()

    @property
    def prepared(self) -> bool:
        return self.role in ("ops_admin", "postgres")

    @property
    def id(self) -> str:
        name = self.archive.parent.name + "/" + self.archive.stem
        return (f"{name}-into{self.major}-pg_restore{self.pg_restore}-{self.role}-"
                + ("_".join(o.strip("-") for o in self.options) or "plain"))


def _cases() -> list[Case]:
    m18, m15 = MANAGED / "pg18" / "managed.dump", MANAGED / "pg15" / "managed.dump"
    label18 = MANAGED / "pg18" / "seclabel.dump"
    sets: list[tuple[str, ...]] = [(), ("-O",), ("-x",), ("-O", "-x")]
    out = [Case(m18, 18, 18, "app_admin", o) for o in sets]
    out += [Case(m18, 18, 18, "ops_admin", o) for o in [(), ("-O", "-x")]]
    out += [Case(m18, 18, 18, "app_admin", o) for o in
            [("-1",), ("-C",), ("-C", "-O"), ("--role", "app_owner")]]
    out += [Case(label18, 18, 18, "app_admin", o) for o in [(), ("-O", "-x")]]
    out += [Case(label18, 18, 18, "ops_admin", ("-O",))]
    out += [Case(LEGACY, 18, 18, "app_admin", o) for o in sets]
    out += [Case(CORPUS, 18, 18, "app_admin", o) for o in [(), ("-O", "-x")]]
    out += [Case(m18, 18, 18, "postgres", ())]  # a superuser: what is left is the server's
    out += [Case(m15, 15, 15, "app_admin", o) for o in sets]
    out += [Case(m15, 15, 18, "ops_admin", o) for o in [(), ("-O", "-x")]]
    out += [Case(LEGACY, 15, 15, "app_admin", o) for o in sets]
    # pg_dump 18 archives into PostgreSQL 15 (pg_restore 18: no older one reads them):
    # statistics, a partitioned table's access method, subscription options and grants
    # to predefined roles that 15 does not know
    out += [Case(m18, 15, 18, r) for r in ("app_admin", "postgres")]
    out += [Case(CORPUS, 15, 18, "postgres")]
    return out


CASES = _cases()


def _new_db(c: pgenv.Cluster, case: Case) -> str:
    name = f"m{next(_db)}"
    c.run(["createdb", "-T", "template0", "-O", case.role, name])
    if case.prepared:
        c.psql(name, PREPARED)
    return name


def _option(case: Case, flag: str) -> str | None:
    opts = list(case.options)
    return opts[opts.index(flag) + 1] if flag in opts else None


def predicted(c: pgenv.Cluster, case: Case, db: str) -> tuple[Prediction, TargetFacts]:
    """The prediction for the case: what pg_restore (no -L) selects, the target's facts
    read as the restoring role."""
    role = _option(case, "--role")
    with pgarchive_open(str(case.archive)) as a:
        sel = Selection(RestoreOptions(no_acl="-x" in case.options,
                                       create="-C" in case.options))
        entries = [d.entry for d in chosen(select(a.entries, sel))]
        with psycopg.connect(c.conninfo(db, case.role), autocommit=True) as conn:
            facts = gather(conn, role, roles_of_interest(a.entries) | {case.role})
        opts = PredictOptions(no_owner="-O" in case.options,
                              single_transaction="-1" in case.options,
                              create="-C" in case.options, pg_restore_major=case.pg_restore)
        return predict(entries, facts, opts, a.entries), facts


@dataclass
class PgRestoreRun:
    failed: list[int]          # entries with "from TOC entry" lines, in order
    unattributed: list[str]    # error lines before any entry
    output: str

    def block(self, dump_id: int) -> str:
        """pg_restore's messages for one entry."""
        parts = self.output.split(f"from TOC entry {dump_id};", 1)
        if len(parts) < 2:
            return ""
        return parts[1].split("pg_restore: from TOC entry", 1)[0].strip()[:800]


def run_pg_restore(c: pgenv.Cluster, case: Case, db: str) -> PgRestoreRun:
    env = c.client_env()
    env["PGUSER"] = case.role
    res = subprocess.run([str(pgenv.bindir(case.pg_restore) / "pg_restore"), "--verbose",
                          "-d", db, *case.options, str(case.archive)],
                         env=env, capture_output=True, text=True)
    failed: list[int] = []
    unattributed: list[str] = []
    for line in res.stderr.splitlines():
        m = _TOC.match(line)
        if m:
            failed.append(int(m.group(1)))
        elif line.startswith("pg_restore: error:") and not failed:
            unattributed.append(line)
    return PgRestoreRun(failed, unattributed, res.stderr)


def _explain(pred: Prediction, run: PgRestoreRun, expected: set[int]) -> str:
    got = set(run.failed)
    lines = []
    for i in sorted(got - expected):
        lines.append(f"missed {i}: pg_restore said: {run.block(i)}")
    for f in pred.failures:
        if f.dump_id in expected - got:
            lines.append(f"false {f.dump_id} {f.desc} {f.name}: {f.cause}: {f.message}")
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_prediction_equals_pg_restore(managed_servers: dict[int, pgenv.Cluster],
                                      case: Case) -> None:
    c = managed_servers[case.major]
    db = _new_db(c, case)
    try:
        pred, facts = predicted(c, case, db)
        assert facts.superuser == (case.role == "postgres")
        run = run_pg_restore(c, case, db)
    finally:
        if "-C" in case.options:
            c.psql("postgres", "DROP DATABASE IF EXISTS managed WITH (FORCE)")
    # errors outside any entry: pg_restore 17+ sets transaction_timeout on connecting
    assert len(run.unattributed) == len(pred.session), run.output
    assert pred.failures, "every case has failures to predict"
    if "-1" in case.options and pred.session:
        expected: set[int] = set()
    elif "-1" in case.options:
        # pg_restore stops at the first error and rolls everything back
        first = pred.first()
        assert first is not None
        expected = {first.dump_id}
        assert any("rolls back everything" in n for n in pred.notes)
    else:
        expected = set(pred.ids)
    assert set(run.failed) == expected, _explain(pred, run, expected)
    assert len(run.failed) == len(set(run.failed))  # one line per failing entry


def _entry_ids(archive: Path) -> dict[tuple[str, str], int]:
    with pgarchive_open(str(archive)) as a:
        return {(e.desc, f"{e.namespace or ''}.{e.tag}"): e.dump_id for e in a.entries}


def test_causes_and_dependents(managed_servers: dict[int, pgenv.Cluster]) -> None:
    """The reasons, not only the entries: causes, the entry a dependent fails because of,
    whether the object is still created, and the fix."""
    case = Case(MANAGED / "pg18" / "managed.dump", 18, 18, "app_admin")
    c = managed_servers[18]
    pred, _ = predicted(c, case, _new_db(c, case))
    ids = _entry_ids(case.archive)
    by_id = {f.dump_id: f for f in pred.failures}

    def failure(desc: str, name: str) -> Any:
        return by_id[ids[(desc, name)]]

    citext = ids[("EXTENSION", ".citext")]
    assert failure("EXTENSION", ".citext").cause == "extension_unavailable"
    earth = failure("EXTENSION", ".earthdistance")  # requires cube, which fails
    assert (earth.cause, earth.because_of) == ("dependency", ids[("EXTENSION", ".cube")])
    assert failure("EXTENSION", ".pageinspect").cause == "extension_superuser"
    for desc, name in [("TABLE", "app.customers"), ("TABLE DATA", "app.customers"),
                       ("INDEX", "app.customers_name_trgm"),
                       ("FK CONSTRAINT", "app.orders orders_customer_id_fkey"),
                       ("COMMENT", ".EXTENSION citext")]:
        f = failure(desc, name)
        assert (f.cause, f.because_of, f.created) == ("dependency", citext, False), f
    assert failure("EVENT TRIGGER", ".app_ddl").cause == "event_trigger_superuser"
    assert failure("PUBLICATION", ".pub_all").cause == "publication_all_tables"
    assert failure("PUBLICATION", ".pub_all").fix == "--no-publications"
    assert failure("SUBSCRIPTION", ".sub_nopw").cause == "subscription_privilege"
    assert failure("ACCESS METHOD", ".heap2").cause == "access_method_superuser"
    am = failure("TABLE", "app.am_table")
    assert (am.cause, am.created, am.more[0][0]) == ("table_am_missing", True,
                                                     "owner_not_member")
    assert ids[("TABLE", "app.am_table2")] in by_id  # only its owner: the AM is set already
    assert by_id[ids[("TABLE", "app.am_table2")]].cause == "owner_not_member"
    assert ids[("TABLE DATA", "app.am_table")] not in by_id  # created: its rows load
    py = failure("FUNCTION", "app.py_add(integer, integer)")  # plpython3u is untrusted
    assert (py.cause, py.because_of) == ("dependency", ids[("EXTENSION", ".plpython3u")])
    assert failure("FUNCTION", "app.f_suset()").cause == "setting_superuser"
    ghost = failure("TABLE", "ghost.haunted")
    assert (ghost.cause, ghost.created, ghost.fix) == ("owner_missing", True, "-O")
    assert failure("TABLE", "public.app_public").cause == "owner_privilege"
    assert failure("TABLE", "side.notes").cause == "create_privilege"  # side_owner's schema
    assert failure("ACL", "app.TABLE shared").cause == "grantee_missing"
    assert failure("ACL", "app.TABLE orders").cause == "grant_privilege"  # by stranger
    assert failure("POLICY", "app.orders orders_ghost").cause == "policy_role_missing"
    assert failure("TABLE", "public.plain").cause == "tablespace_missing"


def pgarchive(*args: str, pg_restore: int = 18) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PG_RESTORE=str(pgenv.bindir(pg_restore) / "pg_restore"))
    env.pop("PGPASSWORD", None)
    return subprocess.run([sys.executable, "-m", "pgarchive", *args], capture_output=True,
                          text=True, env=env)


#: with and without -O -x, and pg_restore 18 into 15 (what 15 does not know is left out;
#: the one harmless error pg_restore 18 makes on each connection is not counted)
SKIP_CASES = [c for c in CASES if c.options in ((), ("-O", "-x"))]


@pytest.mark.slow
@pytest.mark.parametrize("case", SKIP_CASES, ids=[c.id for c in SKIP_CASES])
def test_skip_unrestorable_restores_cleanly(managed_servers: dict[int, pgenv.Cluster],
                                            case: Case) -> None:
    c = managed_servers[case.major]
    db = _new_db(c, case)
    pred, _ = predicted(c, case, db)
    # --pg-restore: the case's pg_restore, not the one pgarchive would pick for the server
    res = pgarchive("restore", str(case.archive), "-d", c.conninfo(db, case.role),
                    "--skip-unrestorable", *case.options, "--pg-restore",
                    str(pgenv.bindir(case.pg_restore) / "pg_restore"))
    assert res.returncode == 0, res.stderr
    m = re.search(r"(\d+)/(\d+) tables with matching row counts; 0 pg_restore errors",
                  res.stderr)
    assert m and m.group(1) == m.group(2), res.stderr
    # pg_restore 18 into 15: its SET transaction_timeout on connecting, known and harmless
    assert ("harmless not counted)" in res.stderr) == (case.pg_restore > case.major)
    # only the tables whose rows cannot load are left out (not those whose owner,
    # tablespace or access method fails: --skip-unrestorable adds a flag for them)
    with pgarchive_open(str(case.archive)) as a:
        sel = Selection(RestoreOptions(no_acl="-x" in case.options))
        tables = {d.entry.dump_id for d in chosen(select(a.entries, sel))
                  if d.entry.desc == "TABLE DATA" and d.entry.copy_stmt}
    assert int(m.group(2)) == len(tables - pred.ids), res.stderr
    assert "--skip-unrestorable leaves out" in res.stderr
    assert "predicted to fail" in res.stderr


def test_report_and_json(managed_servers: dict[int, pgenv.Cluster]) -> None:
    """--dry-run prints the report grouped by cause and changes nothing, and exits as the
    restore would: refused, as roles the target lacks are named (forcible); --json gives
    the same as data; --exit-on-prediction stops before writing."""
    import json

    case = Case(MANAGED / "pg18" / "managed.dump", 18, 18, "app_admin")
    c = managed_servers[18]
    db = _new_db(c, case)
    target = c.conninfo(db, case.role)
    pred, _ = predicted(c, case, db)
    text = pgarchive("restore", str(case.archive), "-d", target, "--dry-run")
    assert text.returncode == 2, text.stderr
    assert ("roles named in the selected entries do not exist on the target: ghost_owner, "
            "ghost_reader") in text.stderr
    assert "app_admin cannot act as the owners postgres, stranger of selected entries" in \
        text.stderr
    assert f"pre-flight: {len(pred.counted)} of " in text.stdout
    assert "extension not installed on the server [extension_unavailable]" in text.stdout
    assert "fail because of it:" in text.stdout and "fix: -O, or --skip-unrestorable" in \
        text.stdout
    assert "--skip-unrestorable would leave out" in text.stdout
    assert "# LIST_FILE holds the dump id" in text.stdout
    data = json.loads(pgarchive("restore", str(case.archive), "-d", target, "--dry-run",
                                "--json").stdout)
    fails = data["prediction"]["failures"]
    assert {"dump_id", "desc", "name", "cause", "because_of", "fix"} <= set(fails[0])
    assert {f["dump_id"] for f in fails} == pred.ids
    assert any(f["because_of"] is not None for f in fails)
    assert data["refused"] and data["exit_code"] == 2
    # the role problems gone (-O -x --no-policies), what is left only warns; with
    # --exit-on-prediction it refuses
    flags = ("-O", "-x", "--no-policies")
    dry = pgarchive("restore", str(case.archive), "-d", target, "--dry-run", *flags)
    assert dry.returncode == 0, dry.stderr
    stop = pgarchive("restore", str(case.archive), "-d", target, "--exit-on-prediction",
                     *flags)
    assert stop.returncode == 2 and "--exit-on-prediction: " in stop.stderr
    assert "predicted to fail on this target; nothing is restored" in stop.stderr
    assert "pre-flight: " in stop.stderr
    with psycopg.connect(target) as conn:
        row = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'app'"
                           ).fetchone()
        assert row == (0,)


@pytest.mark.slow
def test_real_run_warns_and_proceeds_as_pg_restore(
        managed_servers: dict[int, pgenv.Cluster]) -> None:
    """Without --skip-unrestorable a real run prints the report before pg_restore starts,
    then pg_restore fails on exactly the entries predicted (its errors as --json lists
    them), and the exit status says it did not fully succeed."""
    import json

    case = Case(MANAGED / "pg18" / "managed.dump", 18, 18, "app_admin", ("-O", "-x"))
    c = managed_servers[18]
    db = _new_db(c, case)
    res = pgarchive("restore", str(case.archive), "-d", c.conninfo(db, case.role), "-O",
                    "-x", "--no-policies", "--json")
    assert res.returncode == 1, res.stderr
    report = res.stderr.index("pgarchive: warning: pre-flight: ")
    assert report < res.stderr.index("pg_restore: error:")
    data = json.loads(res.stdout)
    failed = {e["entry"] for e in data["pg_restore_errors"] if not e["harmless"]}
    predicted_ids = {f["dump_id"] for f in data["prediction"]["failures"]
                     if not f["harmless"]}
    assert failed and failed == predicted_ids
    assert any(t["status"] == "match" for t in data["tables"])
