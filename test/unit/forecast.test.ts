// The forecast models as pure functions: known series in, known numbers out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  errorMetrics,
  fitHolt,
  fitHoltParameters,
  fitLinearTrend,
  forecastSeries,
  holdoutMetrics,
  inputDigest,
  MIN_CANDLES,
  ordinaryLeastSquares,
  regularGrid,
  splitHoldout,
  type Observation,
} from '../../forecast';
import { forecastRequestSchema, horizonSteps } from '../../forecast/options';
import { studentTQuantile } from '../../forecast/stats';
import { Rng } from '../../lib/random';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T10:00:00Z');

/** Standard normal draws from a seeded generator (Box–Muller). */
function gaussians(seed: number, n: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

function series(values: readonly number[], steps?: readonly number[]): Observation[] {
  return values.map((y, i) => ({ t: T0 + (steps?.[i] ?? i) * MINUTE, y }));
}

describe('Student t quantile', () => {
  it('matches the published table of t(0.975, df)', () => {
    const table: [number, number][] = [
      [1, 12.7062],
      [2, 4.3027],
      [3, 3.1824],
      [5, 2.5706],
      [10, 2.2281],
      [30, 2.0423],
      [100, 1.984],
      [1000, 1.9623],
    ];
    for (const [df, t] of table) assert.equal(Number(studentTQuantile(0.975, df).toFixed(4)), t, `df ${df}`);
  });
});

describe('linear trend (least squares)', () => {
  // y = 100 + 0.05 x + N(0, 0.5^2) over 500 minutes. Standard errors: slope 0.5 / sqrt(Sxx) = 1.5e-4,
  // intercept 0.045; the tolerances are about 6 of them, so only a wrong fit fails.
  const noise = gaussians(7, 500);
  const noisy = series(noise.map((e, x) => 100 + 0.05 * x + 0.5 * e));

  it('recovers slope and intercept of a noisy line within the stated tolerance', () => {
    const m = fitLinearTrend(noisy, MINUTE);
    assert.ok(Math.abs(m.params.slope! - 0.05) < 0.001, `slope ${m.params.slope}`);
    assert.ok(Math.abs(m.params.intercept! - 100) < 0.25, `intercept ${m.params.intercept}`);
    assert.ok(Math.abs(m.params.residualSe! - 0.5) < 0.05, `residual standard error ${m.params.residualSe}`);
  });

  it('is exact on exact data, with x counted in steps of real time (gaps are not squeezed out)', () => {
    const steps = [0, 1, 2, 5, 6, 9, 10, 11];
    const m = fitLinearTrend(
      series(
        steps.map((x) => 20 - 0.25 * x),
        steps,
      ),
      MINUTE,
    );
    assert.ok(Math.abs(m.params.slope! + 0.25) < 1e-12 && Math.abs(m.params.intercept! - 20) < 1e-12);
    const [p] = m.predict([T0 + 15 * MINUTE]);
    assert.equal(p!.step, 4);
    assert.ok(Math.abs(p!.predicted - (20 - 0.25 * 15)) < 1e-12);
    assert.ok(p!.upper - p!.lower < 1e-9, 'no residuals, no width');
  });

  it('gives the textbook prediction interval: t(0.975, n-2) * s * sqrt(1 + 1/n + (x0 - mean)^2 / Sxx)', () => {
    const xs = [0, 1, 2, 3, 4];
    const ys = [1, 3, 2, 5, 4];
    const fit = ordinaryLeastSquares(xs, ys);
    // By hand: mean x 2, mean y 3, Sxx 10, Sxy 8: slope 0.8, intercept 1.4; residuals -0.4, 0.8, -1, 1.2, -0.6: SSE 3.6.
    assert.ok(Math.abs(fit.slope - 0.8) < 1e-12 && Math.abs(fit.intercept - 1.4) < 1e-12);
    assert.ok(Math.abs(fit.residualSe - Math.sqrt(3.6 / 3)) < 1e-12);
    const [p] = fitLinearTrend(series(ys), MINUTE).predict([T0 + 6 * MINUTE]);
    const half = 3.182446305 * Math.sqrt(1.2) * Math.sqrt(1 + 1 / 5 + 16 / 10);
    assert.ok(Math.abs(p!.predicted - 6.2) < 1e-12);
    assert.ok(Math.abs(p!.upper - p!.predicted - half) < 1e-6 && Math.abs(p!.predicted - p!.lower - half) < 1e-6);
  });
});

describe("Holt's linear exponential smoothing", () => {
  it('continues a pure trend exactly', () => {
    const m = fitHolt(series(Array.from({ length: 60 }, (_, i) => 50 + 2 * i)), MINUTE);
    const ahead = m.predict(Array.from({ length: 10 }, (_, h) => T0 + (60 + h) * MINUTE));
    ahead.forEach((p, h) => {
      assert.equal(p.step, h + 1);
      assert.ok(Math.abs(p.predicted - (50 + 2 * (60 + h))) < 1e-9, `step ${h + 1}: ${p.predicted}`);
      assert.ok(p.upper - p.lower < 1e-6);
    });
  });

  it('follows a noisy trend, with an interval that holds the truth and widens with the horizon', () => {
    const noise = gaussians(11, 400);
    const m = fitHolt(series(noise.map((e, x) => 30 + 0.1 * x + 0.3 * e)), MINUTE);
    assert.ok(m.params.alpha! >= 0.01 && m.params.alpha! <= 0.99 && m.params.beta! >= 0.01 && m.params.beta! <= 0.99);
    const ahead = m.predict([1, 10, 30].map((h) => T0 + (399 + h) * MINUTE));
    for (const p of ahead) {
      const truth = 30 + 0.1 * (399 + p.step);
      assert.ok(p.lower < truth && truth < p.upper, `step ${p.step}: ${truth} in [${p.lower}, ${p.upper}]`);
    }
    assert.ok(
      ahead[0]!.upper - ahead[0]!.lower < ahead[1]!.upper - ahead[1]!.lower &&
        ahead[1]!.upper - ahead[1]!.lower < ahead[2]!.upper - ahead[2]!.lower,
    );
  });

  it('chooses alpha and beta by one-step SSE: a random walk gets a high alpha', () => {
    const noise = gaussians(3, 300);
    let y = 100;
    const walk = noise.map((e) => (y += e));
    const { alpha } = fitHoltParameters(walk);
    assert.ok(alpha > 0.8, `alpha ${alpha}`);
  });

  it('carries the last close over minutes without a candle', () => {
    assert.deepEqual(regularGrid(series([1, 2, 4], [0, 1, 4]), MINUTE), [1, 2, 2, 2, 4]);
  });
});

describe('holdout evaluation', () => {
  it('computes MAE and RMSE', () => {
    const m = errorMetrics([1, 2, 3], [2, 2, 5]);
    assert.equal(m.mae, 1);
    assert.equal(m.rmse, Math.sqrt(5 / 3));
  });

  it('splits off the last share of the series, at least one point', () => {
    assert.deepEqual(splitHoldout([...Array(10).keys()], 0.2), { train: [0, 1, 2, 3, 4, 5, 6, 7], holdout: [8, 9] });
    assert.deepEqual(splitHoldout([0, 1, 2], 0.1), { train: [0, 1], holdout: [2] });
    assert.deepEqual(splitHoldout([0, 1, 2], 0), { train: [0, 1, 2], holdout: [] });
  });

  it('scores both models on a hand-checkable series', () => {
    // Train on 0, 1, 2, 3 (a line: both models predict 4 and 5); holdout 5 and 7: errors 1 and 2.
    const s = series([0, 1, 2, 3, 5, 7]);
    for (const fit of [fitLinearTrend, fitHolt]) {
      const m = holdoutMetrics(fit, s, 1 / 3, MINUTE)!;
      assert.equal(m.points, 2);
      assert.ok(Math.abs(m.mae - 1.5) < 1e-9, `${fit.name} MAE ${m.mae}`);
      assert.ok(Math.abs(m.rmse - Math.sqrt(2.5)) < 1e-9, `${fit.name} RMSE ${m.rmse}`);
    }
    assert.equal(holdoutMetrics(fitLinearTrend, s, 0, MINUTE), null);
  });
});

describe('forecastSeries', () => {
  const noise = gaussians(5, 200);
  const s = series(noise.map((e, x) => 200 - 0.02 * x + 0.4 * e));
  const opts = { stepMs: MINUTE, horizonSteps: 30, holdoutFraction: 0.2 };

  it('forecasts both models over the horizon, refitted on the whole series', () => {
    const f = forecastSeries(s, opts);
    assert.ok(f.ok);
    assert.equal(f.trainPoints, 200);
    assert.equal(f.trainTo, T0 + 199 * MINUTE);
    assert.deepEqual(
      f.models.map((m) => m.model),
      ['linear_trend', 'holt_linear'],
    );
    for (const m of f.models) {
      assert.deepEqual(
        m.points.map((p) => p.t),
        Array.from({ length: 30 }, (_, k) => T0 + (200 + k) * MINUTE),
      );
      assert.ok(m.points.every((p) => p.lower <= p.predicted && p.predicted <= p.upper));
      assert.equal(m.holdout!.points, 40);
      assert.ok(m.holdout!.mae > 0 && m.holdout!.rmse >= m.holdout!.mae);
    }
  });

  it('is deterministic: the same input gives the same output and digest; another close another digest', () => {
    assert.deepEqual(forecastSeries(s, opts), forecastSeries([...s], { ...opts }));
    const digest = inputDigest(s, { ...opts, interval: '1m' });
    assert.equal(
      inputDigest(
        s.map((o) => ({ ...o })),
        { ...opts, interval: '1m' },
      ),
      digest,
    );
    assert.notEqual(
      inputDigest(
        s.map((o, i) => (i === 100 ? { ...o, y: o.y + 0.01 } : o)),
        { ...opts, interval: '1m' },
      ),
      digest,
    );
    assert.notEqual(inputDigest(s, { ...opts, horizonSteps: 31, interval: '1m' }), digest);
  });

  it('skips a series with too few candles, saying why', () => {
    const f = forecastSeries(s.slice(0, 5), opts);
    assert.deepEqual(f, { ok: false, reason: `5 candles in the lookback window; at least ${MIN_CANDLES} are needed` });
  });
});

describe('forecast request', () => {
  it('fills the defaults and counts horizon steps per interval', () => {
    const r = forecastRequestSchema.parse({ symbols: ['btc-usd'] });
    assert.deepEqual(r, { symbols: ['BTC-USD'], lookbackMinutes: 1440, horizonMinutes: 30, holdoutFraction: 0.2, interval: '1m' });
    assert.equal(horizonSteps(r), 30);
    assert.equal(horizonSteps({ horizonMinutes: 90, interval: '1h' }), 2);
  });

  it('refuses what it cannot do, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ holdoutFraction: 0.6 }, /holdoutFraction is at most 0.5/],
      [{ lookbackMinutes: 60 * 24 * 365 }, /lookbackMinutes/],
      [{ interval: '5m' }, /interval/],
      [{ source: 'nasdaq' }, /source/],
      [{ symbols: ['no spaces'] }, /symbol/],
      [{ colour: 'red' }, /colour/],
    ];
    for (const [input, message] of bad) {
      const r = forecastRequestSchema.safeParse(input);
      assert.ok(!r.success, JSON.stringify(input));
      assert.match(JSON.stringify(r.error.issues), message);
    }
  });
});
