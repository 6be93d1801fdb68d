-- An attempt that ends by a crash (SIGKILL, out of memory, a native fault) or hangs past its
-- timeouts ends without an outcome: none of our code runs to classify it, and Temporal retries a
-- timeout without limit, as it does a transient failure. A unit of work that kills its worker every
-- time would be retried forever. So each attempt at a unit (an object's transform-and-load, a lake
-- write, a file version's read, a replayed object) signs in here when it starts, and its row is
-- deleted when an attempt ends with any outcome: open_attempts counts the attempts since the last
-- outcome, all but the running one lost (activities/attempts.ts). Safe to run twice.
CREATE TABLE IF NOT EXISTS unit_attempts (
  unit text PRIMARY KEY,
  open_attempts integer NOT NULL CHECK (open_attempts >= 1),
  first_started_at timestamptz NOT NULL DEFAULT now(),
  last_started_at timestamptz NOT NULL DEFAULT now(),
  workflow_id text,
  activity_attempt integer
);

COMMENT ON TABLE unit_attempts IS 'Attempts at a unit of work since its last outcome; lost ones (crash, hang) are bounded by UNKNOWN_ERROR_MAX_ATTEMPTS';
