-- The schema history of every stream (lib/stream-tables.ts): a stream's raw and flat tables are made
-- and changed by `etl migrate` from its declaration, each applied change a new version with the
-- declaration's key and columns, their digest, what changed, and when. A load records the version it
-- loaded with, so lineage can say which version of the rules produced a row. Safe to run twice.
CREATE TABLE IF NOT EXISTS stream_schemas (
  stream     text        NOT NULL,
  version    integer     NOT NULL CHECK (version >= 1),
  key        jsonb       NOT NULL,
  columns    jsonb       NOT NULL,
  digest     text        NOT NULL,
  changes    jsonb       NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, version)
);

ALTER TABLE loads ADD COLUMN IF NOT EXISTS schema_version integer;

COMMENT ON TABLE stream_schemas IS 'Versions of each stream''s table schema, applied by etl migrate from the declaration (etl stream history <stream>)';
COMMENT ON COLUMN loads.schema_version IS 'The stream_schemas version the load ran with; NULL for loads before schema versions were recorded';
