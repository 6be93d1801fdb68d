// An S3 outage in the middle of a run delays it instead of failing it: the activity fails with a
// retryable S3_UNREACHABLE failure that says how to fix it, Temporal retries with backoff, and
// the run completes with every row once the server is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { TcpProxy } from '../support/tcp-proxy';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('S3 outage during a pipeline run', () => {
  let env: TestEnv;
  let proxy: TcpProxy;

  before(async () => {
    const s3 = new URL(loadConfig().S3_ENDPOINT);
    proxy = await TcpProxy.onFreePort({ host: s3.hostname, port: Number(s3.port) });
    await proxy.up();
    env = await isolatedEnv('outage', { S3_ENDPOINT: `http://127.0.0.1:${proxy.port}` });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 5,
      startMs: Date.now() - 3_600_000,
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: 3_000,
    });
  });
  after(async () => {
    await proxy.up().catch(() => undefined);
    await env?.cleanup();
    await proxy.down();
  });

  it('retries while S3 is down, shows why in the run, and completes once it is back', { timeout: 120_000 }, async () => {
    await proxy.down();
    const workflowId = `pipeline-outage-${env.id}`;
    const result = await withWorker(env, async (client: Client) => {
      const handle = await client.workflow.start('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ stream: 'transactions' }],
      });
      let seen: { attempt: number; message: string } | undefined;
      for (let i = 0; i < 60 && !seen; i++) {
        await sleep(1_000);
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const failing = pending.find((a) => (a.attempt ?? 0) >= 2 && a.lastFailure?.message);
        if (failing) seen = { attempt: failing.attempt!, message: failing.lastFailure!.message! };
      }
      assert.ok(seen, 'the archive activity is being retried');
      assert.match(seen.message, new RegExp(`cannot reach S3 at http://127.0.0.1:${proxy.port} — start it with \`etl stack up\``));
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run did not fail');
      await proxy.up();
      return (await handle.result()) as PipelineResult;
    });
    assert.equal(result.rowsInserted, 3_000);
    assert.equal(result.quality.passed, true);
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
    assert.equal(rows[0]!.n, 3_000);
  });
});
