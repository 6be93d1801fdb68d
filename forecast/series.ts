// A price series as the models see it: observations at candle start times (ms, ascending), on a
// grid of one step per candle interval. Helpers to split off a holdout, to put a series with gaps
// on its regular grid, and to score predictions.

export interface Observation {
  /** Candle start, ms since the epoch; a whole number of steps after the series' first one. */
  t: number;
  /** Close price of the candle. */
  y: number;
}

export interface PointForecast {
  t: number;
  /** Steps after the last training observation. */
  step: number;
  predicted: number;
  /** Bounds of the 95 % prediction interval. */
  lower: number;
  upper: number;
}

export type ModelName = 'linear_trend' | 'holt_linear';

/** A model fitted on a training series, able to predict any later time. */
export interface FittedModel {
  model: ModelName;
  /** Fitted parameters, JSON-safe finite numbers (stored with every forecast row). */
  params: Record<string, number>;
  /** Predictions at times after the last training observation. */
  predict(times: readonly number[]): PointForecast[];
}

export type Fitter = (train: readonly Observation[], stepMs: number) => FittedModel;

export interface ErrorMetrics {
  points: number;
  mae: number;
  rmse: number;
}

export function errorMetrics(actual: readonly number[], predicted: readonly number[]): ErrorMetrics {
  if (actual.length !== predicted.length || actual.length === 0)
    throw new RangeError(`errorMetrics needs two equally long, non-empty lists (got ${actual.length} and ${predicted.length})`);
  let abs = 0;
  let sq = 0;
  actual.forEach((a, i) => {
    const e = a - predicted[i]!;
    abs += Math.abs(e);
    sq += e * e;
  });
  return { points: actual.length, mae: abs / actual.length, rmse: Math.sqrt(sq / actual.length) };
}

/**
 * The first (1 - fraction) of the observations for training and the rest as holdout, by count.
 * The holdout has at least one observation whenever fraction > 0.
 */
export function splitHoldout<T>(series: readonly T[], fraction: number): { train: T[]; holdout: T[] } {
  const holdoutSize = fraction > 0 ? Math.max(1, Math.round(series.length * fraction)) : 0;
  const cut = series.length - holdoutSize;
  return { train: series.slice(0, cut), holdout: series.slice(cut) };
}

/** Fits on the training part, predicts the holdout's times, and scores the predictions. */
export function holdoutMetrics(fit: Fitter, series: readonly Observation[], fraction: number, stepMs: number): ErrorMetrics | null {
  const { train, holdout } = splitHoldout(series, fraction);
  if (holdout.length === 0) return null;
  const predicted = fit(train, stepMs).predict(holdout.map((o) => o.t));
  return errorMetrics(
    holdout.map((o) => o.y),
    predicted.map((p) => p.predicted),
  );
}

/** Whole steps from `from` to `to` (candle starts sit on the grid; rounding absorbs float noise). */
export function stepsBetween(from: number, to: number, stepMs: number): number {
  return Math.round((to - from) / stepMs);
}

/**
 * One value per step from the first to the last observation. A step without a candle had no
 * trade, so its price is the last close (carried forward).
 */
export function regularGrid(series: readonly Observation[], stepMs: number): number[] {
  if (series.length === 0) return [];
  const first = series[0]!.t;
  const values: number[] = [];
  for (const o of series) {
    const at = stepsBetween(first, o.t, stepMs);
    if (at < values.length) throw new RangeError(`observations must be ascending and one per step (two at step ${at})`);
    while (values.length < at) values.push(values[values.length - 1]!);
    values.push(o.y);
  }
  return values;
}
