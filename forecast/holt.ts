// Holt's linear exponential smoothing (additive trend, no seasonality) on the regular grid of the
// series (steps without a candle carry the last close forward):
//   level_t = alpha * y_t + (1 - alpha) * (level_{t-1} + trend_{t-1})
//   trend_t = beta * (level_t - level_{t-1}) + (1 - beta) * trend_{t-1}
//   forecast h steps ahead = level_n + h * trend_n
// Start: level = first close, trend = mean change over the first (up to) 10 steps. alpha and beta
// minimise the sum of squared one-step-ahead errors on the training data: a 21 x 21 grid over
// [0.01, 0.99], then two finer grids around the best point (steps 0.01, then 0.002). A grid, not a
// random or gradient search: the same series always gives the same parameters.
// Interval (Hyndman et al., ETS(A,A,N)): variance h steps ahead is
//   sigma^2 * (1 + sum_{j=1..h-1} (alpha * (1 + j * beta))^2)
// with sigma^2 the mean squared one-step error; bounds at +/- 1.96 sigma_h (many residuals: normal).
import { regularGrid, stepsBetween, type FittedModel, type Observation } from './series';
import { Z_975 } from './stats';

export const MIN_HOLT_POINTS = 3;
const BOUNDS = [0.01, 0.99] as const;
const COARSE = [0.01, ...Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05), 0.99];
const REFINE_STEPS = [0.01, 0.002];

interface State {
  level: number;
  trend: number;
  sse: number;
}

function initialTrend(y: readonly number[]): number {
  const m = Math.min(10, y.length - 1);
  return (y[m]! - y[0]!) / m;
}

/** Runs the recursion over the whole grid; sse sums the one-step-ahead errors from step 1 on. */
export function holtSmooth(y: readonly number[], alpha: number, beta: number): State {
  let level = y[0]!;
  let trend = initialTrend(y);
  let sse = 0;
  for (let t = 1; t < y.length; t++) {
    const forecast = level + trend;
    const e = y[t]! - forecast;
    sse += e * e;
    const next = alpha * y[t]! + (1 - alpha) * forecast;
    trend = beta * (next - level) + (1 - beta) * trend;
    level = next;
  }
  return { level, trend, sse };
}

/** alpha and beta with the least one-step SSE; ties keep the first found (grid order is fixed). */
export function fitHoltParameters(y: readonly number[]): { alpha: number; beta: number; sse: number } {
  let best = { alpha: COARSE[0]!, beta: COARSE[0]!, sse: Infinity };
  const consider = (alpha: number, beta: number) => {
    const { sse } = holtSmooth(y, alpha, beta);
    if (sse < best.sse) best = { alpha, beta, sse };
  };
  for (const a of COARSE) for (const b of COARSE) consider(a, b);
  for (const step of REFINE_STEPS) {
    const centre = best;
    const around = (v: number) =>
      Array.from({ length: 11 }, (_, k) => Math.min(BOUNDS[1], Math.max(BOUNDS[0], Number((v + (k - 5) * step).toFixed(6)))));
    for (const a of around(centre.alpha)) for (const b of around(centre.beta)) consider(a, b);
  }
  return best;
}

export function fitHolt(train: readonly Observation[], stepMs: number): FittedModel {
  const y = regularGrid(train, stepMs);
  if (y.length < MIN_HOLT_POINTS) throw new RangeError(`Holt's method needs at least ${MIN_HOLT_POINTS} steps (got ${y.length})`);
  const { alpha, beta } = fitHoltParameters(y);
  const { level, trend, sse } = holtSmooth(y, alpha, beta);
  const sigma = Math.sqrt(sse / (y.length - 1));
  const last = train[train.length - 1]!.t;
  return {
    model: 'holt_linear',
    params: { alpha, beta, level, trend, sigma, sse, gridPoints: y.length },
    predict: (times) =>
      times.map((t) => {
        const h = stepsBetween(last, t, stepMs);
        if (h < 1) throw new RangeError(`Holt forecasts start one step after the last training candle (asked for step ${h})`);
        let factor = 1;
        for (let j = 1; j < h; j++) factor += (alpha * (1 + j * beta)) ** 2;
        const predicted = level + h * trend;
        const half = Z_975 * sigma * Math.sqrt(factor);
        return { t, step: h, predicted, lower: predicted - half, upper: predicted + half };
      }),
  };
}
