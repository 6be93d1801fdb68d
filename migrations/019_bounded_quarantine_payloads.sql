-- A quarantined value larger than MAX_VALUE_BYTES is not kept whole: its row holds its first bytes
-- in `payload`, and these say what the whole value was — its size in bytes and its SHA-256 (hex) —
-- so it can be found and checked in bronze (the row's bronze object, at its offset). Both are null
-- when `payload` is the whole value. Safe to run twice.
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS payload_bytes bigint;
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS payload_sha256 text;

COMMENT ON COLUMN quarantine.payload_bytes IS 'Size of the whole value when payload holds only its first bytes (TOO_LARGE); null when payload is whole';
COMMENT ON COLUMN quarantine.payload_sha256 IS 'SHA-256 (hex) of the whole value when payload holds only its first bytes; null when payload is whole';
