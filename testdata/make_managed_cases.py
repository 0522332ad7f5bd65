"""Regenerate testdata/managed/: real pg_dump archives of what fails when a database is
restored into a managed server by a role that owns the target database but is not a
superuser (issue #14).

The source database (SOURCE_SQL below, made as a superuser on PostgreSQL 15 and 18) has
extensions the target will lack (citext, cube and earthdistance, which requires cube),
untrusted ones (pageinspect, plpython3u, file_fdw with a server and a user mapping) and a
function in PL/Python, an event trigger, publications (FOR ALL TABLES, a table list, FOR
TABLES IN SCHEMA), subscriptions (created disabled, connect = false; one with a password
in its connection string), a custom table access method, a non-default tablespace,
objects owned by roles the target lacks and by roles the restoring role is not a member
of, grants to missing roles and one made by a grantor other than the owner, default
privileges, policies, large objects, an operator family, extended statistics, functions
whose SET clauses need a superuser or name an unknown parameter, and database settings
that need a superuser.

* ``pg18/managed.dump``: pg_dump 18 -Fc --statistics of the PostgreSQL 18 database (which
  also has a partitioned table using the custom access method);
* ``pg15/managed.dump``: pg_dump 15 -Fc of the PostgreSQL 15 database;
* ``pg18/seclabel.dump``: managed.dump with a SECURITY LABEL entry added by pgarchive's
  writer (no provider can be loaded into the test servers, so pg_dump cannot make one).

The tests (tests/restore/test_predict_managed.py) restore each with the real pg_restore as
a non-superuser into servers whose installation lacks some extensions and compare the
entries pg_restore reports errors for with pgarchive's prediction.  The pg_dump 10 archive
of testdata/pg10 (``CREATE SCHEMA public``, ``COMMENT ON EXTENSION plpgsql``) is used too.

Usage: python testdata/make_managed_cases.py
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgenv

HERE = Path(__file__).resolve().parent
OUT = HERE / "managed"
DB = "managed"

#: Roles of the source cluster.  The test targets have app_owner, reader, stranger and
#: side_owner, not ghost_owner and ghost_reader.
ROLES = ("app_owner", "ghost_owner", "reader", "ghost_reader", "stranger", "side_owner")

SOURCE_SQL = """
CREATE EXTENSION hstore;
CREATE EXTENSION citext;
CREATE EXTENSION cube;
CREATE EXTENSION earthdistance;
CREATE EXTENSION pg_trgm;
CREATE EXTENSION pageinspect;
CREATE EXTENSION plpython3u;
CREATE EXTENSION file_fdw;

CREATE SCHEMA app AUTHORIZATION app_owner;
CREATE SCHEMA ghost AUTHORIZATION ghost_owner;
CREATE SCHEMA side AUTHORIZATION side_owner;

CREATE TABLE app.customers (id integer PRIMARY KEY, email citext UNIQUE, name text);
INSERT INTO app.customers SELECT g, 'c' || g || '@example.com', 'name ' || g
  FROM generate_series(1, 20) g;
CREATE INDEX customers_name_trgm ON app.customers USING gin (name gin_trgm_ops);
COMMENT ON TABLE app.customers IS 'customers, case-insensitive e-mail';
CREATE TABLE app.orders (id integer PRIMARY KEY, customer_id integer REFERENCES app.customers,
                         amount numeric, attrs hstore);
INSERT INTO app.orders SELECT g, 1 + g % 20, g * 1.5, hstore('k', g::text)
  FROM generate_series(1, 50) g;
