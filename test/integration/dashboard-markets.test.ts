// The dashboard's markets API on market data in an isolated schema: every answer equals the same
// figures read with independent SQL, bad parameters are 400s naming them, and the reader role can
// read the new tables and nothing more. The page itself: dashboard-markets-browser.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LatestForecast } from '../../forecast/store';
import type { DashboardServer } from '../../dashboard/server';
import type { Candle, SourceFreshness, SymbolRow } from '../../dashboard/markets-queries';
import type { TestEnv } from '../support/harness';
import { marketsDashboard } from '../support/markets-fixture';

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;

describe('markets API', () => {
  let env: TestEnv;
  let server: DashboardServer;
  let base: string;

  before(async () => {
    ({ env, server } = await marketsDashboard('dash_markets'));
    base = server.url;
  });
  after(async () => {
    await server?.close();
    await env?.cleanup();
  });

  const get = (p: string, query: Record<string, string | string[]> = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) for (const one of [v].flat()) q.append(k, one);
    return fetch(new URL(`${p}${q.size ? `?${q}` : ''}`, base));
  };
  async function getJson<T>(p: string, query: Record<string, string | string[]> = {}): Promise<T> {
    const res = await get(p, query);
    assert.equal(res.status, 200, `${p}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  }
  const sql = async <T extends object>(text: string, values: unknown[] = []) => (await env.pool.query<T>(text, values)).rows;

  it('lists every symbol and source with its latest candle', async () => {
    const { symbols } = await getJson<{ symbols: SymbolRow[] }>('/api/markets/symbols');
    const want = await sql(`
      SELECT DISTINCT ON (symbol, source) symbol, source, currency, close::float8 AS last_close, to_char(bucket_start AT TIME ZONE 'UTC', ${ISO}) AS last_candle,
             to_char(last_tick_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_tick
      FROM candles_1m ORDER BY symbol, source, bucket_start DESC`);
    assert.deepEqual(symbols, want);
    assert.deepEqual(
      symbols.map((s) => `${s.symbol}|${s.source}`),
      ['AAPL|yahoo', 'BTC-USD|simulator', 'ETH-USD|simulator'],
    );
  });

  it('returns the candles of each interval, the latest `limit`, oldest first, within from/to', async () => {
    const expected = (view: string, extra = '', values: unknown[] = []) =>
      sql<Candle>(
        `SELECT to_char(bucket_start AT TIME ZONE 'UTC', ${ISO}) AS t, open::float8 AS open, high::float8 AS high, low::float8 AS low, close::float8 AS close,
              volume::float8 AS volume, tick_count AS ticks
       FROM ${view} WHERE symbol = 'BTC-USD' AND source = 'simulator' ${extra} ORDER BY bucket_start`,
        values,
      );
    const all = await getJson<{ candles: Candle[]; interval: string }>('/api/markets/candles', { symbol: 'btc-usd', source: 'simulator' });
    assert.equal(all.interval, '1m');
    const minutes = await expected('candles_1m');
    assert.ok(minutes.length >= 170, `${minutes.length} candles`);
    assert.deepEqual(all.candles, minutes);
    assert.deepEqual(
      (await getJson<{ candles: Candle[] }>('/api/markets/candles', { symbol: 'BTC-USD', source: 'simulator', limit: '10' })).candles,
      minutes.slice(-10),
    );
    const [from, to] = [minutes[20]!.t, minutes[40]!.t];
    assert.deepEqual(
      (await getJson<{ candles: Candle[] }>('/api/markets/candles', { symbol: 'BTC-USD', source: 'simulator', from, to })).candles,
      minutes.slice(20, 41),
    );
    for (const [interval, view] of [
      ['1h', 'candles_1h'],
      ['1d', 'candles_1d'],
    ]) {
      const got = await getJson<{ candles: Candle[] }>('/api/markets/candles', {
        symbol: 'BTC-USD',
        source: 'simulator',
        interval: interval!,
      });
      assert.deepEqual(got.candles, await expected(view!), interval);
    }
    assert.deepEqual((await getJson<{ candles: Candle[] }>('/api/markets/candles', { symbol: 'BTC-USD', source: 'yahoo' })).candles, []);
  });

  it('returns the latest forecast of each model with every point of its horizon', async () => {
    const got = await getJson<{ forecasts: LatestForecast[] }>('/api/markets/forecast', { symbol: 'BTC-USD' });
    const rows = await sql<{ model: string; t: string; predicted: number; lower: number; upper: number; holdout_mae: number }>(
      `SELECT model, to_char(horizon_ts AT TIME ZONE 'UTC', ${ISO}) AS t, predicted, lower, upper, holdout_mae FROM price_forecasts
       WHERE symbol = 'BTC-USD' ORDER BY model, horizon_ts`,
    );
    assert.deepEqual(
      got.forecasts.map((f) => f.model),
      ['holt_linear', 'linear_trend'],
    );
    for (const f of got.forecasts) {
      const mine = rows.filter((r) => r.model === f.model);
      assert.equal(f.points.length, 30);
      assert.deepEqual(
        f.points.map((p) => [p.t, p.predicted, p.lower, p.upper]),
        mine.map((r) => [r.t, r.predicted, r.lower, r.upper]),
      );
      assert.equal(f.holdout_mae, mine[0]!.holdout_mae);
      assert.equal(f.source, 'simulator');
    }
    assert.deepEqual(
      (await getJson<{ forecasts: LatestForecast[] }>('/api/markets/forecast', { symbol: 'BTC-USD', interval: '1h' })).forecasts,
      [],
    );
  });

  it('reports per source its last tick, age and ticks of the last hour, marking stale sources', async () => {
    const f = await getJson<{ staleAfterSeconds: number; sources: SourceFreshness[] }>('/api/markets/freshness');
    assert.equal(f.staleAfterSeconds, 300);
    const want = await sql<{ source: string; symbols: number; last_tick: string; ticks_last_hour: number }>(`
      SELECT source, count(DISTINCT symbol)::int AS symbols, to_char(max(event_ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_tick,
             (count(*) FILTER (WHERE event_ts > now() - interval '1 hour'))::int AS ticks_last_hour
      FROM ticks_flat GROUP BY source ORDER BY source`);
    assert.deepEqual(
      f.sources.map(({ source, symbols, last_tick, ticks_last_hour }) => ({ source, symbols, last_tick, ticks_last_hour })),
      want,
    );
    const bySource = Object.fromEntries(f.sources.map((s) => [s.source, s]));
    assert.equal(bySource.simulator!.stale, false);
    assert.ok(bySource.simulator!.age_seconds! < 120 && bySource.simulator!.ticks_last_hour > 0);
    assert.equal(bySource.yahoo!.stale, true);
    assert.ok(bySource.yahoo!.age_seconds! > 7_000 && bySource.yahoo!.ticks_last_hour === 0);
    const lenient = await getJson<{ sources: SourceFreshness[] }>('/api/markets/freshness', { staleAfter: '10000' });
    assert.equal(lenient.sources.find((s) => s.source === 'yahoo')!.stale, false);
  });

  it('answers bad parameters with a 400 that names them', async () => {
    const bad: [string, Record<string, string | string[]>, RegExp][] = [
      ['/api/markets/candles', { source: 'simulator' }, /symbol: symbol is required/],
      ['/api/markets/candles', { symbol: 'BTC-USD' }, /source: source is required/],
      [
        '/api/markets/candles',
        { symbol: 'BTC-USD', source: 'nasdaq' },
        /source: unknown source "nasdaq"; expected one of simulator, yahoo/,
      ],
      ['/api/markets/candles', { symbol: 'BTC USD', source: 'simulator' }, /symbol: a symbol is 1-20 of/],
      [
        '/api/markets/candles',
        { symbol: 'BTC-USD', source: 'simulator', interval: '5m' },
        /interval: unknown interval "5m"; expected one of 1m, 1h, 1d/,
      ],
      [
        '/api/markets/candles',
        { symbol: 'BTC-USD', source: 'simulator', limit: '0' },
        /limit: limit must be a whole number from 1 to 5000/,
      ],
      ['/api/markets/candles', { symbol: 'BTC-USD', source: 'simulator', limit: 'all' }, /limit: limit must be a whole number/],
      ['/api/markets/candles', { symbol: 'BTC-USD', source: 'simulator', from: 'yesterday' }, /from: expected an ISO-8601 time/],
      [
        '/api/markets/candles',
        { symbol: 'BTC-USD', source: 'simulator', from: '2026-11-22T10:00:00Z', to: '2026-11-22T09:00:00Z' },
        /to: the time range is empty/,
      ],
      ['/api/markets/candles', { symbol: ['BTC-USD', 'ETH-USD'], source: 'simulator' }, /symbol: give symbol only once/],
      [
        '/api/markets/candles',
        { symbol: 'BTC-USD', source: 'simulator', colour: 'red' },
        /unknown parameter colour; known: symbol, source, interval, from, to, limit/,
      ],
      ['/api/markets/forecast', {}, /symbol: symbol is required/],
      ['/api/markets/forecast', { symbol: "BTC' OR 1=1 --" }, /symbol: a symbol is 1-20 of/],
      ['/api/markets/freshness', { staleAfter: 'soon' }, /staleAfter: staleAfter must be a whole number from 10 to 86400/],
      ['/api/markets/symbols', { symbol: 'BTC-USD' }, /unknown parameter symbol/],
    ];
    for (const [p, query, message] of bad) {
      const res = await get(p, query);
      const body = (await res.json()) as { error: string; message: string; issues: { param: string }[] };
      assert.equal(res.status, 400, `${p} ${JSON.stringify(query)}`);
      assert.equal(body.error, 'INVALID_FILTER');
      assert.match(body.message, message, `${p} ${JSON.stringify(query)}`);
      assert.ok(body.issues.length >= 1);
    }
  });

  it('reads the market tables as the read-only role, which cannot write them', async () => {
    const client = await server.pool.connect();
    try {
      const { rows } = await client.query<{ user: string; forecasts: number }>(
        'SELECT current_user AS user, (SELECT count(*)::int FROM price_forecasts) AS forecasts',
      );
      assert.deepEqual(rows[0], { user: env.config.PG_READER_USER, forecasts: 3 * 2 * 30 });
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE');
      for (const statement of ['DELETE FROM price_forecasts', 'UPDATE candles_1m SET close = 1', 'TRUNCATE ticks_flat']) {
        await assert.rejects(client.query(statement), (err: { code?: string }) => err.code === '42501', statement);
      }
    } finally {
      client.release(true);
    }
  });

  it('serves the page and its chart libraries from local files', async () => {
    const html = await (await get('/markets')).text();
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    for (const [asset, marker] of [
      ['/assets/chartjs-chart-financial.min.js', /chartjs-chart-financial/],
      ['/assets/luxon.min.js', /luxon/],
      ['/assets/chartjs-adapter-luxon.umd.min.js', /chartjs-adapter-luxon/],
    ] as const) {
      const res = await get(asset);
      assert.equal(res.status, 200, asset);
      assert.match(res.headers.get('content-type') ?? '', /javascript/);
      assert.match(await res.text(), marker);
    }
  });
});
