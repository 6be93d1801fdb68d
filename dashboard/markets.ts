// The markets view's API: symbols, candles, the latest forecast and the freshness of each tick
// source. Query strings are parsed by zod like the transactions filters (a bad or unknown
// parameter is a 400 naming it); everything is read through the read-only role.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { INTERVAL_NAMES, symbolSchema } from '../forecast/options';
import { latestForecasts } from '../forecast/store';
import { TICK_SOURCES } from '../streams/ticks/vocabulary';
import { candles, freshness, marketSymbols } from './markets-queries';

/** A source without a tick for this long is shown as stale (simulator and pollers tick every few seconds to a minute). */
export const STALE_AFTER_SECONDS = 300;

const once = <T extends z.ZodType>(schema: T, name: string) =>
  z
    .unknown()
    .refine((v) => !Array.isArray(v), `give ${name} only once`)
    .pipe(schema);
const required = <T extends z.ZodType>(schema: T, name: string) =>
  z
    .unknown()
    .refine((v): boolean => v !== undefined, `${name} is required`)
    .refine((v) => !Array.isArray(v), `give ${name} only once`)
    .pipe(schema);

const symbol = symbolSchema;
const source = z.enum(TICK_SOURCES, {
  error: (i) => `unknown source ${JSON.stringify(i.input)}; expected one of ${TICK_SOURCES.join(', ')}`,
});
const interval = z.enum(INTERVAL_NAMES, {
  error: (i) => `unknown interval ${JSON.stringify(i.input)}; expected one of ${INTERVAL_NAMES.join(', ')}`,
});
const time = z.iso.datetime({
  offset: true,
  error: (i) => `expected an ISO-8601 time such as 2026-11-22T13:00:00Z, got ${JSON.stringify(i.input)}`,
});
const wholeNumber = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number from ${min} to ${max}` })
    .int(`${name} must be a whole number from ${min} to ${max}`)
    .min(min, `${name} must be a whole number from ${min} to ${max}`)
    .max(max, `${name} must be a whole number from ${min} to ${max}`);

function strict<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}; known: ${known}` : undefined),
  });
}

export const candlesQuery = strict({
  symbol: required(symbol, 'symbol'),
  source: required(source, 'source'),
  interval: once(interval, 'interval').default('1m'),
  from: once(time, 'from').optional(),
  to: once(time, 'to').optional(),
  limit: once(wholeNumber('limit', 1, 5_000), 'limit').default(500),
}).superRefine((q, ctx) => {
  if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to))
    ctx.addIssue({ code: 'custom', path: ['to'], message: `the time range is empty: from ${q.from} is after to ${q.to}` });
});
export const forecastQuery = strict({
  symbol: required(symbol, 'symbol'),
  source: once(source, 'source').optional(),
  interval: once(interval, 'interval').optional(),
});
export const freshnessQuery = strict({
  staleAfter: once(wholeNumber('staleAfter', 10, 86_400), 'staleAfter').default(STALE_AFTER_SECONDS),
});
const noQuery = strict({});

export interface MarketRouteDeps {
  pool: pg.Pool;
  /** Parses a query string or answers 400 (routes.ts owns the error answer). */
  parse: <T extends z.ZodType>(schema: T, query: unknown) => z.output<T>;
  noStore: (reply: FastifyReply) => FastifyReply;
}

export function registerMarketRoutes(app: FastifyInstance, { pool, parse, noStore }: MarketRouteDeps): void {
  app.get('/api/markets/symbols', async (req, reply) => {
    parse(noQuery, req.query);
    return noStore(reply).send({ symbols: await marketSymbols(pool) });
  });
  app.get('/api/markets/candles', async (req, reply) => {
    const q = parse(candlesQuery, req.query);
    return noStore(reply).send({ symbol: q.symbol, source: q.source, interval: q.interval, candles: await candles(pool, q) });
  });
  app.get('/api/markets/forecast', async (req, reply) => {
    const q = parse(forecastQuery, req.query);
    return noStore(reply).send({ symbol: q.symbol, forecasts: await latestForecasts(pool, q) });
  });
  app.get('/api/markets/freshness', async (req, reply) => {
    const q = parse(freshnessQuery, req.query);
    return noStore(reply).send(await freshness(pool, q.staleAfter));
  });
}
