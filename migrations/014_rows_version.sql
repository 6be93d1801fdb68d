-- Sinks derived from the flat tables (the Parquet lake, the search index) follow them one bronze
-- object at a time. Every transaction that inserts or re-derives flat rows of an object bumps that
-- object's rows_version: its own load, a replay from bronze, a replay of its quarantined records.
-- A sink that has written version v of an object is behind it exactly when rows_version > v, and
-- reads the object's rows by bronze_object_id (hence the indexes). Safe to run twice.
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS rows_version integer NOT NULL DEFAULT 0;
UPDATE bronze_objects SET rows_version = 1 WHERE loaded_at IS NOT NULL AND rows_version = 0;

CREATE INDEX IF NOT EXISTS transactions_flat_bronze_object ON transactions_flat (bronze_object_id);
CREATE INDEX IF NOT EXISTS ticks_flat_bronze_object ON ticks_flat (bronze_object_id);

COMMENT ON COLUMN bronze_objects.rows_version IS 'Bumped by every transaction that inserts or re-derives flat rows of this object; sinks compare it with the version they wrote';
