// `--json` on the commands that print a table or a summary: stdout is exactly one JSON document
// (notes and progress go to stderr), carrying the same facts as the text output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { StopOutcome, StartOutcome } from '../../client/commands/stream';
import type { RunReport } from '../../client/commands/report';
import { configEnv } from '../support/isolation';
import { PROJECT_ROOT } from '../../lib/config';
import { produceTransactions } from '../../activities/ingest/produce';
import type { PipelineResult, ReplayResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const HOUR = 3_600_000;

describe('--json output', () => {
  let env: TestEnv;
  /** The CLI in a child process (this one runs the worker that answers it). */
  const etl = async (...args: string[]): Promise<unknown> => {
    const { stdout } = await promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
      encoding: 'utf8',
      env: { ...process.env, ...configEnv(env.config) },
    });
    return JSON.parse(stdout);
  };

  before(async () => {
    env = await isolatedEnv('json');
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 6,
      startMs: Date.now() - HOUR,
      windowMs: HOUR,
      topic: env.topic(),
      rows: 500,
    });
  });
  after(async () => env?.cleanup());

  it('run pipeline --wait, replay, stream start/stop, migrate, quarantine replay', { timeout: 240_000 }, async () => {
    await withWorker(env, async () => {
      const run = (await etl('run', 'pipeline', '--wait', '--json')) as {
        workflowId: string;
        url: string;
        result: PipelineResult;
        report: RunReport;
      };
      assert.match(run.workflowId, /^pipeline-transactions-/);
      assert.match(run.url, /^http:\/\/.*\/workflows\//);
      assert.deepEqual([run.result.rowsInserted, run.result.quality.passed], [500, true]);
      assert.deepEqual(
        run.report.tables.find((t) => t.table === 'transactions_flat'),
        { table: 'transactions_flat', rows: 500 },
      );
      assert.equal(run.report.bronze.records, 500);

      const replay = (await etl(
        'replay',
        '--from',
        new Date(Date.now() - 2 * HOUR).toISOString(),
        '--to',
        new Date(Date.now() + HOUR).toISOString(),
        '--json',
      )) as { workflowId: string; started: boolean; result: ReplayResult };
      assert.equal(replay.started, true);
      assert.deepEqual([replay.result.records, replay.result.inserted, replay.result.quality.passed], [500, 0, true]);

      const started = (await etl('stream', 'start', 'transactions', '--flush', '500ms', '--json')) as StartOutcome;
      assert.equal(started.started, true);
      const again = (await etl('stream', 'start', 'transactions', '--json')) as StartOutcome;
      assert.deepEqual([again.started, again.workflowId], [false, started.workflowId]);
      const stopped = (await etl('stream', 'stop', 'transactions', '--timeout', '60s', '--json')) as StopOutcome;
      assert.equal(stopped.state, 'stopped');
      if (stopped.state === 'stopped') assert.equal(stopped.result.quality.passed, true);

      const migrated = (await etl('migrate', '--json')) as { migrations: { applied: string[]; alreadyApplied: number } };
      assert.deepEqual(migrated.migrations.applied, [], 'already migrated');
      assert.ok(migrated.migrations.alreadyApplied > 0);

      const requarantined = (await etl('quarantine', 'replay', '--json')) as { examined: number; loaded: number };
      assert.deepEqual([requarantined.examined, requarantined.loaded], [0, 0], 'nothing quarantined');
    });
  });

  it('produce: the summary of what reached the topic, with the Kafka end offsets to match', async () => {
    const produced = (await etl('produce', 'ticks', '--rows', '300', '--symbols', 'BTC-USD,ETH-USD', '--json')) as {
      stream: string;
      topic: string;
      produced: number;
      seconds: number;
      events_per_s: number;
    };
    assert.deepEqual([produced.stream, produced.topic, produced.produced], ['ticks', env.topic('ticks'), 300]);
    assert.ok(produced.seconds > 0 && produced.events_per_s > 0);
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(env.topic('ticks'));
      assert.equal(
        offsets.reduce((sum, p) => sum + Number(p.high), 0),
        300,
      );
    } finally {
      await admin.disconnect();
    }
  });
});
