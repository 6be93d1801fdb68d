// The price forecast end to end: candles in an isolated schema, forecastWorkflow through a real
// worker, rows in price_forecasts checked against the trend the candles were made from; re-runs
// are idempotent, changed input replaces the fit, bad input fails at once; the CLI and a schedule.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createSchedule, deleteSchedule, describeSchedule } from '../../client/commands/schedule';
import { PROJECT_ROOT } from '../../lib/config';
import { latestForecasts } from '../../forecast/store';
import { Rng } from '../../lib/random';
import type { ForecastInput, ForecastResult } from '../../workflows';
import { triggeredRun } from '../support/schedules';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T10:00:00Z');
const TREND = { symbol: 'TREND', source: 'simulator', n: 240, start: 100, slope: 0.05, noise: 0.1 };

/** Closes along a line with seeded Gaussian noise, as 1-minute candles from T0. */
function trendCloses(): number[] {
  const rng = new Rng(17);
  return Array.from({ length: TREND.n }, (_, i) => {
    const e = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    return Number((TREND.start + TREND.slope * i + TREND.noise * e).toFixed(4));
  });
}

async function insertCandles(env: TestEnv, symbol: string, source: string, closes: number[], firstIndex = 0): Promise<void> {
  const rows = closes.map((close, k) => {
    const i = firstIndex + k;
    const open = k === 0 ? close : closes[k - 1]!;
    return {
      t: new Date(T0 + i * MINUTE).toISOString(),
      open,
      close,
      high: Math.max(open, close) + 0.02,
      low: Math.min(open, close) - 0.02,
    };
  });
  await env.pool.query(
    `INSERT INTO candles_1m (symbol, source, bucket_start, open, high, low, close, volume, tick_count, first_tick_ts, last_tick_ts, currency)
     SELECT $1, $2, r.t, r.o, r.h, r.l, r.c, 10, 3, r.t, r.t + interval '50 seconds', 'USD'
     FROM unnest($3::timestamptz[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[]) AS r(t, o, h, l, c)
     ON CONFLICT (symbol, source, bucket_start) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close`,
    [
      symbol,
      source,
      rows.map((r) => r.t),
      rows.map((r) => r.open),
      rows.map((r) => r.high),
      rows.map((r) => r.low),
      rows.map((r) => r.close),
    ],
  );
}

interface Row {
  model: string;
  horizon_ts: Date;
  predicted: number;
  lower: number;
  upper: number;
  holdout_mae: number;
  holdout_rmse: number;
  holdout_points: number;
  train_points: number;
  params: Record<string, number>;
  fitted_at: Date;
  run_id: string;
  train_to: Date;
  input_digest: string;
}

