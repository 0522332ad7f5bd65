"""The pre-flight's pure parts without a server: statement reading, the facts' JSON form,
the walk's bookkeeping (what pg_restore sets once and remembers), --skip-unrestorable's
plan and the report.  Real-server comparisons are in test_predict_managed.py."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pgarchive.format.constants import Section
from pgarchive.format.model import TocEntry
from pgarchive.restore import statements as st
from pgarchive.restore.predict import PredictOptions, predict, skip_plan
from pgarchive.restore.prediction_report import report_json, report_text
from pgarchive.restore.targetfacts import (
    AvailableExtension,
    ExtensionVersion,
    Installed,
    TargetFacts,
)


def entry(dump_id: int, desc: str, tag: str, defn: str = "", *, owner: str = "admin",
          namespace: str | None = "public", deps: tuple[int, ...] = (),
          tablespace: str | None = None, tableam: str | None = None, drop: str = "DROP x;\n",
          data: bool = False, section: Section = Section.PRE_DATA) -> TocEntry:
    return TocEntry(dump_id, data, 0, 0, tag, desc, section, defn, drop, None, namespace,
                    tablespace, tableam, ord("r") if desc == "TABLE" else 0, owner, False,
                    deps)


def facts(**changes: Any) -> TargetFacts:
    """A PostgreSQL 18 target seen by "admin", the database owner, not a superuser."""
    base = TargetFacts(
        server_version_num=180006, database="app", current_user="admin",
        session_user="admin", superuser=False, session_superuser=False, createdb=True,
        create_on_database=True, database_owner="admin", bootstrap_superuser="postgres",
        roles=frozenset({"admin", "postgres", "app_owner", "pg_database_owner"}),
        superusers=frozenset({"postgres"}), can_set=frozenset({"app_owner"}),
        acts_as=frozenset({"app_owner", "pg_database_owner"}),
        privileges_of={"app_owner": frozenset()},
        create_on_database_roles=frozenset({"admin"}),
        available_extensions={
            "hstore": AvailableExtension("1.8", {"1.8": ExtensionVersion(True, True)}),
            "pageinspect": AvailableExtension("1.13", {"1.13": ExtensionVersion(True, False)}),
        },
        installed_extensions={"plpgsql": Installed("postgres", False)},
        languages={"plpgsql": Installed("postgres", False), "sql": Installed("postgres", False),
                   "c": Installed("postgres", False, False, False, False)},
        access_methods=frozenset({"heap", "btree"}), tablespaces={"pg_default": True},
        schemas={"public": Installed("pg_database_owner", True, True, True)},
        schema_create_roles={"public": frozenset()},
        settings={"work_mem": "user", "log_min_duration_statement": "superuser"},
        settable=frozenset(), fdws={}, fdw_usage_roles={}, servers={}, create_subscription=False,
        seclabel_providers=frozenset())
    return replace(base, **changes)


def test_acl_statements_name_their_roles() -> None:
    a = st.acl_statement('GRANT SELECT ON TABLE public."grant TO me" TO alice, "Bob" '
                         "WITH GRANT OPTION;\n")
    assert (a.kind, a.roles) == ("grant", ("alice", "Bob"))
    assert st.acl_statement("REVOKE ALL ON SCHEMA public FROM PUBLIC;").roles == ()
    assert st.acl_statement("SET SESSION AUTHORIZATION stranger;").roles == ("stranger",)
    d = st.acl_statement("ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA app GRANT "
                         "SELECT ON TABLES TO reader;")
    assert (d.kind, d.for_role, d.in_schema, d.roles) == ("default", "app_owner", "app",
                                                          ("app_owner", "reader"))


def test_function_language_and_settings() -> None:
    defn = ("CREATE FUNCTION app.f() RETURNS integer\n    LANGUAGE plpgsql\n"
            "    SET \"myapp.mode\" TO 'strict'\n    SET work_mem TO '8MB'\n"
            "    AS $$\nBEGIN\n    SET fake TO 1;\nEND$$;\n")
    assert st.function_language(defn) == "plpgsql"
    assert st.function_settings(defn) == ["myapp.mode", "work_mem"]  # not the body's
    assert st.database_setting("ALTER DATABASE d SET \"myapp.mode\" TO 'x';\n") == \
        st.DatabaseSetting("myapp.mode", None)


def test_facts_round_trip_through_json() -> None:
    f = facts(seclabel_providers=None)
    assert TargetFacts.from_json(json.loads(json.dumps(f.to_json()))) == f


def test_pg_restore_sets_a_tablespace_once_per_run() -> None:
    """pg_restore remembers the default_tablespace it asked for, even when the SET failed:
    of consecutive entries in the same missing tablespace only the first reports it."""
    es = [entry(1, "TABLE", "a", "CREATE TABLE public.a ();\n", tablespace="gone"),
          entry(2, "TABLE", "b", "CREATE TABLE public.b ();\n", tablespace="gone"),
          entry(3, "TABLE", "c", "CREATE TABLE public.c ();\n", tablespace="", deps=(9,)),
          entry(4, "TABLE", "d", "CREATE TABLE public.d ();\n", tablespace="gone")]
    pred = predict(es, facts(), PredictOptions())  # (9, not in the list: assumed there)
    assert [(f.dump_id, f.cause, f.created) for f in pred.failures] == [
        (1, "tablespace_missing", True), (4, "tablespace_missing", True)]
    # when c fails for want of 9, pg_restore has still set its tablespace first
    fails = entry(9, "OPERATOR FAMILY", "fam", "CREATE OPERATOR FAMILY public.fam USING "
                  "btree;\n")
    pred = predict([fails, *es], facts(), PredictOptions())
    assert [(f.dump_id, f.cause) for f in pred.failures] == [
        (9, "superuser_required"), (1, "tablespace_missing"), (3, "dependency"),
        (4, "tablespace_missing")]
    assert predict(es, facts(), PredictOptions(no_tablespaces=True)).failures == ()


def test_dependents_fail_with_the_entry_they_need() -> None:
    es = [entry(1, "EXTENSION", "pageinspect", "CREATE EXTENSION IF NOT EXISTS pageinspect "
                "WITH SCHEMA public;\n", owner="", namespace=None),
          entry(2, "FUNCTION", "f()", "CREATE FUNCTION public.f() RETURNS integer\n"
                "    LANGUAGE sql\n    AS $$SELECT 1$$;\n", deps=(1,)),
          entry(3, "COMMENT", "FUNCTION f()", "COMMENT ON FUNCTION public.f() IS 'x';\n",
                deps=(2,), drop=""),
          entry(4, "TABLE", "t", "CREATE TABLE public.t ();\n", owner="ghost")]
    pred = predict(es, facts(), PredictOptions())
    got = [(f.dump_id, f.cause, f.because_of) for f in pred.failures]
    assert got == [(1, "extension_superuser", None), (2, "dependency", 1),
                   (3, "dependency", 1), (4, "owner_missing", None)]
    assert pred.failures[3].created and pred.failures[3].fix == "-O"
    superuser = predict(es, facts(superuser=True, roles=frozenset({"admin", "ghost"})),
                        PredictOptions())
    assert superuser.failures == ()


def test_functions_in_languages_the_role_may_not_use() -> None:
    """An untrusted language (installed by a superuser, as providers do for plpython3u)
    or one the target lacks; the language's USAGE privilege for trusted ones."""
    def fn(i: int, lang: str) -> TocEntry:
        return entry(i, "FUNCTION", f"f{i}()", f"CREATE FUNCTION public.f{i}() RETURNS "
                     f"integer\n    LANGUAGE {lang}\n    AS $$x$$;\n")

    langs = {**facts().languages, "plpython3u": Installed("postgres", False, False, False,
                                                           False),
             "plperl": Installed("postgres", False, False, False, True)}
    pred = predict([fn(1, "plpython3u"), fn(2, "plv8"), fn(3, "c"), fn(4, "plperl"),
                    fn(5, "sql")], facts(languages=langs), PredictOptions(no_owner=True))
    assert [(f.dump_id, f.cause) for f in pred.failures] == [
        (1, "language_untrusted"), (2, "language_missing"), (3, "language_untrusted"),
        (4, "language_privilege")]


