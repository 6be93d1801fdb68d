-- A record whose key was already loaded with a different payload is quarantined at load time
-- (never silently overwritten), so loads count conflicts next to inserts and duplicates.
ALTER TABLE loads ADD COLUMN conflict_count integer NOT NULL DEFAULT 0;
ALTER TABLE bronze_objects ADD COLUMN conflict_count integer;

-- Replays of quarantined records (`etl quarantine replay`) are loads of their own, not tied to
-- one bronze object; each replayed quarantine row points at the load that resolved it.
ALTER TABLE loads ALTER COLUMN bronze_object_id DROP NOT NULL;
ALTER TABLE loads ADD COLUMN kind text NOT NULL DEFAULT 'object' CHECK (kind IN ('object', 'replay'));
ALTER TABLE loads ADD CONSTRAINT loads_object_has_bronze CHECK (kind = 'replay' OR bronze_object_id IS NOT NULL);
ALTER TABLE quarantine ADD COLUMN replayed_at timestamptz;
ALTER TABLE quarantine ADD COLUMN replay_load_id bigint REFERENCES loads (load_id);
