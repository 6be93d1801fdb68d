// `etl status --json` tells an operator the truth: exact lag after producing without consuming,
// zero lag and the last load after a run; and `etl status <workflowId>` gives the stage and counts
// of every kind of run: pipeline, continuous stream, replay.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { RunStatus, StreamStatus } from '../../client/commands/status';
import { startStream, stopStream, streamWorkflowId } from '../../client/commands/stream';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import type { ReplayResult } from '../../workflows';
import { isolatedEnv, runPipeline, withWorker, type TestEnv } from '../support/harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('etl status', () => {
  let env: TestEnv;
  const status = (...args: string[]) => {
    const out = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['status', ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PG_SCHEMA: env.config.PG_SCHEMA,
        KAFKA_TOPIC_PREFIX: env.config.KAFKA_TOPIC_PREFIX,
        KAFKA_CLIENT_ID: env.config.KAFKA_CLIENT_ID,
        TEMPORAL_TASK_QUEUE: env.config.TEMPORAL_TASK_QUEUE,
      },
    });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout;
  };
  /** The same, without blocking this process: a worker running in it must answer the CLI's queries. */
  const statusAsync = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), ['status', ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PG_SCHEMA: env.config.PG_SCHEMA,
        KAFKA_TOPIC_PREFIX: env.config.KAFKA_TOPIC_PREFIX,
        KAFKA_CLIENT_ID: env.config.KAFKA_CLIENT_ID,
        TEMPORAL_TASK_QUEUE: env.config.TEMPORAL_TASK_QUEUE,
      },
    });
    return stdout;
  };
  before(async () => {
    env = await isolatedEnv('status');
  });
  after(async () => env?.cleanup());

  it('reports the exact lag after producing without consuming, and none after a run', { timeout: 120_000 }, async () => {
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 4,
      startMs: Date.now() - 3_600_000,
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: 1_234,
    });
    const before = (JSON.parse(status('--json')) as StreamStatus[]).find((s) => s.stream === 'transactions');
    assert.ok(before && !('unavailable' in before.lag), JSON.stringify(before?.lag));
    assert.equal(before.lag.total, 1_234);
    assert.equal(
      before.lag.partitions.reduce((n, p) => n + p.high, 0),
      1_234,
    );
    assert.equal(before.lastLoad, null);

    const workflowId = `pipeline-status-${env.id}`;
    await runPipeline(env, workflowId);
    const afterRun = (JSON.parse(status('--json')) as StreamStatus[]).find((s) => s.stream === 'transactions');
    assert.ok(afterRun && !('unavailable' in afterRun.lag));
    assert.equal(afterRun.lag.total, 0);
    assert.equal(afterRun.lastLoad?.workflowId, workflowId);
    assert.equal(afterRun.lastHour.loaded, 1_234);

    const run = JSON.parse(status(workflowId, '--json')) as { status: string; progress: { stage: string; rowsInserted: number } };
    assert.equal(run.status, 'COMPLETED');
    assert.deepEqual([run.progress.stage, run.progress.rowsInserted], ['done', 1_234]);
  });

  it('shows the stage and counts of a running stream and of a replay', { timeout: 180_000 }, async () => {
    const streamId = streamWorkflowId(env.config, 'transactions');
    await withWorker(env, async (client) => {
      await startStream(client, env.config, { stream: 'transactions', flushIntervalMs: 500 });
      await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
        seed: 4,
        startMs: Date.now() - 3_600_000,
        windowMs: 3_600_000,
        topic: env.topic(),
        rows: 1_434,
        startIndex: 1_234,
      });
      let live: RunStatus | undefined;
      for (let i = 0; i < 600 && live?.progress?.rowsInserted !== 200; i++) {
        live = JSON.parse(await statusAsync(streamId, '--json')) as RunStatus;
        if (live.progress?.rowsInserted !== 200) await sleep(100);
      }
      assert.deepEqual([live?.type, live?.status, live?.progress?.rowsInserted], ['streamWorkflow', 'RUNNING', 200], JSON.stringify(live));
      assert.equal(typeof live?.progress?.stage, 'string');
      assert.equal(live?.follower?.attempt, 1, 'the running follower, from its heartbeat');
      const text = await statusAsync(streamId);
      assert.match(text, /^ {2}stage \S+: \d+ runs, \d+ flushes loaded .*200 rows inserted/m, text);
      assert.match(text, /^ {2}follower: attempt 1/m, text);
      const stopped = await stopStream(client, env.config, 'transactions', 60_000);
      assert.equal(stopped.state, 'stopped');

      const replayId = `replay-status-${env.id}`;
      const replayed = (await client.workflow.execute('replayWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId: replayId,
        args: [{ stream: 'transactions', fromMs: Date.now() - 3 * 3_600_000, toMs: Date.now() + 3_600_000 }],
      })) as ReplayResult;
      const run = JSON.parse(await statusAsync(replayId, '--json')) as RunStatus;
      assert.deepEqual(
        [run.type, run.status, run.progress?.stage, run.progress?.objectsDone, run.progress?.records],
        ['replayWorkflow', 'COMPLETED', 'done', replayed.objectsDone, 1_434],
      );
      assert.match(
        await statusAsync(replayId),
        new RegExp(`stage done: ${replayed.objectsDone}/${replayed.objectsTotal} objects replayed \\(1,434 records\\)`),
      );
    });
  });
});
