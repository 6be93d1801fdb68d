-- Transform and load are one pass in one transaction (activities/transform-load): an object's
-- transform counts (silver_key, valid_count, quarantined_count, transformed_at) now commit together
-- with its load, so "transformed but not loaded" is no longer a state an object waits in. An object
-- a previous version left there is handed back to the work queue as archived: the pass redoes its
-- transform (same silver key, same lines; its quarantine rows are found already there) in the same
-- transaction as its load. Safe to run twice: the second run finds no such object.
UPDATE bronze_objects
SET silver_key = NULL, valid_count = NULL, quarantined_count = NULL, transformed_at = NULL
WHERE transformed_at IS NOT NULL AND loaded_at IS NULL;

COMMENT ON COLUMN bronze_objects.transformed_at IS 'When the transform of the one pass committed: always in the transaction of the load (loaded_at)';