CREATE STATISTICS app.orders_stats ON id, customer_id FROM app.orders;
CREATE TABLE app.places (id integer PRIMARY KEY, pos cube);
INSERT INTO app.places SELECT g, cube(g) FROM generate_series(1, 5) g;
CREATE TABLE app.shared (id serial PRIMARY KEY, note text);
INSERT INTO app.shared (note) SELECT 'n' || g FROM generate_series(1, 7) g;
GRANT SELECT ON app.shared TO reader, ghost_reader;
GRANT SELECT ON app.orders TO reader;
GRANT USAGE ON SCHEMA app TO reader, stranger;
ALTER TABLE app.customers OWNER TO app_owner;
ALTER TABLE app.orders OWNER TO app_owner;
ALTER TABLE app.shared OWNER TO stranger;
ALTER STATISTICS app.orders_stats OWNER TO app_owner;
-- a grant made by a grantor other than the owner: pg_dump restores it with
-- SET SESSION AUTHORIZATION, which needs a superuser
GRANT UPDATE ON app.orders TO stranger WITH GRANT OPTION;
SET ROLE stranger;
GRANT UPDATE ON app.orders TO reader;
RESET ROLE;
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_reader ON app.orders TO reader USING (true);
CREATE POLICY orders_ghost ON app.orders TO ghost_reader USING (true);
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA app GRANT SELECT ON TABLES TO reader;
ALTER DEFAULT PRIVILEGES FOR ROLE ghost_owner GRANT SELECT ON TABLES TO reader;
ALTER DEFAULT PRIVILEGES FOR ROLE stranger GRANT USAGE ON SEQUENCES TO reader;
CREATE MATERIALIZED VIEW app.order_totals AS
  SELECT customer_id, sum(amount) AS total FROM app.orders GROUP BY customer_id;
ALTER MATERIALIZED VIEW app.order_totals OWNER TO app_owner;

-- owned by a role the target has but which may not create in schema public
CREATE TABLE public.app_public (id integer PRIMARY KEY);
INSERT INTO public.app_public SELECT generate_series(1, 11);
ALTER TABLE public.app_public OWNER TO app_owner;

CREATE TABLE side.notes (id integer PRIMARY KEY, body text);
INSERT INTO side.notes SELECT g, 'note ' || g FROM generate_series(1, 8) g;
ALTER TABLE side.notes OWNER TO side_owner;

CREATE TABLE public.plain (id integer PRIMARY KEY, note text) TABLESPACE archive_ts;
CREATE INDEX plain_note ON public.plain (note) TABLESPACE archive_ts;
INSERT INTO public.plain SELECT g, 'p' || g FROM generate_series(1, 9) g;
CREATE TABLE public.after_plain (id integer PRIMARY KEY);
INSERT INTO public.after_plain SELECT generate_series(1, 3);

CREATE TABLE ghost.haunted (id integer);
ALTER TABLE ghost.haunted OWNER TO ghost_owner;
INSERT INTO ghost.haunted SELECT generate_series(1, 4);

SELECT lo_from_bytea(91001, 'owned by a missing role');
ALTER LARGE OBJECT 91001 OWNER TO ghost_owner;
SELECT lo_from_bytea(91002, 'owned by app_owner');
ALTER LARGE OBJECT 91002 OWNER TO app_owner;
GRANT SELECT ON LARGE OBJECT 91002 TO reader;
COMMENT ON LARGE OBJECT 91002 IS 'a large object';

CREATE FUNCTION app.py_add(a integer, b integer) RETURNS integer LANGUAGE plpython3u
  AS 'return a + b';
CREATE VIEW app.py_view AS SELECT app.py_add(1, 2) AS three;

CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER app_ddl ON ddl_command_end EXECUTE FUNCTION app.on_ddl();
COMMENT ON EVENT TRIGGER app_ddl IS 'watches DDL';

CREATE PUBLICATION pub_all FOR ALL TABLES;
CREATE PUBLICATION pub_some FOR TABLE app.orders, public.plain;
CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA app;
COMMENT ON PUBLICATION pub_some IS 'two tables';
CREATE SUBSCRIPTION sub_nopw CONNECTION 'host=127.0.0.1 port=1 dbname=nowhere'
  PUBLICATION pub_all WITH (connect = false);
CREATE SUBSCRIPTION sub_pw
  CONNECTION 'host=127.0.0.1 port=1 dbname=nowhere password=not-a-secret'
  PUBLICATION pub_all WITH (connect = false);

CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE app.am_table (id integer) USING heap2;
INSERT INTO app.am_table SELECT generate_series(1, 6);
CREATE TABLE app.am_table2 (id integer) USING heap2;
INSERT INTO app.am_table2 SELECT generate_series(1, 2);
CREATE OPERATOR FAMILY app.fam USING btree;

CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE USER MAPPING FOR reader SERVER files;

CREATE FUNCTION app.f_suset() RETURNS integer LANGUAGE sql
  SET log_min_duration_statement = '1s' AS 'SELECT 1';
CREATE FUNCTION app.f_placeholder() RETURNS integer LANGUAGE sql
  SET myapp.mode = 'strict' AS 'SELECT 1';
