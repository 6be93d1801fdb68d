-- File sources (docs/files.md): JSONL and CSV files from a folder or an S3 landing prefix, read into
-- bronze without Kafka. The manifest stays one table: bronze_objects rows now say which kind of
-- source their records came from. A Kafka object keeps everything it had (source_kind 'kafka',
-- topic, partition, offset range). A file object reuses the same position columns for its own
-- position, so every check that tiles (topic, kafka_partition) ranges keeps working unchanged:
--   topic           'files:<stream>' (never a Kafka topic name: ':' is not allowed in one)
--   kafka_partition the file version (source_files.id)
--   first/last_offset the range of line numbers of the file the object holds (1-based)
-- Records of a file carry the same triple as their lineage (flat rows, quarantine rows).
-- Safe to run twice.

-- One row per version of a file: a location plus a content identity. A file that changes under the
-- same name is a new row (version + 1), read and loaded as such; an identity seen before is never
-- read again. status: 'new' (registered, not read), 'read' (every line is in archived bronze
-- objects), 'failed' (unreadable or changed while read: the reason is kept, the run reports it).
CREATE TABLE IF NOT EXISTS source_files (
  id              serial      PRIMARY KEY,
  stream          text        NOT NULL,
  -- s3://bucket/key or file:///absolute/path
  location        text        NOT NULL,
  -- S3: etag:<ETag>:size:<bytes>; local: sha256:<hex>:size:<bytes>
  identity        text        NOT NULL,
  version         integer     NOT NULL CHECK (version >= 1),
  format          text        NOT NULL CHECK (format IN ('jsonl', 'csv')),
  compression     text        NOT NULL CHECK (compression IN ('none', 'gzip')),
  size_bytes      bigint      NOT NULL,
  -- S3 LastModified, or the local mtime: the records' "Kafka timestamp" and the bronze keys' dt/hour.
  modified_at     timestamptz NOT NULL,
  etag            text,
  content_sha256  text,
  status          text        NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'read', 'failed')),
  lines_read      bigint,
  record_count    bigint,
  object_count    integer,
  error_code      text,
  error_message   text,
  discovered_by   text,
  discovered_at   timestamptz NOT NULL DEFAULT now(),
  read_at         timestamptz,
  UNIQUE (stream, location, identity),
  UNIQUE (stream, location, version)
);
CREATE INDEX IF NOT EXISTS source_files_unread ON source_files (stream, id) WHERE status = 'new';
CREATE INDEX IF NOT EXISTS source_files_discovered_by ON source_files (discovered_by);

ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS source_kind text NOT NULL DEFAULT 'kafka';
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS source_file_id integer REFERENCES source_files (id);
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'bronze_objects_source_kind_check') THEN
    ALTER TABLE bronze_objects ADD CONSTRAINT bronze_objects_source_kind_check CHECK (
      (source_kind = 'kafka' AND source_file_id IS NULL)
      OR (source_kind = 'file' AND source_file_id IS NOT NULL AND kafka_partition = source_file_id AND first_offset >= 1));
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS bronze_objects_source_file ON bronze_objects (source_file_id) WHERE source_file_id IS NOT NULL;

COMMENT ON COLUMN bronze_objects.source_kind IS '''kafka'': topic/partition/offsets are Kafka''s; ''file'': topic files:<stream>, partition = source_files.id, offsets = line numbers';
COMMENT ON TABLE source_files IS 'Versions of source files (location + content identity), each read exactly once into bronze';
