// The price forecast, as pure functions of a candle series: both models are scored on a holdout
// (fit on the first part, predict the rest: MAE and RMSE), then refitted on the whole series for
// the forecast ahead. No clock, no randomness: the same series and options give the same numbers.
import { createHash } from 'node:crypto';
import { fitHolt } from './holt';
import { fitLinearTrend } from './linear';
import { holdoutMetrics, type ErrorMetrics, type Fitter, type ModelName, type Observation, type PointForecast } from './series';

export {
  errorMetrics,
  holdoutMetrics,
  regularGrid,
  splitHoldout,
  type ErrorMetrics,
  type ModelName,
  type Observation,
  type PointForecast,
} from './series';
export { fitLinearTrend, ordinaryLeastSquares } from './linear';
export { fitHolt, fitHoltParameters } from './holt';

export const MODELS: Readonly<Record<ModelName, Fitter>> = { linear_trend: fitLinearTrend, holt_linear: fitHolt };
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];
/** Bumped when a model's maths changes, so re-running a fit on the same candles replaces its rows. */
export const MODEL_VERSION = 1;
/** Fewer candles than this in the lookback window: the symbol is skipped, not fitted. */
export const MIN_CANDLES = 20;

export interface ForecastOptions {
  stepMs: number;
  /** Forecast points after the last candle, one per step. */
  horizonSteps: number;
  /** Share of the series (by count, from the end) held out for scoring; 0 for none. */
  holdoutFraction: number;
  minCandles?: number;
}

export interface ModelForecast {
  model: ModelName;
  params: Record<string, number>;
  holdout: ErrorMetrics | null;
  points: PointForecast[];
}
export type SeriesForecast =
  { ok: true; trainFrom: number; trainTo: number; trainPoints: number; models: ModelForecast[] } | { ok: false; reason: string };

export function forecastSeries(series: readonly Observation[], o: ForecastOptions): SeriesForecast {
  const minCandles = o.minCandles ?? MIN_CANDLES;
  if (series.length < minCandles) {
    return {
      ok: false,
      reason: `${series.length} candle${series.length === 1 ? '' : 's'} in the lookback window; at least ${minCandles} are needed`,
    };
  }
  const last = series[series.length - 1]!.t;
  const horizon = Array.from({ length: o.horizonSteps }, (_, k) => last + (k + 1) * o.stepMs);
  const models = MODEL_NAMES.map((model): ModelForecast => {
    const fit = MODELS[model];
    const fitted = fit(series, o.stepMs);
    return {
      model,
      params: fitted.params,
      holdout: holdoutMetrics(fit, series, o.holdoutFraction, o.stepMs),
      points: fitted.predict(horizon),
    };
  });
  const numbers = models.flatMap((m) => [
    ...Object.values(m.params),
    ...m.points.flatMap((p) => [p.predicted, p.lower, p.upper]),
    m.holdout?.mae ?? 0,
    m.holdout?.rmse ?? 0,
  ]);
  if (!numbers.every(Number.isFinite)) return { ok: false, reason: 'the fit did not give finite numbers (prices too large or degenerate)' };
  return { ok: true, trainFrom: series[0]!.t, trainTo: last, trainPoints: series.length, models };
}

/** Names what a fit was computed from: the candles, the options and the model version. */
export function inputDigest(series: readonly Observation[], o: ForecastOptions & { interval: string }): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      v: MODEL_VERSION,
      interval: o.interval,
      stepMs: o.stepMs,
      horizonSteps: o.horizonSteps,
      holdoutFraction: o.holdoutFraction,
      minCandles: o.minCandles ?? MIN_CANDLES,
    }),
  );
  for (const p of series) h.update(`\n${p.t},${p.y}`);
  return h.digest('hex');
}
