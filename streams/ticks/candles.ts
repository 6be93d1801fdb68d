// One-minute OHLCV candles, kept equal to an aggregation of ticks_flat. Run after every merge (load,
// quarantine replay, replay from bronze) with the merged rows in the temp table `staging`.
//
// Every (symbol, source, minute) the staged ticks touch is recomputed from ticks_flat — never
// adjusted by arithmetic on the old candle — and upserted. So a late tick, ticks out of order, or
// the same object loaded or replayed again all give the candle a direct aggregation would.

/**
 * Why a lock, and why a statement of its own: two loads committing ticks of the same minute at the
 * same time. Under READ COMMITTED a statement sees what was committed when *it* started; if both
 * recomputed at once, each would miss the other's uncommitted ticks and the later upsert would win
 * with a candle short of a tick. Taking the lock blocks until the other load's transaction has
 * committed (it releases the lock only then); the recompute, a separate statement started after
 * that, gets a fresh snapshot that includes the other load's ticks. Inside one statement the
 * snapshot would predate the wait. One lock per schema: candle steps are short, and a single lock
 * cannot deadlock with itself.
 */
export const LOCK_CANDLES_SQL = "SELECT pg_advisory_xact_lock(hashtext('etl.candles_1m.' || current_schema()))";

/** open = first tick by event time, close = last; volume is NULL when no tick of the minute had one. */
export const RECOMPUTE_CANDLES_SQL = `
WITH touched AS (
  SELECT DISTINCT doc->>'symbol' AS symbol, doc->>'source' AS source, (doc->>'minute_ts')::timestamptz AS bucket_start
  FROM staging
)
INSERT INTO candles_1m AS c (symbol, source, bucket_start, open, high, low, close, volume, tick_count, first_tick_ts, last_tick_ts, currency, updated_at)
SELECT t.symbol, t.source, t.bucket_start,
       (array_agg(f.price ORDER BY f.event_ts, f.tick_id))[1], max(f.price), min(f.price),
       (array_agg(f.price ORDER BY f.event_ts DESC, f.tick_id DESC))[1],
       sum(f.volume), count(*)::int, min(f.event_ts), max(f.event_ts), min(f.currency), now()
FROM touched t
JOIN ticks_flat f ON f.symbol = t.symbol AND f.source = t.source AND f.minute_ts = t.bucket_start
GROUP BY t.symbol, t.source, t.bucket_start
ON CONFLICT (symbol, source, bucket_start) DO UPDATE
SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume,
    tick_count = excluded.tick_count, first_tick_ts = excluded.first_tick_ts, last_tick_ts = excluded.last_tick_ts,
    currency = excluded.currency, updated_at = excluded.updated_at
WHERE (c.open, c.high, c.low, c.close, c.volume, c.tick_count, c.first_tick_ts, c.last_tick_ts, c.currency)
      IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume,
                        excluded.tick_count, excluded.first_tick_ts, excluded.last_tick_ts, excluded.currency)`;

export const CANDLE_STEPS = [LOCK_CANDLES_SQL, RECOMPUTE_CANDLES_SQL] as const;
