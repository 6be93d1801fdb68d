-- Market ticks (streams/ticks): raw payloads, a flat table for SQL tools, and OHLCV candles.
-- Same layout as the transactions tables: the key first, lineage columns last.
CREATE TABLE raw_ticks (
  tick_id          uuid PRIMARY KEY,
  event_ts         timestamptz NOT NULL,
  payload          jsonb       NOT NULL,
  ingested_at      timestamptz NOT NULL DEFAULT now(),
  load_id          bigint      REFERENCES loads (load_id),
  bronze_object_id bigint      REFERENCES bronze_objects (id),
  kafka_topic      text,
  kafka_partition  integer,
  kafka_offset     bigint
);

CREATE TABLE ticks_flat (
  tick_id          uuid PRIMARY KEY,
  symbol           text           NOT NULL,
  source           text           NOT NULL,
  asset_class      text           NOT NULL,
  event_ts         timestamptz    NOT NULL,
  event_date       date           NOT NULL,
  event_hour       smallint       NOT NULL CHECK (event_hour BETWEEN 0 AND 23),
  event_dayofweek  text           NOT NULL,
  minute_ts        timestamptz    NOT NULL,
  session          text           NOT NULL,
  price            numeric(20,8)  NOT NULL CHECK (price > 0),
  volume           numeric(28,8)           CHECK (volume >= 0),
  currency         text           NOT NULL,
  exchange         text,
  ingested_at      timestamptz    NOT NULL DEFAULT now(),
  load_id          bigint         REFERENCES loads (load_id),
  bronze_object_id bigint         REFERENCES bronze_objects (id),
  kafka_topic      text,
  kafka_partition  integer,
  kafka_offset     bigint
);
-- Candles are recomputed per (symbol, source, minute) from this index.
CREATE INDEX ticks_flat_symbol_minute ON ticks_flat (symbol, source, minute_ts);
CREATE INDEX ticks_flat_event_ts ON ticks_flat (event_ts);

-- One-minute OHLCV per symbol and source, recomputed from ticks_flat for every minute a load touches,
-- so late and out-of-order ticks land in the right candle. Volume is NULL when no tick had one.
CREATE TABLE candles_1m (
  symbol        text          NOT NULL,
  source        text          NOT NULL,
  bucket_start  timestamptz   NOT NULL,
  open          numeric(20,8) NOT NULL,
  high          numeric(20,8) NOT NULL,
  low           numeric(20,8) NOT NULL,
  close         numeric(20,8) NOT NULL,
  volume        numeric(28,8),
  tick_count    integer       NOT NULL CHECK (tick_count > 0),
  first_tick_ts timestamptz   NOT NULL,
  last_tick_ts  timestamptz   NOT NULL,
  currency      text          NOT NULL,
  updated_at    timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, source, bucket_start),
  CHECK (low <= open AND low <= close AND high >= open AND high >= close)
);

-- Coarser candles derive from the minute ones on read (UTC hours and days): always consistent with
-- candles_1m, nothing to refresh.
CREATE VIEW candles_1h AS
SELECT symbol, source, date_trunc('hour', bucket_start, 'UTC') AS bucket_start,
       (array_agg(open ORDER BY bucket_start))[1] AS open, max(high) AS high, min(low) AS low,
       (array_agg(close ORDER BY bucket_start DESC))[1] AS close, sum(volume) AS volume,
       sum(tick_count)::integer AS tick_count, min(first_tick_ts) AS first_tick_ts, max(last_tick_ts) AS last_tick_ts,
       min(currency) AS currency
FROM candles_1m
GROUP BY symbol, source, date_trunc('hour', bucket_start, 'UTC');

CREATE VIEW candles_1d AS
SELECT symbol, source, date_trunc('day', bucket_start, 'UTC') AS bucket_start,
       (array_agg(open ORDER BY bucket_start))[1] AS open, max(high) AS high, min(low) AS low,
       (array_agg(close ORDER BY bucket_start DESC))[1] AS close, sum(volume) AS volume,
       sum(tick_count)::integer AS tick_count, min(first_tick_ts) AS first_tick_ts, max(last_tick_ts) AS last_tick_ts,
       min(currency) AS currency
FROM candles_1m
GROUP BY symbol, source, date_trunc('day', bucket_start, 'UTC');

-- BI tools list views with their comments: the candle views say what they hold.
COMMENT ON TABLE candles_1m IS 'One-minute OHLCV candle per symbol and source (UTC minutes), recomputed from ticks_flat by every load that touches the minute, late ticks included.';
COMMENT ON VIEW candles_1h IS 'Hourly OHLCV candles per symbol and source (UTC hours), aggregated on read from candles_1m: always consistent with it.';
COMMENT ON VIEW candles_1d IS 'Daily OHLCV candles per symbol and source (UTC days), aggregated on read from candles_1m: always consistent with it.';
COMMENT ON COLUMN candles_1h.symbol IS 'Instrument symbol, e.g. AAPL or BTC-USD.';
COMMENT ON COLUMN candles_1h.source IS 'Where the ticks came from: simulator, yahoo, finnhub or cryptocompare.';
COMMENT ON COLUMN candles_1h.bucket_start IS 'Start of the UTC hour.';
COMMENT ON COLUMN candles_1h.open IS 'Price of the first tick of the hour.';
COMMENT ON COLUMN candles_1h.high IS 'Highest price of the hour.';
COMMENT ON COLUMN candles_1h.low IS 'Lowest price of the hour.';
COMMENT ON COLUMN candles_1h.close IS 'Price of the last tick of the hour.';
COMMENT ON COLUMN candles_1h.volume IS 'Quantity traded in the hour; NULL when no tick reported a volume.';
COMMENT ON COLUMN candles_1h.tick_count IS 'Number of ticks in the hour.';
COMMENT ON COLUMN candles_1h.first_tick_ts IS 'Time of the first tick of the hour.';
COMMENT ON COLUMN candles_1h.last_tick_ts IS 'Time of the last tick of the hour.';
COMMENT ON COLUMN candles_1h.currency IS 'ISO currency of the prices.';
COMMENT ON COLUMN candles_1d.symbol IS 'Instrument symbol, e.g. AAPL or BTC-USD.';
COMMENT ON COLUMN candles_1d.source IS 'Where the ticks came from: simulator, yahoo, finnhub or cryptocompare.';
COMMENT ON COLUMN candles_1d.bucket_start IS 'Start of the UTC day.';
COMMENT ON COLUMN candles_1d.open IS 'Price of the first tick of the day.';
COMMENT ON COLUMN candles_1d.high IS 'Highest price of the day.';
COMMENT ON COLUMN candles_1d.low IS 'Lowest price of the day.';
COMMENT ON COLUMN candles_1d.close IS 'Price of the last tick of the day.';
COMMENT ON COLUMN candles_1d.volume IS 'Quantity traded in the day; NULL when no tick reported a volume.';
COMMENT ON COLUMN candles_1d.tick_count IS 'Number of ticks in the day.';
COMMENT ON COLUMN candles_1d.first_tick_ts IS 'Time of the first tick of the day.';
COMMENT ON COLUMN candles_1d.last_tick_ts IS 'Time of the last tick of the day.';
COMMENT ON COLUMN candles_1d.currency IS 'ISO currency of the prices.';
