-- Replay from bronze (`etl replay`): an archived object is re-derived with the current rules and
-- merged again, as a load of kind 'replay' tied to that object. So an object keeps exactly one load
-- of its own (kind 'object') but may have any number of replay loads.
ALTER TABLE loads DROP CONSTRAINT loads_bronze_object_id_key;
CREATE UNIQUE INDEX loads_one_object_load ON loads (bronze_object_id) WHERE kind = 'object';
-- Look-ups of an object's loads of any kind (lineage, the load's "already loaded?" check).
CREATE INDEX loads_bronze_object ON loads (bronze_object_id);

-- Flat rows whose derived columns a replay changed (the row stays; it is not a new row).
ALTER TABLE loads ADD COLUMN updated_count integer NOT NULL DEFAULT 0;
-- The replay workflow chain (its first run id) that made this load: a retried replay activity
-- whose transaction had committed finds its load and returns its counts instead of a second load.
ALTER TABLE loads ADD COLUMN replay_run_id text;
CREATE UNIQUE INDEX loads_one_replay_per_run ON loads (bronze_object_id, replay_run_id) WHERE kind = 'replay' AND replay_run_id IS NOT NULL;
-- Counts of a replay that have no column of their own (records read, now rejected, still quarantined…).
ALTER TABLE loads ADD COLUMN replay_stats jsonb;
