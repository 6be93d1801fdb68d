-- Schema drift (streams/drift.ts): the fields records carried that their stream's schema does not
-- declare, counted by the transform pass of each load and recorded beside it in the load's
-- transaction, so they are counted once per bronze object whatever retries happen. `etl stream
-- drift <stream>` lists them; `etl status` and the dashboard's pipeline panel summarize them.
-- A load tracks at most 100 distinct fields by name (MAX_DRIFT_FIELDS); the records carrying any
-- undeclared field are counted on the load itself. Safe to run twice.
CREATE TABLE IF NOT EXISTS load_drift (
  load_id          bigint  NOT NULL REFERENCES loads (load_id),
  field            text    NOT NULL,
  stream           text    NOT NULL,
  records          integer NOT NULL CHECK (records >= 1),
  bronze_object_id bigint  NOT NULL,
  first_partition  integer NOT NULL,
  first_offset     bigint  NOT NULL,
  PRIMARY KEY (load_id, field)
);

CREATE INDEX IF NOT EXISTS load_drift_stream_field ON load_drift (stream, field);

ALTER TABLE loads ADD COLUMN IF NOT EXISTS undeclared_records integer NOT NULL DEFAULT 0;

COMMENT ON TABLE load_drift IS 'Fields records carried that their stream does not declare, per load: how many records carried each, and where it was first seen (etl stream drift <stream>)';
COMMENT ON COLUMN loads.undeclared_records IS 'Records of the load that carried any field their stream does not declare (load_drift names them)';
