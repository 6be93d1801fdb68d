// The price forecast activity: per symbol and source, read the lookback window of candles, fit the
// models of forecast/ (holdout score, then the forward forecast) and write price_forecasts in
// one transaction. Only counts and per-symbol metrics go back to the workflow, never candles.
// The window ends at the symbol's last candle (not at "now") and fitted_at comes from the run, so
// the same candles and input give the same rows.
import type pg from 'pg';
import { z } from 'zod';
import { EtlError } from '../../lib/errors';
import { forecastSeries, inputDigest, type ModelForecast, type ModelName, type Observation } from '../../forecast';
import {
  CANDLE_INTERVALS,
  describeIssues,
  forecastRequestSchema,
  horizonSteps,
  type CandleInterval,
  type ForecastRequest,
  type ForecastSettings,
} from '../../forecast/options';
import { inTransaction } from '../../lib/postgres';
import { ident } from '../../lib/sql';
import type { ActivityDeps } from '../deps';
import { beat } from '../attempts';

export interface ForecastSymbolsInput extends ForecastRequest {
  /** When the run started (ISO-8601): stored as fitted_at. */
  fittedAt: string;
  /** The run's workflow id: stored as run_id. */
  runId: string;
}

export interface ModelSummary {
  model: ModelName;
  /** The horizon's last point. */
  horizonTs: string;
  predicted: number;
  lower: number;
  upper: number;
  holdoutMae: number | null;
  holdoutRmse: number | null;
  holdoutPoints: number;
}
export type SymbolOutcome =
  | {
      symbol: string;
      source: string;
      status: 'forecast';
      trainPoints: number;
      trainFrom: string;
      trainTo: string;
      rowsWritten: number;
      models: ModelSummary[];
    }
  | { symbol: string; source: string | null; status: 'skipped'; reason: string };

export interface ForecastSymbolsResult {
  fittedAt: string;
  runId: string;
  interval: CandleInterval;
  horizonSteps: number;
  symbolsForecast: number;
  symbolsSkipped: number;
  /** Rows inserted; rowsUnchanged were already there from the same fit on the same candles. */
  rowsWritten: number;
  rowsUnchanged: number;
  outcomes: SymbolOutcome[];
}

const runSchema = z.object({ fittedAt: z.iso.datetime({ offset: true }), runId: z.string().min(1).max(400) });

const CANDLE_SOURCES: Record<CandleInterval, string> = { '1m': 'candles_1m', '1h': 'candles_1h', '1d': 'candles_1d' };

function parseInput(input: ForecastSymbolsInput): { settings: ForecastSettings; fittedAt: string; runId: string } {
  const { fittedAt, runId, ...request } = input;
  const run = runSchema.safeParse({ fittedAt, runId });
  const settings = forecastRequestSchema.safeParse(request);
  if (!run.success || !settings.success) {
    throw new EtlError(
      'USAGE',
      `invalid forecast input: ${[run, settings].flatMap((r) => (r.success ? [] : [describeIssues(r.error)])).join('; ')}`,
    );
  }
  return { settings: settings.data, fittedAt: new Date(run.data.fittedAt).toISOString(), runId: run.data.runId };
}

/** The (symbol, source) pairs to fit, and the requested symbols that have no candles at all. */
async function targets(pool: pg.Pool, s: ForecastSettings): Promise<{ pairs: { symbol: string; source: string }[]; missing: string[] }> {
  const { rows } = await pool.query<{ symbol: string; source: string }>(
    `SELECT DISTINCT symbol, source FROM candles_1m
     WHERE ($1::text[] IS NULL OR symbol = ANY ($1::text[])) AND ($2::text IS NULL OR source = $2) ORDER BY symbol, source`,
    [s.symbols ?? null, s.source ?? null],
  );
  const found = new Set(rows.map((r) => r.symbol));
  return { pairs: rows, missing: [...new Set(s.symbols ?? [])].filter((sym) => !found.has(sym)).sort() };
}

