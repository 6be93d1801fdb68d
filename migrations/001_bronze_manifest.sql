-- The bronze manifest: one row per S3 object, each covering a contiguous Kafka offset range of one
-- partition. A row is planned ('pending') before its object is written and becomes 'archived' once
-- the object is durable, so a retried archive rewrites the same object instead of creating another.
CREATE TABLE bronze_objects (
  id               bigserial PRIMARY KEY,
  stream           text        NOT NULL,
  topic            text        NOT NULL,
  kafka_partition  integer     NOT NULL CHECK (kafka_partition >= 0),
  first_offset     bigint      NOT NULL CHECK (first_offset >= 0),
  last_offset      bigint      NOT NULL,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'archived')),
  object_key       text        UNIQUE,
  record_count     integer,
  byte_count       bigint,
  min_event_ts     timestamptz,
  max_event_ts     timestamptz,
  planned_at       timestamptz NOT NULL DEFAULT now(),
  archived_at      timestamptz,
  -- filled by transform
  silver_key       text,
  valid_count      integer,
  quarantined_count integer,
  transformed_at   timestamptz,
  -- filled by load
  load_id          bigint,
  inserted_count   integer,
  duplicate_count  integer,
  loaded_at        timestamptz,
  CHECK (last_offset >= first_offset),
  CHECK (status = 'pending' OR (object_key IS NOT NULL AND record_count IS NOT NULL)),
  UNIQUE (topic, kafka_partition, first_offset)
);
CREATE INDEX bronze_objects_unloaded ON bronze_objects (stream, id) WHERE loaded_at IS NULL;
CREATE INDEX bronze_objects_event_ts ON bronze_objects (stream, min_event_ts, max_event_ts);

-- One row per load of a bronze object; the primary key doubles as the lineage id on loaded rows.
CREATE TABLE loads (
  load_id          bigserial PRIMARY KEY,
  bronze_object_id bigint      NOT NULL UNIQUE REFERENCES bronze_objects (id),
  stream           text        NOT NULL,
  silver_key       text        NOT NULL,
  rows_in          integer     NOT NULL,
  inserted_count   integer     NOT NULL,
  duplicate_count  integer     NOT NULL,
  workflow_id      text,
  loaded_at        timestamptz NOT NULL DEFAULT now()
);

-- Records that failed validation: kept with their reason and their original bytes, never dropped.
CREATE TABLE quarantine (
  id               bigserial PRIMARY KEY,
  stream           text        NOT NULL,
  kafka_topic      text        NOT NULL,
  kafka_partition  integer     NOT NULL,
  kafka_offset     bigint      NOT NULL,
  bronze_object_id bigint      REFERENCES bronze_objects (id),
  reason_code      text        NOT NULL,
  reason           text        NOT NULL,
  payload          text,
  payload_encoding text        NOT NULL CHECK (payload_encoding IN ('utf8', 'base64', 'null')),
  quarantined_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kafka_topic, kafka_partition, kafka_offset)
);
CREATE INDEX quarantine_reason ON quarantine (stream, reason_code);

CREATE TABLE quality_results (
  id          bigserial PRIMARY KEY,
  run_id      text        NOT NULL,
  stream      text        NOT NULL,
  check_name  text        NOT NULL,
  passed      boolean     NOT NULL,
  observed    text,
  expected    text,
  details     text,
  checked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_results_run ON quality_results (run_id);