def test_skip_plan_leaves_out_failures_and_adds_flags() -> None:
    es = [entry(1, "EVENT TRIGGER", "et", "CREATE EVENT TRIGGER et ON ddl_command_end\n"
                "   EXECUTE FUNCTION public.f();\n", namespace=None),
          entry(2, "COMMENT", "EVENT TRIGGER et", "COMMENT ON EVENT TRIGGER et IS 'x';\n",
                deps=(1,), drop="", namespace=None),
          entry(3, "TABLE", "t", "CREATE TABLE public.t ();\n", owner="ghost"),
          entry(4, "TABLE DATA", "t", "", deps=(3,), data=True, drop="",
                section=Section.DATA)]
    plan = skip_plan(es, facts(), PredictOptions())
    assert [f.dump_id for f in plan.left_out] == [1, 2]
    assert plan.flags == ("-O",) and plan.options.no_owner
    assert [e.dump_id for e in plan.entries] == [3, 4]  # the table and its rows stay
    assert plan.remaining.failures == ()


def test_single_transaction_stops_at_the_first_failure() -> None:
    es = [entry(1, "TABLE", "t", "CREATE TABLE public.t ();\n", owner="ghost"),
          entry(2, "ACCESS METHOD", "am", "CREATE ACCESS METHOD am TYPE TABLE HANDLER "
                "heap_tableam_handler;\n", owner="", namespace=None)]
    pred = predict(es, facts(), PredictOptions(single_transaction=True))
    assert pred.first() is not None and pred.first().dump_id == 1  # type: ignore[union-attr]
    assert any("rolls back everything" in n for n in pred.notes)


