-- Objects loaded before 004 added conflict_count have NULL there: no conflicts were detected then,
-- so their count is 0. Without this, sums over the column skip those objects (NULL + n is NULL).
UPDATE bronze_objects SET conflict_count = 0 WHERE conflict_count IS NULL AND loaded_at IS NOT NULL;