async function readCandles(
  pool: pg.Pool,
  interval: CandleInterval,
  symbol: string,
  source: string,
  lookbackMinutes: number,
): Promise<{ series: Observation[]; currency: string | null }> {
  const table = ident(CANDLE_SOURCES[interval]);
  const { rows } = await pool.query<{ t: number; y: number; currency: string }>(
    `SELECT (extract(epoch FROM bucket_start) * 1000)::float8 AS t, close::float8 AS y, currency FROM ${table}
     WHERE symbol = $1 AND source = $2
       AND bucket_start > (SELECT max(bucket_start) FROM ${table} WHERE symbol = $1 AND source = $2) - make_interval(mins => $3)
     ORDER BY bucket_start`,
    [symbol, source, lookbackMinutes],
  );
  return { series: rows.map((r) => ({ t: r.t, y: r.y })), currency: rows.at(-1)?.currency ?? null };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Replaces the fit of this train_to when it came from other input; the same input finds its rows. */
async function writeFit(
  pool: pg.Pool,
  key: { symbol: string; source: string; interval: CandleInterval; trainTo: number },
  fit: {
    models: ModelForecast[];
    trainFrom: number;
    trainPoints: number;
    digest: string;
    currency: string | null;
    fittedAt: string;
    runId: string;
  },
): Promise<number> {
  const rows = fit.models.flatMap((m) => m.points.map((p) => ({ m, p })));
  return inTransaction(pool, async (client) => {
    // Two runs fitting the same symbol at once take turns, so neither sees half of the other's rows.
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('etl.forecast|' || current_schema() || '|' || $1 || '|' || $2 || '|' || $3))",
      [key.symbol, key.source, key.interval],
    );
    const keyValues = [key.symbol, key.source, key.interval, iso(key.trainTo)];
    await client.query(
      'DELETE FROM price_forecasts WHERE symbol = $1 AND source = $2 AND candle_interval = $3 AND train_to = $4 AND input_digest <> $5',
      [...keyValues, fit.digest],
    );
    const inserted = await client.query(
      `INSERT INTO price_forecasts (symbol, source, candle_interval, train_to, model, horizon_ts, horizon_step, predicted, lower, upper,
                                    holdout_mae, holdout_rmse, holdout_points, params, train_points, train_from, input_digest, currency, fitted_at, run_id)
       SELECT $1, $2, $3, $4, r.model, r.horizon_ts, r.horizon_step, r.predicted, r.lower, r.upper,
              r.holdout_mae, r.holdout_rmse, r.holdout_points, r.params, $5, $6, $7, $8, $9, $10
       FROM unnest($11::text[], $12::timestamptz[], $13::int[], $14::float8[], $15::float8[], $16::float8[],
                   $17::float8[], $18::float8[], $19::int[], $20::jsonb[])
         AS r(model, horizon_ts, horizon_step, predicted, lower, upper, holdout_mae, holdout_rmse, holdout_points, params)
       ON CONFLICT DO NOTHING`,
      [
        ...keyValues,
        fit.trainPoints,
        iso(fit.trainFrom),
        fit.digest,
        fit.currency,
        fit.fittedAt,
        fit.runId,
        rows.map((r) => r.m.model),
        rows.map((r) => iso(r.p.t)),
        rows.map((r) => r.p.step),
        rows.map((r) => r.p.predicted),
        rows.map((r) => r.p.lower),
        rows.map((r) => r.p.upper),
        rows.map((r) => r.m.holdout?.mae ?? null),
        rows.map((r) => r.m.holdout?.rmse ?? null),
        rows.map((r) => r.m.holdout?.points ?? 0),
        rows.map((r) => JSON.stringify(r.m.params)),
      ],
    );
    return inserted.rowCount ?? 0;
  });
}

function summarise(m: ModelForecast): ModelSummary {
  const end = m.points[m.points.length - 1]!;
  return {
    model: m.model,
    horizonTs: iso(end.t),
    predicted: end.predicted,
    lower: end.lower,
    upper: end.upper,
    holdoutMae: m.holdout?.mae ?? null,
    holdoutRmse: m.holdout?.rmse ?? null,
    holdoutPoints: m.holdout?.points ?? 0,
  };
}

export async function forecastSymbols(deps: ActivityDeps, input: ForecastSymbolsInput): Promise<ForecastSymbolsResult> {
  const { settings, fittedAt, runId } = parseInput(input);
  const { interval } = settings;
  const stepMs = CANDLE_INTERVALS[interval];
  const options = { stepMs, horizonSteps: horizonSteps(settings), holdoutFraction: settings.holdoutFraction };
  const { pairs, missing } = await targets(deps.pool, settings);
  const result: ForecastSymbolsResult = {
    fittedAt,
    runId,
    interval,
    horizonSteps: options.horizonSteps,
    symbolsForecast: 0,
    symbolsSkipped: 0,
    rowsWritten: 0,
    rowsUnchanged: 0,
    outcomes: missing.map((symbol) => ({
      symbol,
      source: settings.source ?? null,
      status: 'skipped',
      reason: 'no candles for this symbol',
    })),
  };
  for (const [i, { symbol, source }] of pairs.entries()) {
    beat({ done: i, total: pairs.length });
    const { series, currency } = await readCandles(deps.pool, interval, symbol, source, settings.lookbackMinutes);
    const fit = forecastSeries(series, options);
    if (!fit.ok) {
      result.outcomes.push({ symbol, source, status: 'skipped', reason: fit.reason });
      continue;
    }
    const digest = inputDigest(series, { ...options, interval });
    const written = await writeFit(
      deps.pool,
      { symbol, source, interval, trainTo: fit.trainTo },
      { ...fit, digest, currency, fittedAt, runId },
    );
    const total = fit.models.reduce((n, m) => n + m.points.length, 0);
    result.rowsWritten += written;
    result.rowsUnchanged += total - written;
    result.outcomes.push({
      symbol,
      source,
      status: 'forecast',
      trainPoints: fit.trainPoints,
      trainFrom: iso(fit.trainFrom),
      trainTo: iso(fit.trainTo),
      rowsWritten: written,
      models: fit.models.map(summarise),
    });
  }
  const order = (o: SymbolOutcome) => `${o.symbol}\u0000${o.source ?? ''}`;
  result.outcomes.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  result.symbolsForecast = result.outcomes.filter((o) => o.status === 'forecast').length;
  result.symbolsSkipped = result.outcomes.length - result.symbolsForecast;
  deps.logger.info(
    { runId, interval, forecast: result.symbolsForecast, skipped: result.symbolsSkipped, rowsWritten: result.rowsWritten },
    'forecast written',
  );
  return result;
}
