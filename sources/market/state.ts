// The de-duplication state of the pollers (table market_poll_state): per source and symbol, the
// event time and price of the last tick published.
import type pg from 'pg';
import type { TickEvent } from '../../streams/ticks/schema';
import type { MarketSource } from './types';

/** Last published event time (ms) per symbol; symbols never published are absent. */
export async function lastPublished(pool: pg.Pool, source: MarketSource, symbols: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ symbol: string; last_ms: string }>(
    `SELECT symbol, (extract(epoch FROM last_event_ts) * 1000)::bigint AS last_ms
     FROM market_poll_state WHERE source = $1 AND symbol = ANY($2::text[])`,
    [source, [...symbols]],
  );
  return new Map(rows.map((r) => [r.symbol, Number(r.last_ms)]));
}

/**
 * Records the newest published tick of each symbol. GREATEST keeps the state from going back when
 * two polls of the same source overlap (a scheduled one and `etl poll`).
 */
export async function recordPublished(pool: pg.Pool, source: MarketSource, newest: readonly TickEvent[]): Promise<void> {
  if (newest.length === 0) return;
  await pool.query(
    `INSERT INTO market_poll_state AS s (source, symbol, last_event_ts, last_price)
     SELECT $1, u.symbol, u.ts, u.price FROM unnest($2::text[], $3::timestamptz[], $4::numeric[]) AS u(symbol, ts, price)
     ON CONFLICT (source, symbol) DO UPDATE SET
       last_price = CASE WHEN EXCLUDED.last_event_ts >= s.last_event_ts THEN EXCLUDED.last_price ELSE s.last_price END,
       last_event_ts = GREATEST(s.last_event_ts, EXCLUDED.last_event_ts),
       updated_at = now()`,
    [source, newest.map((t) => t.symbol), newest.map((t) => t.event_ts), newest.map((t) => t.price)],
  );
}
