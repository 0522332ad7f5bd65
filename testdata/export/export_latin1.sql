-- A LATIN1 database: CSV must come out in LATIN1 bytes, JSON and Parquet in Unicode.
\set ON_ERROR_STOP 1
SET client_encoding = 'UTF8';
CREATE TABLE latin (id integer, t text, v varchar(20));
INSERT INTO latin VALUES
  (1, 'café', 'naïve'), (2, 'Ünïcødé ÿ', E'tab\tÀ'), (3, '', NULL),
  (4, E'\u00a0nbsp\u00a0', 'quote"ß,'), (5, E'back\\slash ½', E'new\nline ©');