CREATE FUNCTION app.f_user() RETURNS integer LANGUAGE sql SET work_mem = '8MB' AS 'SELECT 1';
ALTER FUNCTION app.f_user() OWNER TO app_owner;
"""

#: PostgreSQL 17+: a partitioned table may have a table access method (pg_restore then
#: runs ALTER TABLE ... SET ACCESS METHOD after creating it).
SOURCE_SQL_17 = """
CREATE TABLE app.parted (id integer) PARTITION BY RANGE (id) USING heap2;
CREATE TABLE app.parted_1 PARTITION OF app.parted FOR VALUES FROM (0) TO (100);
INSERT INTO app.parted SELECT generate_series(1, 12);
"""

DATABASE_SQL = f"""
ALTER DATABASE {DB} SET work_mem = '8MB';
ALTER DATABASE {DB} SET log_min_duration_statement = '1s';
ALTER DATABASE {DB} SET myapp.mode = 'strict';
"""


def make(major: int, statistics: bool) -> Path:
    """Build the source database on PostgreSQL ``major`` and dump it."""
    out = OUT / f"pg{major}" / "managed.dump"
    out.parent.mkdir(parents=True, exist_ok=True)
    with pgenv.cluster(major) as c:
        ts = c.datadir.parent / "archive_ts"
        ts.mkdir()
        if c.user:
            os.chown(ts, pwd.getpwnam(c.user).pw_uid, -1)
        c.psql("postgres", "; ".join(f"CREATE ROLE {r}" for r in ROLES))
        c.psql("postgres", f"CREATE TABLESPACE archive_ts LOCATION '{ts}'")
        c.run(["createdb", "-T", "template0", "-E", "UTF8", "--locale=C", DB])
        sql_file = c.datadir.parent / "source.sql"
        sql_file.write_text(SOURCE_SQL + (SOURCE_SQL_17 if major >= 17 else "")
                            + DATABASE_SQL)
        sql_file.chmod(0o644)
        res = subprocess.run([c.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB,
                              "-f", str(sql_file)], env=c.client_env(), capture_output=True)
        if res.returncode:
            raise SystemExit(res.stderr.decode())
        tmp = c.datadir.parent / "managed.dump"
        c.run(["pg_dump", "-Fc", "-f", str(tmp), *(["--statistics"] if statistics else []),
               DB])
        out.write_bytes(tmp.read_bytes())
    return out


def add_security_label(src: Path, dst: Path) -> None:
    """``src`` with a SECURITY LABEL entry on app.orders (and one on a table whose
    extension is missing), written by pgarchive's writer with every data block kept."""
    import pgarchive
    from pgarchive.format.constants import Section
    from pgarchive.format.writer import build_custom

    with pgarchive.open(str(src)) as a:
        entries = list(a.entries)
        data: dict[int, bytes | list[tuple[int, bytes]]] = {}
        for e in entries:
            if e.has_data and e.desc == "TABLE DATA":
                data[e.dump_id] = b"".join(a.data(e))
            elif e.has_data and e.desc == "BLOBS":
                data[e.dump_id] = list(a.read_large_objects(e))
        header = a.header
    top = max(e.dump_id for e in entries)
    tables = {e.tag: e for e in entries if e.desc == "TABLE" and e.namespace == "app"}
    labels = []
    for n, tag in enumerate(("orders", "customers"), start=1):
        t = tables[tag]
        labels.append(t._replace(
            dump_id=top + n, desc="SECURITY LABEL", tag=f"TABLE {tag}",
            section=Section.NONE, defn=f"SECURITY LABEL FOR selinux ON TABLE app.{tag} IS "
            "'system_u:object_r:sepgsql_table_t:s0';\n", drop_stmt="", copy_stmt=None,
            tablespace=None, tableam=None, relkind=0, dependencies=(t.dump_id,),
            had_dumper=False, table_oid=0, oid=0))
    at = max(i for i, e in enumerate(entries) if e.section != Section.POST_DATA) + 1
    dst.write_bytes(build_custom(header, [*entries[:at], *labels, *entries[at:]], data))


if __name__ == "__main__":
    latest = make(18, statistics=True)
    make(15, statistics=False)
    add_security_label(latest, OUT / "pg18" / "seclabel.dump")
    for p in sorted(OUT.rglob("*.dump")):
        print(p.relative_to(HERE), p.stat().st_size)