def test_pg_restore_17_into_an_older_server() -> None:
    """pg_restore 17+ sets transaction_timeout on connecting: an error outside any entry,
    and one more for each reconnection after DATABASE (-C)."""
    es = [entry(1, "TABLE", "t", "CREATE TABLE public.t ();\n")]
    old = facts(server_version_num=150014)
    assert len(predict(es, old, PredictOptions()).session) == 1
    assert predict(es, old, PredictOptions(pg_restore_major=16)).session == ()


def test_report_groups_dependents_under_their_cause() -> None:
    es = [entry(1, "EXTENSION", "pageinspect", "CREATE EXTENSION IF NOT EXISTS pageinspect "
                "WITH SCHEMA public;\n", owner="", namespace=None),
          entry(2, "COMMENT", "EXTENSION pageinspect", "COMMENT ON EXTENSION pageinspect "
                "IS 'x';\n", deps=(1,), drop="", namespace=None)]
    f = facts()
    plan = skip_plan(es, f, PredictOptions())
    pred = predict(es, f, PredictOptions())
    text = report_text(pred, f, plan)
    assert "[extension_superuser]: 1 entry, and 1 that depends on it" in text
    assert "fail because of it: 2 COMMENT EXTENSION pageinspect" in text
    assert "--skip-unrestorable leaves out 2 entries predicted to fail (1, 2)" in text
    data = report_json(pred, f, plan)
    assert [(x["dump_id"], x["because_of"]) for x in data["failures"]] == [(1, None), (2, 1)]
    assert data["skip_unrestorable"]["left_out"] == [1, 2]


# --- what the target's major does not know (pgarchive sql --target-version's rules) -------

STATS = ("SELECT * FROM pg_catalog.pg_restore_relation_stats(\n\t'version', '180000'::integer,"
         "\n\t'schemaname', 'public',\n\t'relname', 't',\n\t'relpages', '1'::integer);\n")