describe('price forecast', () => {
  let env: TestEnv;
  let runs = 0;
  const closes = trendCloses();

  before(async () => {
    env = await isolatedEnv('forecast');
    await insertCandles(env, TREND.symbol, TREND.source, closes);
    await insertCandles(env, 'FEW', 'simulator', [10, 10.5, 10.2, 10.4, 10.3]);
  });
  after(async () => env?.cleanup());

  const run = (client: Client, input: ForecastInput = {}) =>
    client.workflow.execute('forecastWorkflow', {
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      workflowId: `forecast-test-${env.id}-${++runs}`,
      args: [{ horizonMinutes: 30, ...input }],
    }) as Promise<ForecastResult>;
  const rows = async () => (await env.pool.query<Row>('SELECT * FROM price_forecasts ORDER BY train_to, model, horizon_ts')).rows;

  it('fits both models on the trend, skips the short series, and writes one row per model and minute ahead', async () => {
    const result = await withWorker(env, (client) => run(client));
    assert.equal(result.symbolsForecast, 1);
    assert.equal(result.symbolsSkipped, 1);
    assert.deepEqual(
      result.outcomes.find((o) => o.symbol === 'FEW'),
      { symbol: 'FEW', source: 'simulator', status: 'skipped', reason: '5 candles in the lookback window; at least 20 are needed' },
    );
    assert.equal(result.rowsWritten, 2 * 30);
    assert.equal(result.rowsUnchanged, 0);
    assert.equal(result.runId, `forecast-test-${env.id}-1`);

    const all = await rows();
    assert.equal(all.length, 60);
    const lastCandle = T0 + (TREND.n - 1) * MINUTE;
    for (const r of all) {
      assert.equal(r.train_to.getTime(), lastCandle);
      assert.equal(r.train_points, TREND.n);
      assert.equal(r.holdout_points, 48, '20 % of 240 candles');
      assert.ok(r.holdout_mae > 0 && r.holdout_rmse >= r.holdout_mae);
      assert.ok(
        r.lower <= r.predicted && r.predicted <= r.upper,
        `${r.model} ${r.horizon_ts.toISOString()}: interval holds the prediction`,
      );
      assert.equal(r.run_id, result.runId);
      assert.equal(r.fitted_at.toISOString(), result.fittedAt);
    }
    // The trend the candles were drawn from, 30 minutes past the last one: both models find it.
    const truth = TREND.start + TREND.slope * (TREND.n - 1 + 30);
    for (const model of ['linear_trend', 'holt_linear']) {
      const mine = all.filter((r) => r.model === model);
      assert.deepEqual(
        mine.map((r) => r.horizon_ts.getTime()),
        Array.from({ length: 30 }, (_, k) => lastCandle + (k + 1) * MINUTE),
      );
      const end = mine.at(-1)!;
      assert.ok(end.lower < truth && truth < end.upper, `${model}: ${truth} in [${end.lower}, ${end.upper}]`);
      assert.ok(Math.abs(end.predicted - truth) < 0.5, `${model}: predicted ${end.predicted}, trend ${truth}`);
    }
    const linear = all.find((r) => r.model === 'linear_trend')!;
    assert.ok(Math.abs(linear.params.slope! - TREND.slope) < 0.002, `slope ${linear.params.slope}`);
    assert.ok(Math.abs(linear.params.intercept! - TREND.start) < 0.1, `intercept ${linear.params.intercept}`);
  });

  it('changes no row when run again on the same candles', async () => {
    const before = await rows();
    const result = await withWorker(env, (client) => run(client));
    assert.equal(result.rowsWritten, 0);
    assert.equal(result.rowsUnchanged, 60);
    assert.deepEqual(await rows(), before, 'same rows, still those of the first run');
  });

  it('replaces the fit when a candle changed, and keeps the older fit when a later candle arrives', async () => {
    await insertCandles(env, TREND.symbol, TREND.source, [closes[TREND.n - 1]! + 0.5], TREND.n - 1);
    const changed = await withWorker(env, (client) => run(client));
    assert.equal(changed.rowsWritten, 60);
    const replaced = await rows();
    assert.equal(replaced.length, 60, 'the fit of the same last candle is replaced, not duplicated');
    assert.ok(replaced.every((r) => r.run_id === changed.runId));

    await insertCandles(env, TREND.symbol, TREND.source, [TREND.start + TREND.slope * TREND.n], TREND.n);
    const later = await withWorker(env, (client) => run(client));
    assert.equal(later.rowsWritten, 60);
    assert.equal((await rows()).length, 120, 'the history of forecasts is kept');
    const latest = await latestForecasts(env.pool, { symbol: TREND.symbol });
    assert.deepEqual(
      latest.map((f) => [f.model, f.train_to, f.points.length, f.run_id]),
      ['holt_linear', 'linear_trend'].map((m) => [m, new Date(T0 + TREND.n * MINUTE).toISOString().replace('.000', ''), 30, later.runId]),
    );
  });

  it('fails at once, without retries, on an input it cannot use', async () => {
    await withWorker(env, async (client) => {
      await assert.rejects(run(client, { holdoutFraction: 0.9 }), (err: unknown) => {
        const cause = err instanceof WorkflowFailedError ? err.cause?.cause : undefined;
        return (
          cause instanceof ApplicationFailure &&
          cause.type === 'USAGE' &&
          cause.nonRetryable &&
          /holdoutFraction is at most 0.5/.test(cause.message)
        );
      });
    });
  });

  it('runs from the CLI and shows the latest forecast', { timeout: 120_000 }, async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
          cwd: PROJECT_ROOT,
          env: { ...process.env, PG_SCHEMA: env.config.PG_SCHEMA, TEMPORAL_TASK_QUEUE: env.config.TEMPORAL_TASK_QUEUE, LOG_LEVEL: 'warn' },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const ran = await withWorker(env, () => cli(['forecast', 'run', '--symbols', 'trend,few', '--horizon', '15m', '--wait', '--json']));
    assert.equal(ran.code, 0, ran.stderr);
    const result = JSON.parse(ran.stdout) as ForecastResult;
    assert.equal(result.horizonSteps, 15);
    assert.deepEqual(
      result.outcomes.map((o) => [o.symbol, o.status]),
      [
        ['FEW', 'skipped'],
        ['TREND', 'forecast'],
      ],
    );

    const shown = await cli(['forecast', 'show', '--symbol', 'TREND']);
    assert.equal(shown.code, 0, shown.stderr);
    const lines = shown.stdout.trim().split('\n');
    assert.match(
      lines[0]!,
      /^symbol\s+source\s+model\s+interval\s+last candle\s+horizon\s+predicted\s+95% interval\s+holdout MAE\s+holdout RMSE\s+fitted_at$/,
    );
    assert.deepEqual(
      lines.slice(2).map((l) => l.split(/\s+/).slice(0, 3)),
      [
        ['TREND', 'simulator', 'holt_linear'],
        ['TREND', 'simulator', 'linear_trend'],
      ],
    );
    const none = await cli(['forecast', 'show', '--symbol', 'NOPE']);
    assert.equal(none.code, 1);
    assert.match(none.stdout, /no forecast yet for NOPE/);
    const bad = await cli(['forecast', 'run', '--holdout', '0.9']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected a fraction from 0 to 0.5/);
  });

  it('is schedulable: `etl schedule create forecast` starts forecastWorkflow runs', { timeout: 120_000 }, async () => {
    const id = `forecast-sched-${env.id}`;
    await withWorker(env, async (client) => {
      await createSchedule(client, env.config, {
        id,
        what: 'forecast',
        stream: 'transactions',
        everyMs: 3_600_000,
        overlap: 'skip',
        paused: true,
      });
      try {
        const d = await describeSchedule(client, env.config, id);
        assert.equal(d.action.type === 'startWorkflow' && d.action.workflowType, 'forecastWorkflow');
        const workflowId = await triggeredRun(client, env.config, id);
        const result = (await client.workflow.getHandle(workflowId).result()) as ForecastResult;
        assert.equal(result.runId, workflowId);
        assert.equal(result.symbolsForecast, 1);
        assert.equal(result.horizonSteps, 30, 'the defaults: 30 minutes of 1m candles');
      } finally {
        await deleteSchedule(client, env.config, id);
      }
    });
  });
});
