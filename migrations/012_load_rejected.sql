-- Rows PostgreSQL refused to store at load (a value it cannot hold, a constraint the stream's rules
-- do not know) are quarantined as LOAD_REJECTED while the rest of their object loads; loads and the
-- manifest count them next to inserts, duplicates and conflicts, so valid = inserted + duplicates
-- + conflicts + rejected is checked per object.
ALTER TABLE loads ADD COLUMN IF NOT EXISTS rejected_count integer NOT NULL DEFAULT 0;
ALTER TABLE bronze_objects ADD COLUMN IF NOT EXISTS rejected_count integer;
-- Objects loaded before this migration had no rejected rows (a refused row failed the whole load).
UPDATE bronze_objects SET rejected_count = 0 WHERE rejected_count IS NULL AND loaded_at IS NOT NULL;