def test_statements_an_older_major_does_not_know() -> None:
    """Statistics (18), MAINTAIN (17), an unlogged sequence (15): the whole entry fails
    there, with what depends on it; the same archive into 18 is fine."""
    es = [entry(1, "TABLE", "t", "CREATE TABLE public.t ();\n"),
          entry(2, "STATISTICS DATA", "t", STATS, deps=(1,), drop=""),
          entry(3, "ACL", "TABLE t", "GRANT MAINTAIN ON TABLE public.t TO app_owner;\n",
                deps=(1,), drop=""),
          entry(4, "ACL", "TABLE t", "GRANT SELECT,MAINTAIN ON TABLE public.t TO app_owner;\n",
                deps=(1,), drop=""),
          entry(5, "SEQUENCE", "s", "CREATE UNLOGGED SEQUENCE public.s\n    START WITH 1;\n"),
          entry(6, "COMMENT", "SEQUENCE s", "COMMENT ON SEQUENCE public.s IS 'x';\n",
                deps=(5,), drop="")]
    opts = PredictOptions(no_owner=True)

    def failing(major: int) -> list[tuple[int, str]]:
        pred = predict(es, facts(server_version_num=major * 10000 + 1), opts)
        return [(f.dump_id, f.cause) for f in pred.failures]

    assert failing(18) == []
    assert failing(17) == [(2, "server_version")]
    assert failing(16) == [(2, "server_version"), (3, "server_version"), (4, "server_version")]
    assert failing(14) == [(2, "server_version"), (5, "server_version"), (6, "dependency"),
                           (3, "server_version"), (4, "server_version")]
    f = predict(es, facts(server_version_num=150001), opts).failures[0]
    assert f.message == ("PostgreSQL 15 does not know statistics (PostgreSQL 18+); pgarchive "
                         "sql --target-version 15 adapts it")


def test_grant_to_a_predefined_role_the_major_lacks() -> None:
    """pg_maintain is 17's: on 15 the grant fails for the server's version (no one can
    create the role), not for a role to create."""
    es = [entry(1, "ACL", "TABLE t", "GRANT SELECT ON TABLE public.t TO pg_maintain;\n",
                drop="")]
    pred = predict(es, facts(server_version_num=150001), PredictOptions())
    assert [(f.cause, f.problems[0].roles) for f in pred.failures] == [("server_version", ())]


def test_partitioned_table_access_method_before_17() -> None:
    """pg_restore 17+ sends ALTER TABLE ... SET ACCESS METHOD for a partitioned table;
    before 17 the server refuses it, the table is still created, and
    --skip-unrestorable adds --no-table-access-method instead of leaving it out."""
    part = entry(1, "TABLE", "p", "CREATE TABLE public.p (a int) PARTITION BY RANGE (a);\n",
                 tableam="heap")
    part = part._replace(relkind=ord("p"))
    old = facts(server_version_num=160001)
    pred = predict([part], old, PredictOptions(no_owner=True))
    assert [(f.cause, f.created) for f in pred.failures] == [("table_am_unsupported", True)]
    assert predict([part], old, PredictOptions(no_owner=True, pg_restore_major=16)).failures \
        == ()
    plan = skip_plan([part], old, PredictOptions(no_owner=True))
    assert plan.flags == ("--no-table-access-method",) and [e.dump_id for e in plan.entries] \
        == [1]


def test_known_harmless_errors_of_a_newer_pg_restore() -> None:
    """pg_restore 18 into 15: SET transaction_timeout fails on each connection, and with
    -C after the reconnection that follows DATABASE: reported from that entry, harmless
    (pgarchive does not count it), never left out."""
    es = [entry(1, "DATABASE", "app", "CREATE DATABASE app WITH TEMPLATE = template0;\n",
                namespace=None, owner="admin"),
          entry(2, "TABLE", "t", "CREATE TABLE public.t ();\n")]
    old = facts(server_version_num=150001)
    pred = predict(es, old, PredictOptions(create=True))
    assert len(pred.session) == 1 and "transaction_timeout" in pred.session[0][1]
    assert [(f.dump_id, f.harmless) for f in pred.failures] == [(1, True)]
    assert pred.counted == () and pred.ids == {1}
    plan = skip_plan(es, old, PredictOptions(create=True))
    assert plan.left_out == () and len(plan.entries) == 2
    assert "pre-flight: no entry is predicted to fail" in report_text(pred, old)


