"""The restore library's pure parts: which pg_restore, pg_restore's output read into errors
and entries, secrets, and the list file restore hands to pg_restore -L."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import pgarchive
from helpers import TESTDATA
from pgarchive.cli import cli
from pgarchive.errors import UsageError
from pgarchive.format.writer import build_custom
from pgarchive.listing import escape_controls, id_list
from pgarchive.restore import PgRestore, RestoreRequest, build_command, choose, parse_target
from pgarchive.restore.binaries import usable
from pgarchive.restore.compat import expected
from pgarchive.restore.runner import RunResult, _Reader
from pgarchive.selection import Selection

sys.path.insert(0, str(TESTDATA))
import pgenv

P15 = PgRestore("/pg15/pg_restore", "15.19", "PATH")
P16 = PgRestore("/pg16/pg_restore", "16.9", "PATH")
P18 = PgRestore("/pg18/pg_restore", "18.6", "PATH")


@pytest.mark.parametrize("archive, server, want, newer", [
    ((1, 14), 15, P15, False),   # pg_dump 15 archive, PostgreSQL 15: its own pg_restore
    ((1, 14), 16, P16, False),
    ((1, 14), 18, P18, False),
    ((1, 16), 15, P18, True),    # pg_dump 18 archive: only 17+ read it
    ((1, 15), 15, P18, True),
    ((1, 14), None, P18, False),  # server unknown: the newest
])
def test_choice_by_server(archive: tuple[int, int], server: int | None, want: PgRestore,
                          newer: bool) -> None:
    able = usable([P18, P15, P16], *archive, None)
    choice = choose(able, *archive, server)
    assert choice.pg == want and choice.newer_than_server == newer
    if newer:
        assert "needs the pg_restore of PostgreSQL" in choice.reason


def test_choice_by_options() -> None:
    able = usable([P18, P15], 1, 14, None, 17, ("--transaction-size",))
    assert able == [P18]
    choice = choose(able, 1, 14, 15, options=("--transaction-size",))
    assert choice.pg == P18 and "no pg_restore 15 or older was found that has " \
                                "--transaction-size" in choice.reason
    with pytest.raises(UsageError, match="--transaction-size needs pg_restore 17"):
        usable([P15], 1, 14, None, 17, ("--transaction-size",))
    with pytest.raises(UsageError, match=r"archive version 1\.16: it needs PostgreSQL 17"):
        usable([P15, P16], 1, 16, None)


def test_known_errors_by_versions() -> None:
    assert expected(18, 15) and expected(17, 16)
    assert not expected(18, 17) and not expected(16, 15) and not expected(15, 15)


def read(lines: list[str], known: bool = True) -> RunResult:
    result = RunResult(0)
    reader = _Reader(result, expected(18, 15) if known else [], None, None)
    for line in lines:
        reader.line(line)
    reader.flush()
    return result


def test_errors_are_tied_to_their_entry() -> None:
    r = read([
        'pg_restore: processing data for table "app.orders"',
        "pg_restore: while PROCESSING TOC:",
        "pg_restore: from TOC entry 2794; 0 16541 TABLE DATA orders postgres",
        'pg_restore: error: COPY failed for table "orders": ERROR:  violates check',
        "DETAIL:  Failing row contains (29).",
        'pg_restore: processing data for table "app.vehicles"',
        "pg_restore: error: could not execute query: ERROR:  unrecognized configuration "
        'parameter "transaction_timeout"',
        "Command was: SET transaction_timeout = 0;",
        "pg_restore:pg_restore: error: something else",
        "pg_restore: warning: errors ignored on restore: 3",
    ])
    assert [(e.entry, e.known is not None) for e in r.errors] == [
        (2794, False), (None, True), (None, False)]
    assert "DETAIL:  Failing row contains (29)." in r.errors[0].text
    assert r.failed_entries() == {2794} and r.completed and r.ignored_errors == 3


def test_another_workers_progress_between_entry_and_error_keeps_the_entry() -> None:
    """Under -j, pg_restore's workers share stderr: a line of another worker can come
    between "from TOC entry N" and N's error (seen in CI: the subscription's error was
    tied to no entry, and the forecast check failed).  The named entry keeps its error;
    once that error has come, progress unnames it again."""
    r = read([
        "pg_restore: while PROCESSING TOC:",
        "pg_restore: from TOC entry 2845; 0 0 SUBSCRIPTION corpus_sub postgres",
        'pg_restore: creating MATERIALIZED VIEW DATA "app.order_stats"',
        "pg_restore: while PROCESSING TOC:",
        "pg_restore: error: could not execute query: ERROR:  streaming requires a Boolean",
        "Command was: CREATE SUBSCRIPTION corpus_sub ...;",
        'pg_restore: creating TABLE "app.t"',
        "pg_restore: error: something of no entry",
    ])
    assert [e.entry for e in r.errors] == [2845, None]


def test_writes_of_two_processes_interleaved_inside_a_line_keep_each_error_its_entry() -> None:
    """pg_restore's logging writes "pg_restore:", " ", "error: " and the message apart, so
    under -j a worker's error and the leader's progress can cut into each other's lines.
    Seen in CI (the forecast check failed: the subscription's error was tied to no entry),
    as pg_restore 18 wrote it: the two prefixes piled up before the worker's "from TOC
    entry", and the leader's "finished item" after the worker's "error: ", whose text then
    came on the next line."""
    r = read([
        "pg_restore:pg_restore:  from TOC entry 2845; 6100 16714 SUBSCRIPTION corpus_sub "
        "postgres",
        "pg_restore: error: finished item 2678 INDEX ATTACH events_other_payload_idx",
        "could not execute query: ERROR:  streaming requires a Boolean value",
        "Command was: CREATE SUBSCRIPTION corpus_sub CONNECTION '...';",
        "pg_restore: from TOC entry 2906; 0 0 COMMENT SUBSCRIPTION corpus_sub postgres",
        "pg_restore: error: from TOC entry 7; 0 0 TABLE t postgres",
        'could not execute query: ERROR:  subscription "corpus_sub" does not exist',
        'pg_restore: creating INDEX "app.i"',  # another worker's: 7 is still named
        "pg_restore: error: could not execute query: ERROR:  relation t exists",
        'pg_restore: creating TABLE "app.t2"',
        "pg_restore: error: ",
        "could not execute query: ERROR:  of no entry",
    ])
    assert [(e.entry, e.text.splitlines()[0]) for e in r.errors] == [
        (2845, "pg_restore: error: could not execute query: ERROR:  streaming requires a "
               "Boolean value"),
        (2906, 'pg_restore: error: could not execute query: ERROR:  subscription '
               '"corpus_sub" does not exist'),
        (7, "pg_restore: error: could not execute query: ERROR:  relation t exists"),
        (None, "pg_restore: error: could not execute query: ERROR:  of no entry")]
    assert "Command was: CREATE SUBSCRIPTION" in r.errors[0].text
    assert 2678 in r.finished


def test_only_harmless_errors_are_ok() -> None:
    lines = ["pg_restore: error: could not execute query: ERROR:  unrecognized configuration "
             'parameter "transaction_timeout"', "Command was: SET transaction_timeout = 0;"]
    done = read([*lines, *lines, "pg_restore: warning: errors ignored on restore: 1"])
    done.returncode = 1
    assert done.ok and len(done.harmless) == 2 and not done.counted
    unknown = read([*lines, "pg_restore: warning: errors ignored on restore: 1"], known=False)
    unknown.returncode = 1
    assert not unknown.ok
    more = read([*lines, "pg_restore: warning: errors ignored on restore: 2"])
    more.returncode = 1
    assert not more.ok  # pg_restore counted an error we did not see


def test_secrets_are_split_masked_and_handed_over_apart(tmp_path: Path) -> None:
    t = parse_target("postgresql://alice:pa55word@db.example.com:5433/app?sslpassword=k3y"
                     "&sslmode=require")
    assert t.secrets == {"password": "pa55word", "sslpassword": "k3y"}
    assert "pa55word" not in t.conninfo and "k3y" not in t.conninfo
    assert "password=********" in t.masked and "sslpassword=********" in t.masked
    assert t.mask("failed for k3y and pa55word") == "failed for ******** and ********"
    argv = build_command(P18, RestoreRequest("a.dump", t), Selection(), "/tmp/l", t.conninfo)
    assert not any("pa55word" in a or "k3y" in a for a in argv)
    with t.for_child({}) as (conninfo, env):
        assert env["PGPASSWORD"] == "pa55word" and "k3y" not in conninfo
        assert "service=pgarchive" in conninfo
        service = env["PGSERVICEFILE"]
        assert stat.S_IMODE(os.stat(service).st_mode) == 0o600
        assert Path(service).read_text() == "[pgarchive]\nsslpassword=k3y\n"
    assert not os.path.exists(service)
    with pytest.raises(UsageError, match="service"), \
            parse_target("service=x sslpassword=k").for_child({}):
        pass


def test_unparsable_conninfo_error_is_masked() -> None:
    with pytest.raises(UsageError) as info:
        parse_target("host=x password=Secr3t 'unterminated")
    assert "Secr3t" not in str(info.value)


def _ids() -> tuple[int, int, int]:
    """(the data of app.orders, the COMMENT on "Mixed Case Schema"."Order Lines", the table
    app.customers) in the corpus archive: looked up, as the corpus is regenerated."""
    with pgarchive.open(str(TESTDATA / "pg18" / "custom.dump")) as a:
        def find(desc: str, namespace: str, tag: str) -> int:
            (i,) = [e.dump_id for e in a.entries
                    if (e.desc, e.namespace, e.tag) == (desc, namespace, tag)]
            return i
        return (find("TABLE DATA", "app", "orders"),
                find("COMMENT", "Mixed Case Schema", 'TABLE "Order Lines"'),
                find("TABLE", "app", "customers"))


ORDERS_DATA, COMMENT, CUSTOMERS = _ids()


def hostile_archive(tmp_path: Path) -> Path:
    """The corpus archive, with a line of its own in the header's server version and in an
    entry's desc, each naming the data of app.orders."""
    line = f"{ORDERS_DATA}; 0 0 TABLE DATA app orders x"
    with pgarchive.open(str(TESTDATA / "pg18" / "custom.dump")) as a:
        header = a.header._replace(server_version=f"18.6\n{line}")
        entries = [e._replace(desc=f"COMMENT\n{line}") if e.dump_id == COMMENT else e
                   for e in a.entries]
        data = {e.dump_id: (b"".join(a.data(e)) if e.desc != "BLOBS"
                            else list(a.read_large_objects(e)))
                for e in a.entries if e.has_data}
    path = tmp_path / "hostile.dump"
    path.write_bytes(build_custom(header, entries, data))  # type: ignore[arg-type]
    return path


def test_list_injection(tmp_path: Path) -> None:
    archive = hostile_archive(tmp_path)
    pg_restore = str(pgenv.bindir(18) / "pg_restore")
    env = {"TZ": "UTC", "PATH": "/usr/bin:/bin"}
    orders = str(ORDERS_DATA)

    def listed_by_pg_restore(list_file: Path) -> list[str]:
        out = subprocess.run([pg_restore, "-l", "-L", str(list_file), str(archive)],
                             capture_output=True, text=True, env=env, check=True).stdout
        body = out.split("; Selected TOC Entries:\n", 1)[1]  # its own header is raw too
        return [x.split(";")[0] for x in body.splitlines() if x and not x.startswith(";")]

    # ls --format list is pg_restore -l, injected lines and all ...
    raw = CliRunner().invoke(cli, ["ls", str(archive), "-F", "list", "-n", "Mixed Case "
                                   "Schema"])
    real = subprocess.run([pg_restore, "-l", "-n", "Mixed Case Schema", str(archive)],
                          capture_output=True, env=env).stdout
    assert raw.stdout_bytes == real
    (tmp_path / "raw.list").write_bytes(raw.stdout_bytes)
    assert orders in listed_by_pg_restore(tmp_path / "raw.list")
    # ... --safe-list is not: one line per entry, and pg_restore -L reads what was selected
    safe = CliRunner().invoke(cli, ["ls", str(archive), "--safe-list", "-t", "customers"])
    assert safe.exit_code == 0, safe.output
    assert f"18.6\\n{orders}; 0 0 TABLE DATA" in safe.stdout
    (tmp_path / "safe.list").write_text(safe.stdout)
    ours = [x.split(";")[0] for x in safe.stdout.splitlines() if not x.startswith(";")]
    assert str(CUSTOMERS) in ours and orders not in ours
    assert listed_by_pg_restore(tmp_path / "safe.list") == ours
    everything = CliRunner().invoke(cli, ["ls", str(archive), "--safe-list"])
    lines = [x for x in everything.stdout.splitlines() if not x.startswith(";")]
    with pgarchive.open(str(archive)) as a:
        assert len(lines) == len([e for e in a.entries if e.desc not in ("ENCODING",
                                                                        "STDSTRINGS",
                                                                        "SEARCHPATH")]) - 1
        # restore's own list file: nothing but dump ids
        assert id_list(a.entries[:3]) == b"".join(b"%d\n" % e.dump_id for e in a.entries[:3])


def test_escape_controls() -> None:
    assert escape_controls("a\nb\rc\td\\e\x1b[31m\x9b\x7f") == \
        "a\\nb\\rc\\td\\\\e\\x1b[31m\\x9b\\x7f"
    assert escape_controls("bad \udc9b byte") == "bad \\x9b byte"
    assert escape_controls(None, True) == "-" and escape_controls("Zoë Ünïcødé") == \
        "Zoë Ünïcødé"
