// What the markets view reads: the symbols with candles, a symbol's candles, and how fresh each
// tick source is. All from the tables of migration 007 through the read-only role; prices travel
// as numbers (charts), times as ISO-8601 UTC strings.
import type pg from 'pg';
import type { CandleInterval } from '../forecast/options';
import { ident } from '../lib/sql';

// The distinct (symbol, source) pairs of candles_1m, one index probe per pair (a "loose index
// scan" on its primary key): a plain DISTINCT would read every candle on every poll.
const PAIRS_CTE = `WITH RECURSIVE pairs AS (
  (SELECT symbol, source FROM candles_1m ORDER BY symbol, source LIMIT 1)
  UNION ALL
  SELECT n.symbol, n.source FROM pairs p CROSS JOIN LATERAL (
    SELECT c.symbol, c.source FROM candles_1m c WHERE (c.symbol, c.source) > (p.symbol, p.source) ORDER BY c.symbol, c.source LIMIT 1
  ) n
), latest AS (
  SELECT p.symbol, p.source, l.bucket_start, l.close, l.last_tick_ts, l.currency FROM pairs p CROSS JOIN LATERAL (
    SELECT bucket_start, close, last_tick_ts, currency FROM candles_1m c WHERE c.symbol = p.symbol AND c.source = p.source ORDER BY bucket_start DESC LIMIT 1
  ) l
)
`;

const SYMBOLS_SQL =
  PAIRS_CTE +
  `
SELECT symbol, source, currency, close::float8 AS last_close,
       to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_candle,
       to_char(last_tick_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_tick
FROM latest ORDER BY symbol, source`;

// Per source: its last tick (from its symbols' latest candles) and the ticks of the last hour (the
// event_ts index). Ages are measured on the database's clock, like the ticks' own times.
const FRESHNESS_SQL =
  PAIRS_CTE +
  `, per_source AS (
  SELECT source, count(*) AS symbols, max(last_tick_ts) AS last_tick FROM latest GROUP BY source
), last_hour AS (
  SELECT source, count(*) AS ticks FROM ticks_flat WHERE event_ts > now() - interval '1 hour' GROUP BY source
)
SELECT source, coalesce(s.symbols, 0) AS symbols,
       to_char(s.last_tick AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_tick,
       extract(epoch FROM now() - s.last_tick)::float8 AS age_seconds,
       coalesce(h.ticks, 0) AS ticks_last_hour,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS checked_at
FROM per_source s FULL JOIN last_hour h USING (source)
ORDER BY source`;

export interface SymbolRow {
  symbol: string;
  source: string;
  currency: string;
  last_close: number;
  last_candle: string;
  last_tick: string;
}
export interface Candle {
  t: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  ticks: number;
}
export interface SourceFreshness {
  source: string;
  symbols: number;
  last_tick: string | null;
  age_seconds: number | null;
  ticks_last_hour: number;
  stale: boolean;
}

export async function marketSymbols(pool: pg.Pool): Promise<SymbolRow[]> {
  return (await pool.query<SymbolRow>(SYMBOLS_SQL)).rows;
}

const CANDLE_SOURCES: Record<CandleInterval, string> = { '1m': 'candles_1m', '1h': 'candles_1h', '1d': 'candles_1d' };

export interface CandleQuery {
  symbol: string;
  source: string;
  interval: CandleInterval;
  from?: string;
  to?: string;
  limit: number;
}

/** The latest `limit` candles in [from, to], oldest first. */
export async function candles(pool: pg.Pool, q: CandleQuery): Promise<Candle[]> {
  const table = ident(CANDLE_SOURCES[q.interval]);
  const { rows } = await pool.query<Candle>(
    `SELECT * FROM (
       SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t, open::float8 AS open, high::float8 AS high,
              low::float8 AS low, close::float8 AS close, volume::float8 AS volume, tick_count AS ticks
       FROM ${table}
       WHERE symbol = $1 AND source = $2 AND ($3::timestamptz IS NULL OR bucket_start >= $3) AND ($4::timestamptz IS NULL OR bucket_start <= $4)
       ORDER BY bucket_start DESC LIMIT $5
     ) c ORDER BY t`,
    [q.symbol, q.source, q.from ?? null, q.to ?? null, q.limit],
  );
  return rows;
}

export async function freshness(
  pool: pg.Pool,
  staleAfterSeconds: number,
): Promise<{ checkedAt: string | null; staleAfterSeconds: number; sources: SourceFreshness[] }> {
  const { rows } = await pool.query<Omit<SourceFreshness, 'stale'> & { checked_at: string }>(FRESHNESS_SQL);
  return {
    checkedAt: rows[0]?.checked_at ?? null,
    staleAfterSeconds,
    sources: rows.map(({ checked_at: _, ...r }) => ({ ...r, stale: r.age_seconds === null || r.age_seconds > staleAfterSeconds })),
  };
}