def test_clean_drops_the_schemas_it_creates_first() -> None:
    """With --clean, a schema the restore creates and the restoring role owns is dropped
    first: CREATE SCHEMA does not fail on it."""
    es = [entry(1, "SCHEMA", "app", "CREATE SCHEMA app;\n", namespace=None)]
    there = facts(schemas={**facts().schemas, "app": Installed("admin", True, True, True)})
    assert [f.cause for f in predict(es, there, PredictOptions(no_owner=True)).failures] == [
        "schema_exists"]
    assert predict(es, there, PredictOptions(no_owner=True, clean=True,
                                             if_exists=True)).failures == ()


# --- the checks the forecast makes (pgarchive.restore.forecast) ---------------------------

def _forecast_findings(es: list[TocEntry], f: TargetFacts, **req: Any) -> list[str]:
    from pgarchive.restore.conninfo import parse_target
    from pgarchive.restore.forecast import Forecast, check
    from pgarchive.restore.plan import RestoreRequest
    from pgarchive.restore.preflight import Facts

    request = RestoreRequest("a.dump", parse_target("dbname=x"), **req)
    opts = PredictOptions(no_owner=request.no_owner)
    plan = skip_plan(es, f, opts) if request.skip_unrestorable else None
    fc = Forecast(f, predict(es, f, opts), plan, plan is not None)
    found = Facts()
    check(fc, request, found)
    return [f"{x.level}{'!' if x.forcible else ''}: {x.message}" for x in found.findings]


def test_role_refusals_come_from_the_prediction() -> None:
    """Missing owners, grantees and policy roles, and owners the role cannot become, are
    refused (forcible), naming exactly the roles of the predicted failures; with -O or
    --skip-unrestorable they are gone; --exit-on-prediction refuses any failure."""
    es = [entry(1, "TABLE", "t", "CREATE TABLE public.t ();\n", owner="ghost"),
          entry(2, "TABLE", "u", "CREATE TABLE public.u ();\n", owner="postgres"),
          entry(3, "ACL", "TABLE u", "GRANT SELECT ON TABLE public.u TO reader2, ghost2;\n",
                deps=(2,), drop=""),
          entry(4, "POLICY", "u p", "CREATE POLICY p ON public.u TO phantom USING (true);\n",
                deps=(2,), drop=""),
          # an extension owned by a role the target lacks: pg_restore sets no owner there
          entry(5, "EXTENSION", "hstore", "CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA "
                "public;\n", owner="nobody_here", namespace=None)]
    got = _forecast_findings(es, facts())
    assert got == [
        "error!: roles named in the selected entries do not exist on the target: ghost, "
        "ghost2, phantom, reader2 (3 entries would fail); create them, or use --no-owner "
        "(-O), --no-acl (-x) and --no-policies, or --skip-unrestorable",
        "error!: admin cannot act as the owner postgres of selected entries: it is neither "
        "a superuser nor a member of those roles, so their ALTER ... OWNER statements would "
        "fail. Use -O/--no-owner (everything will belong to admin), grant admin membership "
        "in those roles, or connect as a superuser"]
    no_owner = _forecast_findings(es, facts(), no_owner=True)
    assert len(no_owner) == 1 and "ghost2, phantom, reader2 (2 entries" in no_owner[0]
    assert "--no-acl (-x) and --no-policies, or" in no_owner[0]
    assert _forecast_findings(es, facts(), skip_unrestorable=True) == []
    stop = _forecast_findings(es[4:], facts(), exit_on_prediction=True)
    assert stop == []  # nothing predicted to fail: hstore is trusted, admin has CREATE
    stop = _forecast_findings(es[:2], facts(), no_owner=True, exit_on_prediction=True)
    assert stop == []
    stop = _forecast_findings(es[:1], facts(), exit_on_prediction=True, force=True)
    assert stop[-1] == ("error: --exit-on-prediction: 1 of 1 entries are predicted to fail "
                        "on this target; nothing is restored")
