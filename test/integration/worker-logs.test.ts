// The worker's logs as an operator greps them: JSON lines on stderr, and every line our activity
// code writes (through the shared logger or a child of it) names its workflow, run and activity.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configEnv } from '../support/isolation';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import { connectClient } from '../../lib/temporal';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, type TestEnv } from '../support/harness';

type LogLine = Record<string, unknown> & { msg?: string };

describe('worker logs', () => {
  let env: TestEnv;
  let lines: LogLine[] = [];
  let result: PipelineResult;
  let runId = '';
  const workflowId = () => `pipeline-logs-${env.id}`;

  before(async () => {
    env = await isolatedEnv('logs', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 100 });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 5,
      startMs: Date.now() - 3_600_000,
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: 300,
    });
    // `etl worker` as users run it, at the default level.
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...configEnv({ ...env.config, LOG_LEVEL: 'info' }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      for (let i = 0; i < 1200 && !stderr.includes('worker started') && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(stderr, /worker started/, stderr);
      const client = await connectClient(env.config);
      try {
        const handle = await client.workflow.start('pipelineWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: workflowId(),
          args: [{ stream: 'transactions' }],
        });
        runId = handle.firstExecutionRunId;
        result = (await handle.result()) as PipelineResult;
      } finally {
        await client.connection.close();
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    // Node's own process warnings (a deprecation, the AWS SDK's Node version notice) are not log lines.
    lines = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  });
  after(async () => env?.cleanup());

  it('writes one archive line per object, each naming its workflow, run and activity', () => {
    const archived = lines.filter((l) => l.msg === 'archived bronze object');
    assert.equal(archived.length, result.objectsArchived);
    for (const l of archived) {
      assert.deepEqual(
        [l.workflowId, l.runId, l.workflowType, l.activityType, l.attempt],
        [workflowId(), runId, 'pipelineWorkflow', 'archive', 1],
        JSON.stringify(l),
      );
      assert.match(String(l.activityId), /^\d+$/);
    }
  });

  it('puts the ids on every line written from inside an activity, and only there', () => {
    // Our own lines are those the SDK did not write (it marks its own with sdkComponent, or they
    // come through its runtime logger as component "temporal-sdk"); of those, the worker's
    // lifecycle lines carry component "worker" and are written outside any activity.
    const ours = lines.filter((l) => l.sdkComponent === undefined && l.component !== 'temporal-sdk');
    const inActivities = ours.filter((l) => l.component !== 'worker');
    assert.ok(inActivities.length >= result.objectsArchived, `${inActivities.length} activity lines`);
    for (const l of inActivities) {
      for (const key of ['workflowId', 'runId', 'activityId', 'activityType', 'attempt'])
        assert.ok(l[key] !== undefined, `${key} missing in ${JSON.stringify(l)}`);
    }
    const lifecycle = ours.filter((l) => l.component === 'worker');
    assert.ok(lifecycle.some((l) => String(l.msg).startsWith('worker started')));
    for (const l of lifecycle) assert.equal(l.activityId, undefined, JSON.stringify(l));
  });
});
