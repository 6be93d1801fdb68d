-- A bronze object whose transform or load failed for good (an unclassified error after its bounded
-- retries, or a permanent one) is parked: it keeps its manifest row, status 'archived' and its offset
-- range (so the partition's ranges still tile), is skipped by the work queue, and records why. `etl
-- objects retry <id>` clears parked_at and loads it; the last failure stays for the record.
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS parked_at timestamptz;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS failure_code text;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS failure_message text;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS failure_stack text;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS failure_attempts integer;
-- 'transform' or 'load': the step that failed.
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS failure_step text;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS failure_workflow_id text;
-- How many times it was parked, and when it was last un-parked by a retry.
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS park_count integer NOT NULL DEFAULT 0;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS retried_at timestamptz;
CREATE INDEX IF NOT EXISTS bronze_objects_parked ON bronze_objects (stream, id) WHERE parked_at IS NOT NULL;
