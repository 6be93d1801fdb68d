// Market data for the dashboard's markets tests, written straight into an isolated schema: ticks in
// ticks_flat, their one-minute candles in candles_1m (computed from the ticks as the ticks stream's
// load does), and forecasts made by the real forecastWorkflow.
import assert from 'node:assert/strict';
import { startDashboard, type DashboardServer } from '../../dashboard/server';
import type { ForecastResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from './harness';

export interface TickSeries {
  symbol: string;
  source: string;
  assetClass: 'stock' | 'crypto';
  fromAgoMs: number;
  toAgoMs: number;
  everyMs: number;
  base: number;
  slopePerMinute: number;
  currency: string;
}

const MINUTE = 60_000;

/** A fresh crypto pair of the simulator, a second one, and a stock from yahoo whose last tick is 2 hours old. */
export const MARKET_SERIES: TickSeries[] = [
  {
    symbol: 'BTC-USD',
    source: 'simulator',
    assetClass: 'crypto',
    fromAgoMs: 180 * MINUTE,
    toAgoMs: 20_000,
    everyMs: 20_000,
    base: 64_000,
    slopePerMinute: 2.5,
    currency: 'USD',
  },
  {
    symbol: 'ETH-USD',
    source: 'simulator',
    assetClass: 'crypto',
    fromAgoMs: 90 * MINUTE,
    toAgoMs: 30_000,
    everyMs: 30_000,
    base: 3_200,
    slopePerMinute: -0.4,
    currency: 'USD',
  },
  {
    symbol: 'AAPL',
    source: 'yahoo',
    assetClass: 'stock',
    fromAgoMs: 300 * MINUTE,
    toAgoMs: 120 * MINUTE,
    everyMs: MINUTE,
    base: 190,
    slopePerMinute: 0.01,
    currency: 'USD',
  },
];

export async function insertMarketData(env: TestEnv, now = Date.now()): Promise<void> {
  for (const s of MARKET_SERIES) {
    // A trend with a wiggle, so candles have bodies and wicks; volume grows and shrinks with it.
    await env.pool.query(
      `INSERT INTO ticks_flat (tick_id, symbol, source, asset_class, event_ts, event_date, event_hour, event_dayofweek, minute_ts, session, price, volume, currency)
       SELECT gen_random_uuid(), $1, $2, $3, ts, (ts AT TIME ZONE 'UTC')::date, extract(hour FROM ts AT TIME ZONE 'UTC'),
              to_char(ts AT TIME ZONE 'UTC', 'FMDay'), date_trunc('minute', ts), 'continuous',
              round(($6 + $7 * extract(epoch FROM ts - $4::timestamptz) / 60 + $6 * 0.0004 * sin(extract(epoch FROM ts) / 97))::numeric, 8),
              round((1 + abs(sin(extract(epoch FROM ts) / 300)))::numeric, 8), $8
       FROM generate_series($4::timestamptz, $5::timestamptz, make_interval(secs => $9)) AS ts`,
      [
        s.symbol,
        s.source,
        s.assetClass,
        new Date(now - s.fromAgoMs).toISOString(),
        new Date(now - s.toAgoMs).toISOString(),
        s.base,
        s.slopePerMinute,
        s.currency,
        s.everyMs / 1000,
      ],
    );
  }
  await env.pool.query(`
    INSERT INTO candles_1m (symbol, source, bucket_start, open, high, low, close, volume, tick_count, first_tick_ts, last_tick_ts, currency)
    SELECT symbol, source, minute_ts, (array_agg(price ORDER BY event_ts))[1], max(price), min(price), (array_agg(price ORDER BY event_ts DESC))[1],
           sum(volume), count(*), min(event_ts), max(event_ts), min(currency)
    FROM ticks_flat GROUP BY symbol, source, minute_ts`);
}

export function runForecast(env: TestEnv, workflowId: string): Promise<ForecastResult> {
  return withWorker(
    env,
    (client) =>
      client.workflow.execute('forecastWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ lookbackMinutes: 180, horizonMinutes: 30 }],
      }) as Promise<ForecastResult>,
  );
}

/** An isolated schema with the market data and its forecasts, and a dashboard over it. */
export async function marketsDashboard(name: string): Promise<{ env: TestEnv; server: DashboardServer }> {
  const env = await isolatedEnv(name);
  try {
    await insertMarketData(env);
    const forecast = await runForecast(env, `markets-forecast-${env.id}`);
    assert.equal(forecast.symbolsForecast, 3, JSON.stringify(forecast.outcomes));
    return { env, server: await startDashboard(env.config, { host: '127.0.0.1', port: 0 }) };
  } catch (err) {
    await env.cleanup();
    throw err;
  }
}
