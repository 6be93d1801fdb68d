-- Seed-compatible tables: existing SQL tools and dashboards query these names and columns.
-- Lineage columns (load_id, bronze_object_id, kafka_*) come after them.
CREATE TABLE raw_transactions (
  transaction_id   uuid PRIMARY KEY,
  event_ts         timestamptz NOT NULL,
  payload          jsonb       NOT NULL,
  ingested_at      timestamptz NOT NULL DEFAULT now(),
  load_id          bigint      REFERENCES loads (load_id),
  bronze_object_id bigint      REFERENCES bronze_objects (id),
  kafka_topic      text,
  kafka_partition  integer,
  kafka_offset     bigint
);

CREATE TABLE transactions_flat (
  transaction_id   uuid PRIMARY KEY,
  event_ts         timestamptz   NOT NULL,
  event_date       date          NOT NULL,
  event_hour       smallint      NOT NULL CHECK (event_hour BETWEEN 0 AND 23),
  event_dayofweek  text          NOT NULL,
  user_id          bigint        NOT NULL,
  amount           numeric(12,2) NOT NULL CHECK (amount > 0),
  amount_bucket    text          NOT NULL,
  merchant         text          NOT NULL,
  category         text          NOT NULL,
  city             text          NOT NULL,
  status           text          NOT NULL,
  payment_method   text          NOT NULL,
  currency         text          NOT NULL,
  ingested_at      timestamptz   NOT NULL DEFAULT now(),
  load_id          bigint        REFERENCES loads (load_id),
  bronze_object_id bigint        REFERENCES bronze_objects (id),
  kafka_topic      text,
  kafka_partition  integer,
  kafka_offset     bigint
);
CREATE INDEX transactions_flat_user_id ON transactions_flat (user_id);
CREATE INDEX transactions_flat_event_ts ON transactions_flat (event_ts);
CREATE INDEX transactions_flat_category ON transactions_flat (category);

CREATE MATERIALIZED VIEW daily_summary AS
SELECT event_date,
       city,
       category,
       count(*)::bigint                                        AS transaction_count,
       sum(amount)::numeric(14,2)                              AS total_amount,
       coalesce(sum(amount) FILTER (WHERE status = 'APPROVED'), 0)::numeric(14,2) AS approved_amount
FROM transactions_flat
GROUP BY event_date, city, category;
-- Unique index: lets the pipeline refresh CONCURRENTLY, so readers are never blocked.
CREATE UNIQUE INDEX daily_summary_key ON daily_summary (event_date, city, category);
