-- Objects that use what PostgreSQL 15-18 added and pg_dump 18 writes: the archive of this
-- database (dumped by pg_dump 18) must restore on every older target with
-- pgarchive sql --target-version N.  Loaded into a PostgreSQL 18 server as a superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE ROLE tv_owner;
CREATE SCHEMA tv AUTHORIZATION tv_owner;
-- 18: virtual generated columns, NOT NULL NOT VALID, NOT ENFORCED, WITHOUT OVERLAPS
CREATE TABLE tv.gen (a integer NOT NULL, b integer GENERATED ALWAYS AS (a * 2) VIRTUAL,
                     c integer GENERATED ALWAYS AS (a * 3) STORED);
INSERT INTO tv.gen (a) VALUES (1), (2);
CREATE TABLE tv.nn (a integer, b integer);
INSERT INTO tv.nn VALUES (1, NULL);
ALTER TABLE tv.nn ADD CONSTRAINT nn_a_not_null NOT NULL a NOT VALID;
ALTER TABLE tv.nn ADD CONSTRAINT nn_b_check CHECK (b > 0) NOT ENFORCED;
CREATE TABLE tv.inline_checks (a integer, b integer,
                               CONSTRAINT inl_a CHECK (a > 0) NOT ENFORCED,
                               CONSTRAINT inl_b CHECK (b > 0));
CREATE TABLE tv.parent (id integer PRIMARY KEY);
CREATE TABLE tv.child (id integer, parent_id integer,
                       CONSTRAINT child_fk FOREIGN KEY (parent_id) REFERENCES tv.parent (id)
                       NOT ENFORCED);
CREATE EXTENSION btree_gist;
CREATE TABLE tv.booking (room integer, during tstzrange,
                         CONSTRAINT booking_pk PRIMARY KEY (room, during WITHOUT OVERLAPS));
-- 18: publish_generated_columns; default privileges on large objects
CREATE PUBLICATION tv_pub FOR TABLE tv.gen WITH (publish_generated_columns = stored);
ALTER DEFAULT PRIVILEGES FOR ROLE tv_owner GRANT SELECT ON LARGE OBJECTS TO PUBLIC;
-- 17: MAINTAIN, pg_maintain, login event triggers, partitioned table access method,
-- builtin collation provider, subscription failover
GRANT MAINTAIN, SELECT ON tv.parent TO tv_owner;
GRANT SELECT ON tv.child TO pg_maintain;
CREATE FUNCTION tv.on_login() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER tv_login ON login EXECUTE FUNCTION tv.on_login();
ALTER EVENT TRIGGER tv_login DISABLE;
CREATE TABLE tv.parted (id integer, v text) PARTITION BY LIST (id) USING heap;
CREATE TABLE tv.parted_1 PARTITION OF tv.parted FOR VALUES IN (1);
CREATE COLLATION tv.builtin_c (provider = builtin, locale = 'C');
CREATE SUBSCRIPTION tv_sub CONNECTION 'dbname=nowhere' PUBLICATION p
    WITH (connect = false, enabled = false, create_slot = false, slot_name = NONE,
          failover = true, origin = none, password_required = false, run_as_owner = true,
          streaming = parallel, two_phase = true, disable_on_error = true, binary = true);
-- 16: pg_create_subscription
GRANT SELECT ON tv.gen TO pg_create_subscription;
-- 15: NULLS NOT DISTINCT, security_invoker views, unlogged sequences, schema publications,
-- publication column lists and row filters, pg_checkpoint
CREATE TABLE tv.u (a integer, b integer, CONSTRAINT u_ab UNIQUE NULLS NOT DISTINCT (a, b));
CREATE UNIQUE INDEX u_b_idx ON tv.u (b) NULLS NOT DISTINCT;
CREATE VIEW tv.inv WITH (security_invoker = true) AS SELECT a FROM tv.u;
CREATE UNLOGGED SEQUENCE tv.useq;
CREATE PUBLICATION tv_schema_pub FOR TABLES IN SCHEMA tv;
CREATE PUBLICATION tv_cols_pub FOR TABLE tv.u (a, b) WHERE (a > 0);
GRANT SELECT ON tv.u TO pg_checkpoint;
