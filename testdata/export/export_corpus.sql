-- The export test database: every case COPY text, CSV quoting and the typed decoders must
-- get right.  Loaded by make_export_corpus.py on PostgreSQL 15 and 18 (psql variable
-- `major`), dumped by their pg_dump.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'with space', 'quo"te', 'comma,d');
CREATE TYPE pair AS (a integer, b text);
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN price AS numeric(10,2);
CREATE DOMAIN labels AS text[];
CREATE DOMAIN stamp AS timestamptz;
CREATE SCHEMA "Odd Schema";

-- Text: empty strings and NULLs in one column, every character COPY escapes, quotes,
-- delimiters, spaces at the ends, a lone '\.', non-ASCII.
CREATE TABLE texts (id integer PRIMARY KEY, t text, v varchar(40), c char(6), n name);
INSERT INTO texts VALUES
  (1, NULL, NULL, NULL, NULL),
  (2, '', '', '', ''),
  (3, ' lead', 'trail ', ' both ', ' '),
  (4, E'tab\there', E'new\nline', E'cr\rx', E'crlf\r\n'),
  (5, E'back\\slash', E'\\N', E'\\.', '\.'),
  (6, 'quote"d', '"', '""', 'a,b'),
  (7, ',', E'\b\f\v', E'\x01\x7f', E'\\\\'),
  (8, 'NULL', 'null', '\N', 'N'),
  (9, 'Zoë Ünïcødé', '中文字符', '😀', 'ñ'),
  (10, E'\n', E'\r', E'\t', E'\\'),
  (11, E'x\\ny', E'\\t', 'end\', '\start'),
  (12, repeat('long ', 3), E' \t \n ', '  ', 'ok');

-- One column: an empty string is an empty line of COPY text; '\.' must be quoted in CSV.
CREATE TABLE single (t text);
INSERT INTO single VALUES (''), (NULL), ('\.'), (E'\\.'), ('x'), (' '), (''), ('"');

-- A value long enough to be TOASTed (not compressible to nothing: an md5 chain).
CREATE TABLE toasted (id integer, body text);
INSERT INTO toasted
SELECT 1, string_agg(md5(i::text) || E'\t' || i, E'\n') FROM generate_series(1, 1100) AS i;
INSERT INTO toasted VALUES (2, repeat('x', 5000));

-- Numbers at their limits, NaN and infinities.
CREATE TABLE numbers (id integer, i2 smallint, i4 integer, i8 bigint, f4 real,
                      f8 double precision, n numeric, n2 numeric(10,2), p price, q posint);
INSERT INTO numbers VALUES
  (1, -32768, -2147483648, -9223372036854775808, -3.4e38, -1.7976931348623157e308,
   -123456789012345678901234567890.123456789, -99999999.99, 0.01, 1),
  (2, 32767, 2147483647, 9223372036854775807, 3.4e38, 1e-310, 0.000000000000001,
   99999999.99, 12.5, 2147483647),
  (3, 0, 0, 0, 'NaN', 'NaN', 'NaN', 0, 0, 5),
  (4, NULL, NULL, NULL, 'Infinity', 'Infinity', 'Infinity', NULL, NULL, NULL),
  (5, -1, 1, -1, '-Infinity', '-Infinity', '-Infinity', -0.5, -1.25, 7),
  (6, 7, 8, 9, 0.1, 0.1, 1e20, 1.1, 2.2, 3),
  (7, 1, 2, 3, -0.0, -0.0, -0.0, 0.0, 0.0, 4),
  (8, 2, 3, 4, 1.5e-45, 4.9e-324, 1.0, 1, 1, 6);

-- Dates and times: infinities, BC, five-digit years, fractions, 24:00, intervals.
CREATE TABLE times (id integer, d date, ts timestamp, tz timestamptz, t time, ttz timetz,
                    iv interval, s stamp);
INSERT INTO times VALUES
  (1, 'infinity', 'infinity', 'infinity', '24:00:00', '24:00:00+00', '0', 'infinity'),
  (2, '-infinity', '-infinity', '-infinity', '00:00:00', '00:00:00-12', '-1 days +02:03:04',
   '-infinity'),
  (3, '0044-03-15 BC', '0044-03-15 12:00:00 BC', '0001-01-01 00:00:00+00 BC', '12:34:56.789',
   '12:34:56.789+05:30', '1 year 2 mons 3 days 04:05:06.789', '2024-02-29 12:00:00+00'),
  (4, '4713-11-24 BC', '4713-11-24 00:00:00 BC', '1999-12-31 23:59:59.999999+00',
   '23:59:59.999999', '23:59:59.999999-15:59', '-178000000 years', '1970-01-01 00:00:00+00'),
  (5, '5874897-12-31', '200000-12-31 23:59:59.999999', '200000-12-31 23:59:59+00', '01:02:03',
   '01:02:03+14', '178000000 years', NULL),
  (6, '10000-01-01', '10000-01-01 00:00:00', '10000-01-01 00:00:00+00', NULL, NULL,
   '-1 mons -2 days -00:00:00.000001', '1900-06-15 03:04:05.06+00'),
  (7, '2024-02-29', '2024-02-29 00:00:00.5', '2024-03-31 01:30:00+02', '00:00:00.000001',
   '00:00:00.000001+00', '1000000 days 1000000:00:00', '2024-01-01 00:00:00+00'),
  (8, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- The other kinds: bytea, uuid, json (kept as written) and jsonb, booleans, enums,
-- composites, domains.
CREATE TABLE misc (id integer, b bytea, u uuid, j json, jb jsonb, ok boolean, m mood,
                   pr pair, q posint, ip inet);
INSERT INTO misc VALUES
  (1, '\x', '00000000-0000-0000-0000-000000000000', '{}', '{}', true, 'sad', '(1,x)', 1,
   '10.0.0.1'),
  (2, '\x00ff5c0a0d09', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   E'{"a" : [1, 2.50, "x\\ty"],\n "b": null}', E'{"a": [1, 2.50, "x\\ty"], "b": null}',
   false, 'with space', '(,)', 2, '::1'),
  (3, decode(repeat('ab', 100), 'hex'), NULL, 'null', '"str\"ing"', NULL, 'quo"te',
   '(2,"a b")', 3, NULL),
  (4, NULL, 'ffffffff-ffff-ffff-ffff-ffffffffffff', E'[1e3, -0.5, "\\u00e9", true]',
   '[1e3, -0.5, "é", true, {"n": {"m": []}}]', true, 'comma,d', NULL, NULL, '192.168.1.0/24'),
  (5, '\x5c', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', '12345678901234567890',
   '12345678901234567890.5', false, NULL, '(3,"quo""te\\back")', 4, '::ffff:1.2.3.4');

-- Arrays: NULL elements, quoted elements, empty arrays, domains and enums of arrays.
CREATE TABLE arrays (id integer, ia integer[], ta text[], na numeric(10,2)[], fa float8[],
                     ba boolean[], da date[], tza timestamptz[], ja jsonb[], ea mood[],
                     la labels, ua uuid[]);
INSERT INTO arrays VALUES
  (1, '{1,NULL,3}', '{"a b","c\"d",NULL,"NULL","",",","back\\slash","{}"}', '{1.5,NULL,-2}',
   '{NaN,Infinity,-0.5,1e300}', '{t,f,NULL}', '{2024-01-01,NULL}',
   '{"2024-01-01 00:00:00+00",NULL}', ARRAY['{"a": 1}'::jsonb, '[1, "x"]', NULL],
   '{sad,"with space","quo\"te"}', '{x,y}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'),
  (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, '{-2147483648}', ARRAY[E'tab\there', E'new\nline', ' sp '], '{0.01}', '{1}', '{t}',
   '{1999-12-31}', '{"1999-12-31 23:59:59.5+00"}', ARRAY['null'::jsonb], '{comma\,d}',
   ARRAY[E'\\'], '{}');

-- Arrays of more than one dimension (jsonl nests them; Parquet lists cannot hold them).
CREATE TABLE matrix (id integer, m integer[][], t text[]);
INSERT INTO matrix VALUES (1, '{{1,2},{3,NULL}}', '{{"a","b"},{"c","d"}}'),
                          (2, '[0:1]={5,6}', '{x}');

-- What CSV and JSON carry but Arrow cannot: numeric(p,s) NaN (decimal128 has none), a
-- timestamp after 294247 AD (PostgreSQL counts from 2000, timestamp[us] from 1970).
CREATE TABLE no_arrow (id integer, n numeric(10,2), ts timestamp);
INSERT INTO no_arrow VALUES (1, 1.5, '2000-01-01'), (2, 1, '294276-12-31 23:59:59.999999'),
                            (3, 'NaN', '2000-01-01');

-- A generated column (not in COPY), a dropped one, identity; a name to make file names from.
CREATE TABLE "Odd Schema"."we/ird ""name""" (
    id integer GENERATED ALWAYS AS IDENTITY, gone text, "Col, with ""quotes""" text,
    twice integer GENERATED ALWAYS AS (id * 2) STORED, "\." text);
ALTER TABLE "Odd Schema"."we/ird ""name""" DROP COLUMN gone;
INSERT INTO "Odd Schema"."we/ird ""name""" ("Col, with ""quotes""", "\.") VALUES
  ('a', 'b'), (NULL, ''), ('"', '\.');

-- Inheritance: the child's CREATE lists only its own columns.
CREATE TABLE parent (id integer, label text);
CREATE TABLE child (extra numeric(6,3)) INHERITS (parent);
INSERT INTO child VALUES (1, 'one', 1.5), (2, NULL, NULL);

CREATE TABLE empty (id integer, t text);

SELECT lo_from_bytea(80001, '\x00010203ff'::bytea);
SELECT lo_from_bytea(80002, convert_to(repeat('large object ', 2000), 'UTF8'));
