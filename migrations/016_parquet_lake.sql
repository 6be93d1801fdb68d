-- The Parquet lake (docs/lake.md): each loaded bronze object's flat rows as Parquet files, one per
-- event date, at keys derived from the bronze key. lake_objects says which rows_version of an object
-- the lake holds (the object's lake is behind while bronze_objects.rows_version is greater);
-- lake_files lists every key written, and whether it is live: a reader takes the live keys, and a
-- key that is not live (being written, or left from an event date the object no longer has) is
-- deleted by the next write of its object. Safe to run twice.
CREATE TABLE IF NOT EXISTS lake_objects (
  bronze_object_id bigint      PRIMARY KEY,
  stream           text        NOT NULL,
  -- The bronze_objects.rows_version whose rows the live files hold.
  rows_version     integer     NOT NULL,
  rows             bigint      NOT NULL,
  files            integer     NOT NULL,
  written_at       timestamptz NOT NULL DEFAULT now(),
  -- The last failed attempt to write it, cleared by the next write that succeeds.
  failure_code     text,
  failure_message  text,
  failed_at        timestamptz
);
CREATE INDEX IF NOT EXISTS lake_objects_stream ON lake_objects (stream, bronze_object_id);

CREATE TABLE IF NOT EXISTS lake_files (
  object_key       text        PRIMARY KEY,
  bronze_object_id bigint      NOT NULL,
  stream           text        NOT NULL,
  event_date       date        NOT NULL,
  rows             bigint      NOT NULL DEFAULT 0,
  bytes            bigint      NOT NULL DEFAULT 0,
  rows_version     integer     NOT NULL,
  -- false while the file is being written (or was left by an attempt that died), and once its event
  -- date has gone from the object: not part of the lake, deleted by the next write of the object.
  live             boolean     NOT NULL DEFAULT false,
  written_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS lake_files_object ON lake_files (bronze_object_id);
CREATE INDEX IF NOT EXISTS lake_files_stream_date ON lake_files (stream, event_date) WHERE live;

-- The gzip NDJSON silver objects are no longer written: the lake replaced them. The columns stay
-- for the loads that wrote one (their keys still name those objects); new loads leave them NULL.
ALTER TABLE loads ALTER COLUMN silver_key DROP NOT NULL;
COMMENT ON COLUMN loads.silver_key IS 'Retired (migration 016): the NDJSON silver object of loads before the Parquet lake; NULL since';
COMMENT ON COLUMN bronze_objects.silver_key IS 'Retired (migration 016): the NDJSON silver object of loads before the Parquet lake; NULL since (see lake_files)';
