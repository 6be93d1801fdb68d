// An outage is not a bug: with UNKNOWN_ERROR_MAX_ATTEMPTS=1 any error the taxonomy does not
// classify would park its object at once, yet dropping every PostgreSQL and S3 connection in the
// middle of loads and transforms (open sessions cut, new ones refused for a few seconds) parks
// nothing. What the servers' loss throws is transient; the run waits and completes with every row.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { retriedActivities } from '../../tools/chaos/history';
import { loadConfig } from '../../lib/config';
import { ERROR_CODES, isTransient, type ErrorCode } from '../../lib/errors';
import { produceTransactions } from '../../activities/ingest/produce';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { TcpProxy } from '../support/tcp-proxy';

const ROWS = 24_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until an activity of one of `types` runs (started, not just scheduled); its type, or undefined after `ms`. */
async function whileRunning(handle: WorkflowHandle, types: string[], ms: number): Promise<string | undefined> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(100)) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const running = pending.find((a) => types.includes(a.activityType?.name ?? '') && a.lastStartedTime);
    if (running) return running.activityType!.name!;
  }
  return undefined;
}

describe('PostgreSQL and S3 connections dropped during a run, with the unknown-error bound at 1', () => {
  let env: TestEnv;
  let pg: TcpProxy;
  let s3: TcpProxy;

  before(async () => {
    const base = loadConfig();
    const pgUrl = new URL(base.DATABASE_URL);
    const s3Url = new URL(base.S3_ENDPOINT);
    pg = await TcpProxy.onFreePort({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    s3 = await TcpProxy.onFreePort({ host: s3Url.hostname, port: Number(s3Url.port) });
    await pg.up();
    await s3.up();
    pgUrl.port = String(pg.port);
    env = await isolatedEnv('boundedoutage', {
      DATABASE_URL: pgUrl.toString(),
      S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
      UNKNOWN_ERROR_MAX_ATTEMPTS: 1,
      ARCHIVE_MAX_RECORDS_PER_OBJECT: 3_000,
    });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 8,
      startMs: Date.parse('2026-03-01T00:00:00Z'),
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: ROWS,
    });
  });
  after(async () => {
    await pg.up().catch(() => undefined);
    await s3.up().catch(() => undefined);
    try {
      await env?.cleanup();
    } finally {
      await pg.down();
      await s3.down();
    }
  });

  it('parks nothing and loads every row', { timeout: 180_000 }, async () => {
    const workflowId = `pipeline-boundedoutage-${env.id}`;
    const { result, cuts, firstRunId } = await withWorker(env, async (client) => {
      const handle = await client.workflow.start('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ stream: 'transactions', objectConcurrency: 2 }],
      });
      const cuts: string[] = [];
      for (const [proxy, name, during] of [
        [pg, 'postgres', ['transformAndLoad']],
        [s3, 's3', ['transformAndLoad', 'archive']],
        [pg, 'postgres', ['transformAndLoad', 'archive']],
      ] as const) {
        const activity = await whileRunning(handle, [...during], 30_000);
        if (!activity) break; // the run got ahead of us; what was cut so far is checked below
        await proxy.down();
        cuts.push(`${name} during ${activity}`);
        await sleep(3_000);
        await proxy.up();
      }
      const r = (await handle.result()) as PipelineResult;
      return { result: r, cuts, firstRunId: handle.firstExecutionRunId };
    });
    assert.ok(cuts.length >= 2, `connections were cut during the run: ${cuts.join(', ')}`);
    assert.deepEqual(
      [result.objectsParked, result.rowsInserted, result.quality.passed],
      [0, ROWS, true],
      JSON.stringify(result.quality.checks.filter((c) => !c.passed)),
    );
    const {
      rows: [n],
    } = await env.pool.query<{ flat: number; parked: number }>(
      'SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(*)::int FROM bronze_objects WHERE parked_at IS NOT NULL) AS parked',
    );
    assert.deepEqual(n, { flat: ROWS, parked: 0 });

    // The cuts did fail attempts, and every failure was classified transient (or a lost heartbeat).
    const retried = await withWorker(env, (client) => retriedActivities(client, workflowId, firstRunId));
    assert.ok(retried.length > 0, 'some activity was retried');
    const causes = [...new Set(retried.map((r) => r.cause))];
    assert.deepEqual(
      causes.filter((c) => !c.endsWith('timeout') && !(c in ERROR_CODES && isTransient(c as ErrorCode))),
      [],
      `causes: ${causes.join(', ')}`,
    );
  });
});
