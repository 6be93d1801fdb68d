// Ordinary least squares of close price on time: y = intercept + slope * x, x counted in steps
// (candle intervals) since the first training candle. Only real candles count: a minute without a
// trade adds no point. The 95 % prediction interval of a new observation at x0 is
//   yhat(x0) +/- t(0.975, n - 2) * s * sqrt(1 + 1/n + (x0 - mean x)^2 / Sxx)
// with s the residual standard error sqrt(SSE / (n - 2)). We use the exact Student t quantile for
// n - 2 degrees of freedom, not 1.96: it matters for short series (t = 2.10 at n = 20).
import { stepsBetween, type FittedModel, type Observation } from './series';
import { studentTQuantile } from './stats';

export const MIN_LINEAR_POINTS = 3;

export interface LinearFit {
  intercept: number;
  slope: number;
  residualSe: number;
  n: number;
  xMean: number;
  sxx: number;
  tQuantile: number;
}

/** The least-squares line through (x, y); needs at least 3 points and 2 distinct x. */
export function ordinaryLeastSquares(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = xs.length;
  if (n < MIN_LINEAR_POINTS || ys.length !== n)
    throw new RangeError(`linear regression needs at least ${MIN_LINEAR_POINTS} points (got ${n})`);
  const xMean = xs.reduce((a, b) => a + b, 0) / n;
  const yMean = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - xMean;
    sxx += dx * dx;
    sxy += dx * (ys[i]! - yMean);
  }
  if (sxx === 0) throw new RangeError('linear regression needs at least two distinct times');
  const slope = sxy / sxx;
  const intercept = yMean - slope * xMean;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i]! - (intercept + slope * xs[i]!);
    sse += r * r;
  }
  return { intercept, slope, residualSe: Math.sqrt(sse / (n - 2)), n, xMean, sxx, tQuantile: studentTQuantile(0.975, n - 2) };
}

export function fitLinearTrend(train: readonly Observation[], stepMs: number): FittedModel {
  const origin = train[0]?.t ?? 0;
  const last = train[train.length - 1]?.t ?? 0;
  const fit = ordinaryLeastSquares(
    train.map((o) => (o.t - origin) / stepMs),
    train.map((o) => o.y),
  );
  return {
    model: 'linear_trend',
    // intercept is the fitted price at the first training candle; slope is per step.
    params: {
      intercept: fit.intercept,
      slope: fit.slope,
      residualSe: fit.residualSe,
      n: fit.n,
      xMean: fit.xMean,
      sxx: fit.sxx,
      tQuantile: fit.tQuantile,
    },
    predict: (times) =>
      times.map((t) => {
        const x = (t - origin) / stepMs;
        const predicted = fit.intercept + fit.slope * x;
        const half = fit.tQuantile * fit.residualSe * Math.sqrt(1 + 1 / fit.n + (x - fit.xMean) ** 2 / fit.sxx);
        return { t, step: stepsBetween(last, t, stepMs), predicted, lower: predicted - half, upper: predicted + half };
      }),
  };
}
