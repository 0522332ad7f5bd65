-- The test database of the pgarchive corpus.  Loads on PostgreSQL 14 to 18 and is dumped by
-- each of them (see make_corpus.py).  Small tables, deterministic rows, many object kinds.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE ROLE alice;
CREATE ROLE "Bob Smith";
CREATE ROLE reader;

CREATE EXTENSION citext;

CREATE SCHEMA app AUTHORIZATION alice;
COMMENT ON SCHEMA app IS 'the application schema';
CREATE SCHEMA "Mixed Case Schema" AUTHORIZATION "Bob Smith";
GRANT USAGE ON SCHEMA app TO reader;

CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.pair AS (a integer, b text);
CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);
CREATE COLLATION app.c_coll FROM "C";
CREATE SEQUENCE app.ticket_seq START 100;
SELECT setval('app.ticket_seq', 321);

CREATE FUNCTION app.double_it(x integer) RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := '2024-01-01 00:00:00';
    RETURN NEW;
END $$;
CREATE FUNCTION app.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END $$;
COMMENT ON FUNCTION app.double_it(integer) IS 'doubles';
CREATE PROCEDURE app.bump(n integer) LANGUAGE sql AS 'SELECT n';
CREATE AGGREGATE app.total(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0');

-- Many column types, an identity column, a citext (extension) column, a domain, an enum, a
-- composite, defaults that call a function and a sequence, every kind of constraint.
CREATE TABLE app.customers (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email citext UNIQUE,
    mood app.mood,
    born date,
    score numeric(8,2) CHECK (score >= 0),
    tags text[],
    doc jsonb,
    flags bit(4),
    uid uuid,
    created timestamptz,
    pt point,
    ip inet,
    raw bytea,
    pr app.pair,
    qty app.posint DEFAULT app.double_it(1),
    code text COLLATE app.c_coll,
    active boolean DEFAULT true,
    during tstzrange
);
ALTER TABLE app.customers OWNER TO alice;
COMMENT ON TABLE app.customers IS 'customers, one row each';
COMMENT ON COLUMN app.customers.email IS 'case-insensitive';
GRANT SELECT ON app.customers TO reader;
GRANT UPDATE (name) ON app.customers TO "Bob Smith";
CREATE INDEX customers_name_idx ON app.customers (name);
CREATE INDEX customers_lower_idx ON app.customers (lower(name)) WHERE active;
CREATE INDEX customers_tags_gin ON app.customers USING gin (tags);
CREATE INDEX customers_pt_gist ON app.customers USING gist (pt);
CREATE INDEX customers_born_brin ON app.customers USING brin (born);
CREATE INDEX customers_code_hash ON app.customers USING hash (code);
CREATE STATISTICS app.customers_stats (dependencies) ON name, code FROM app.customers;
ALTER TABLE app.customers ADD CONSTRAINT customers_no_overlap EXCLUDE USING gist (during WITH &&);

INSERT INTO app.customers (name, email, mood, born, score, tags, doc, flags, uid, created, pt,
                           ip, raw, pr, qty, code, active, during)
SELECT CASE i % 7
           WHEN 0 THEN 'O''Brien ' || i
           WHEN 1 THEN E'tab\there ' || i
           WHEN 2 THEN E'line\nbreak ' || i
           WHEN 3 THEN E'back\\slash ' || i
           WHEN 4 THEN 'Zoë Ünïcødé ' || i
           ELSE 'name ' || i END,
       'user' || i || '@Example.com',
       (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::app.mood,
       DATE '1970-01-01' + i * 37,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 1.25)::numeric(8,2) END,
       ARRAY['t' || i % 5, 't' || i % 3],
       jsonb_build_object('i', i, 'sq', i * i, 'nested', jsonb_build_array(i, 'x')),
       (i % 16)::bit(4),
       md5(i::text)::uuid,
       TIMESTAMPTZ '2024-03-01 12:00:00+00' + i * INTERVAL '1 hour',
       point(i, i % 10),
       ('10.0.' || (i % 256) || '.' || (i % 100))::inet,
       decode(md5(i::text), 'hex'),
       ROW(i, 'p' || i)::app.pair,
       1 + i % 9,
       'code' || i,
       i % 4 <> 0,
       tstzrange(TIMESTAMPTZ '2020-01-01+00' + i * INTERVAL '1 day',
                 TIMESTAMPTZ '2020-01-01+00' + (i + 1) * INTERVAL '1 day')
FROM generate_series(1, 150) AS i;

CREATE TABLE app.orders (
    id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES app.customers (id) ON DELETE CASCADE,
    ticket integer DEFAULT nextval('app.ticket_seq'),
    total numeric(12,2) NOT NULL CHECK (total >= 0),
    note text,
    placed_at timestamp NOT NULL,
    updated_at timestamp
);
COMMENT ON TABLE app.orders IS 'orders; row security on';
GRANT SELECT, INSERT ON app.orders TO reader;
GRANT USAGE ON SEQUENCE app.orders_id_seq TO reader;
CREATE INDEX orders_customer_idx ON app.orders (customer_id);
CREATE UNIQUE INDEX orders_ticket_key ON app.orders (ticket) WHERE ticket IS NOT NULL;
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders
    FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER orders_audit AFTER INSERT OR DELETE ON app.orders
    FOR EACH STATEMENT EXECUTE FUNCTION app.audit();
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_positive ON app.orders FOR SELECT TO reader USING (total >= 0);
INSERT INTO app.orders (customer_id, total, note, placed_at)
SELECT 1 + i % 150, (i * 3.5)::numeric(12,2),
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i || E' \\N literal' END,
       TIMESTAMP '2024-01-01' + i * INTERVAL '90 minutes'
FROM generate_series(1, 400) AS i;

-- A schema and a table whose names need quoting; a table whose name has a newline and a quote.
CREATE TABLE "Mixed Case Schema"."Order Lines" (
    order_id bigint REFERENCES app.orders (id),
    line_no integer,
    "Item Name" text,
    qty integer CHECK (qty > 0),
    PRIMARY KEY (order_id, line_no)
);
ALTER TABLE "Mixed Case Schema"."Order Lines" OWNER TO "Bob Smith";
COMMENT ON TABLE "Mixed Case Schema"."Order Lines" IS 'lines of orders';
INSERT INTO "Mixed Case Schema"."Order Lines"
SELECT 1 + i / 3, i % 3, 'item "' || i || '"', 1 + i % 4 FROM generate_series(0, 899) AS i;

CREATE TABLE public."odd ""quoted""
name" (id integer PRIMARY KEY, val text);
INSERT INTO public."odd ""quoted""
name" SELECT i, repeat('v', i) FROM generate_series(1, 20) AS i;

CREATE TABLE public.empty_table (id integer);

-- Partitioning and inheritance.
CREATE TABLE app.events (
    id integer NOT NULL,
    at date NOT NULL,
    payload text,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_2025 PARTITION OF app.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.events_other PARTITION OF app.events DEFAULT;
CREATE INDEX events_payload_idx ON app.events (payload);
INSERT INTO app.events
SELECT i, DATE '2023-10-01' + i * 3, 'event ' || i FROM generate_series(1, 300) AS i;

CREATE TABLE app.vehicles (id integer PRIMARY KEY, name text);
CREATE TABLE app.cars (doors integer DEFAULT 4) INHERITS (app.vehicles);
INSERT INTO app.vehicles VALUES (1, 'bike'), (2, 'boat');
INSERT INTO app.cars VALUES (3, 'sedan', 4), (4, 'coupe', 2);

-- Views, a materialized view, a rule.
CREATE VIEW app.order_totals AS
    SELECT c.id, c.name, sum(o.total) AS total
    FROM app.customers c JOIN app.orders o ON o.customer_id = c.id
    GROUP BY c.id, c.name;
COMMENT ON VIEW app.order_totals IS 'totals per customer';
GRANT SELECT ON app.order_totals TO reader;
CREATE MATERIALIZED VIEW app.order_stats AS
    SELECT customer_id, count(*) AS n FROM app.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_stats_customer ON app.order_stats (customer_id);
CREATE TABLE app.order_log (id integer, what text);
CREATE RULE order_log_ignore_delete AS ON DELETE TO app.order_log DO INSTEAD NOTHING;

-- Default privileges and large objects (one with a comment and a grant; one > 16 kB).
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO reader;
SELECT lo_from_bytea(70001, convert_to('small large object', 'UTF8'));
SELECT lo_from_bytea(70002, decode(repeat(md5('x'), 1200), 'hex'));
COMMENT ON LARGE OBJECT 70001 IS 'a small one';
GRANT SELECT ON LARGE OBJECT 70001 TO reader;

-- Every other kind of object pg_dump writes, so that each of their DROP statements is
-- rewritten by pg_restore --clean --if-exists somewhere in the corpus (issue 15).
CREATE FUNCTION app.noop_event() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER corpus_ddl ON ddl_command_end EXECUTE FUNCTION app.noop_event();
ALTER EVENT TRIGGER corpus_ddl DISABLE;
COMMENT ON EVENT TRIGGER corpus_ddl IS 'does nothing, and is disabled';
CREATE FOREIGN DATA WRAPPER corpus_fdw;
CREATE SERVER corpus_server FOREIGN DATA WRAPPER corpus_fdw OPTIONS (host 'nowhere');
-- FOR PUBLIC: a mapping naming a role would need that role even with --no-owner --no-acl
CREATE USER MAPPING FOR PUBLIC SERVER corpus_server OPTIONS (user 'remote');
CREATE FOREIGN TABLE app.remote_items (id integer, name text) SERVER corpus_server;
GRANT USAGE ON FOREIGN SERVER corpus_server TO reader;
CREATE TEXT SEARCH DICTIONARY app.simple_dict (TEMPLATE = pg_catalog.simple, STOPWORDS = english);
CREATE TEXT SEARCH CONFIGURATION app.simple_cfg (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION app.simple_cfg ALTER MAPPING FOR word WITH app.simple_dict;
CREATE TEXT SEARCH PARSER app.default_parser (START = prsd_start, GETTOKEN = prsd_nexttoken,
    END = prsd_end, LEXTYPES = prsd_lextype);
CREATE TEXT SEARCH TEMPLATE app.simple_template (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE FUNCTION app.abs_lt(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS 'SELECT abs($1) < abs($2)';
CREATE OPERATOR app.<<< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app.abs_lt);
CREATE FUNCTION app.abs_cmp(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE
    AS 'SELECT btint4cmp(abs($1), abs($2))';
CREATE OPERATOR FAMILY app.abs_ops USING btree;
CREATE OPERATOR CLASS app.abs_int_ops FOR TYPE integer USING btree FAMILY app.abs_ops AS
    OPERATOR 1 app.<<<, FUNCTION 1 app.abs_cmp(integer, integer);
CREATE FUNCTION app.mood_rank(app.mood) RETURNS integer LANGUAGE sql IMMUTABLE
    AS $$SELECT array_position(enum_range(NULL::app.mood), $1)$$;
CREATE CAST (app.mood AS integer) WITH FUNCTION app.mood_rank(app.mood);
CREATE FUNCTION app.pair_from_sql(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT
    AS 'int4recv';
CREATE TRANSFORM FOR app.pair LANGUAGE plpgsql (FROM SQL WITH FUNCTION app.pair_from_sql(internal));
CREATE CONVERSION app.latin1_to_utf8 FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
CREATE AGGREGATE app.longest(text) (SFUNC = pg_catalog.text_larger, STYPE = text);
COMMENT ON AGGREGATE app.longest(text) IS 'the largest text';
CREATE PROCEDURE app.reset_ticket() LANGUAGE plpgsql AS $$BEGIN PERFORM 1; END$$;
CREATE POLICY orders_owner ON app.orders FOR UPDATE TO alice USING (customer_id > 0)
    WITH CHECK (total >= 0);
COMMENT ON POLICY orders_owner ON app.orders IS 'alice updates';
CREATE RULE order_log_no_update AS ON UPDATE TO app.order_log DO INSTEAD NOTHING;
CREATE STATISTICS app.orders_ndistinct (ndistinct) ON customer_id, ticket FROM app.orders;
CREATE COLLATION app."C numeric" (provider = libc, locale = 'C', deterministic = true);
ALTER DEFAULT PRIVILEGES FOR ROLE alice GRANT EXECUTE ON FUNCTIONS TO reader;
ALTER DEFAULT PRIVILEGES FOR ROLE alice REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE TYPE app.floatrange AS RANGE (subtype = float8);
CREATE DOMAIN app.short_text AS text CONSTRAINT short CHECK (length(VALUE) < 100)
    NOT NULL DEFAULT '';
CREATE SEQUENCE app.standalone_seq AS smallint INCREMENT 5;
GRANT USAGE ON TYPE app.mood TO reader;
GRANT EXECUTE ON FUNCTION app.double_it(integer) TO reader;
CREATE PUBLICATION corpus_pub FOR TABLE app.orders, app.vehicles WITH (publish = 'insert');
COMMENT ON PUBLICATION corpus_pub IS 'orders and vehicles';
-- Created disabled, without connecting anywhere (the connection string is never used).
CREATE SUBSCRIPTION corpus_sub CONNECTION 'host=127.0.0.1 port=1 dbname=nowhere'
    PUBLICATION corpus_pub
    WITH (connect = false, enabled = false, create_slot = false, slot_name = NONE);
COMMENT ON SUBSCRIPTION corpus_sub IS 'never enabled';
CREATE TABLE app."Order" (id integer, "user" text, "select" boolean);
COMMENT ON COLUMN app."Order"."user" IS 'keywords as names';
INSERT INTO app."Order" VALUES (1, 'a', true), (2, NULL, false);
CREATE MATERIALIZED VIEW app.vehicle_names AS SELECT name FROM app.vehicles WITH NO DATA;

ANALYZE;
