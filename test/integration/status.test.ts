// `etl status --json` tells an operator the truth: exact lag after producing without consuming,
// zero lag and the last load after a run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StreamStatus } from '../../client/commands/status';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../lib/produce';
import { isolatedEnv, runPipeline, type TestEnv } from './harness';

describe('etl status', () => {
  let env: TestEnv;
  const status = (...args: string[]) => {
    const out = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['status', ...args], {
      encoding: 'utf8',
      env: { ...process.env, PG_SCHEMA: env.config.PG_SCHEMA, KAFKA_TOPIC_PREFIX: env.config.KAFKA_TOPIC_PREFIX, KAFKA_CLIENT_ID: env.config.KAFKA_CLIENT_ID, TEMPORAL_TASK_QUEUE: env.config.TEMPORAL_TASK_QUEUE },
    });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout;
  };
  before(async () => {
    env = await isolatedEnv('status');
  });
  after(async () => env?.cleanup());

  it('reports the exact lag after producing without consuming, and none after a run', { timeout: 120_000 }, async () => {
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { seed: 4, startMs: Date.now() - 3_600_000, windowMs: 3_600_000, topic: env.topic(), rows: 1_234 });
    const [before] = JSON.parse(status('--json')) as StreamStatus[];
    assert.ok(before && !('unavailable' in before.lag), JSON.stringify(before?.lag));
    assert.equal(before.lag.total, 1_234);
    assert.equal(before.lag.partitions.reduce((n, p) => n + p.high, 0), 1_234);
    assert.equal(before.lastLoad, null);

    const workflowId = `pipeline-status-${env.id}`;
    await runPipeline(env, workflowId);
    const [afterRun] = JSON.parse(status('--json')) as StreamStatus[];
    assert.ok(afterRun && !('unavailable' in afterRun.lag));
    assert.equal(afterRun.lag.total, 0);
    assert.equal(afterRun.lastLoad?.workflowId, workflowId);
    assert.equal(afterRun.lastHour.loaded, 1_234);

    const run = JSON.parse(status(workflowId, '--json')) as { status: string; progress: { stage: string; rowsInserted: number } };
    assert.equal(run.status, 'COMPLETED');
    assert.deepEqual([run.progress.stage, run.progress.rowsInserted], ['done', 1_234]);
  });
});
