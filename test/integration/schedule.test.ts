// Schedules are Temporal Schedules: created, listed (also by the temporal CLI), triggered,
// backfilled for a past window (and followed to the end by `etl schedule backfill --wait`), paused
// and deleted, with the runs they start checked.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { BackfillReport } from '../../client/commands/backfill';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
} from '../../client/commands/schedule';
import { temporalBinary } from '../../client/stack';
import { PROJECT_ROOT } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { produceTransactions } from '../../activities/ingest/produce';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('etl schedule', () => {
  let env: TestEnv;
  before(async () => {
    env = await isolatedEnv('sched');
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 9,
      startMs: Date.now() - HOUR,
      windowMs: HOUR,
      topic: env.topic(),
      rows: 2_000,
    });
  });
  after(async () => env?.cleanup());

  it('creates, lists, triggers, backfills, pauses and deletes', { timeout: 180_000 }, async () => {
    const id = `sched-${env.id}`;
    await withWorker(env, async (client) => {
      await createSchedule(client, env.config, {
        id,
        what: 'pipeline',
        stream: 'transactions',
        everyMs: HOUR,
        overlap: 'skip',
        catchupWindowMs: HOUR,
        note: 'test',
      });
      await assert.rejects(
        createSchedule(client, env.config, { id, what: 'pipeline', stream: 'transactions', everyMs: HOUR, overlap: 'skip' }),
        (err: unknown) => err instanceof EtlError && err.code === 'SCHEDULE_EXISTS' && err.message.includes('etl schedule update'),
      );

      const listed = (await listSchedules(client, env.config)).find((s) => s.id === id);
      assert.ok(listed, 'listed');
      assert.equal(listed.spec, 'every 3600s');
      assert.equal(listed.nextRuns.length, 2);
      const cli = spawnSync(
        temporalBinary(env.config),
        ['schedule', 'list', '--address', env.config.TEMPORAL_ADDRESS, '--namespace', env.config.TEMPORAL_NAMESPACE],
        { encoding: 'utf8' },
      );
      assert.match(cli.stdout, new RegExp(id), 'the temporal CLI sees it too');

      const runsDone = async (n: number) => {
        for (let i = 0; i < 120; i++) {
          const d = await describeSchedule(client, env.config, id);
          const runs = d.info.recentActions.filter((a) => a.action.type === 'startWorkflow');
          if (runs.length >= n && d.info.runningActions.length === 0) {
            const statuses = await Promise.all(
              runs.map((r) =>
                client.workflow
                  .getHandle(r.action.workflow.workflowId)
                  .describe()
                  .then((x) => x.status.name),
              ),
            );
            if (statuses.every((s) => s === 'COMPLETED')) return runs.map((r) => r.action.workflow.workflowId);
          }
          await sleep(1_000);
        }
        throw new Error(`fewer than ${n} completed runs of ${id}`);
      };

      await triggerSchedule(client, env.config, id);
      const [first] = await runsDone(1);
      assert.match(first!, new RegExp(`^${id}-\\d{4}-\\d\\d-\\d\\dT`), 'runs get readable, time-stamped ids');
      const count = async () => (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat')).rows[0]!.n;
      assert.equal(await count(), 2_000);

      // The CLI as users run it (not blocking this process, whose worker runs the backfilled runs):
      // it requests the backfill, follows the runs to their end and sums them up.
      const top = Math.floor(Date.now() / HOUR) * HOUR;
      const window = ['--from', new Date(top - 3 * HOUR + 1).toISOString(), '--to', new Date(top - HOUR + 1).toISOString()];
      const { stdout } = await promisify(execFile)(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        ['schedule', 'backfill', id, ...window, '--wait', '--json'],
        {
          encoding: 'utf8',
          env: { ...process.env, TEMPORAL_TASK_QUEUE: env.config.TEMPORAL_TASK_QUEUE },
        },
      );
      const report = JSON.parse(stdout) as BackfillReport;
      const hours = [top - 2 * HOUR, top - HOUR].map((t) => new Date(t).toISOString());
      assert.deepEqual([report.expected, report.completed, report.failed, report.timedOut], [2, 2, 0, false], stdout);
      assert.deepEqual(
        report.runs.map((r) => [r.workflowId, r.scheduledAt, r.status, r.rowsInserted]),
        hours.map((h) => [`${id}-${h.slice(0, 19)}Z`, h, 'COMPLETED', 0]),
        'one run per hour of the window, each over data already loaded',
      );
      const runs = await runsDone(3);
      assert.ok(runs.length >= 3, `backfill started runs: ${runs.join(', ')}`);
      assert.equal(await count(), 2_000, 'runs over data already loaded change nothing');

      await pauseSchedule(client, env.config, id, true, 'maintenance');
      // describe is authoritative; list reads the visibility store, which catches up a moment later.
      const paused = (await describeSchedule(client, env.config, id)).state;
      assert.deepEqual([paused.paused, paused.note], [true, 'maintenance']);
      await pauseSchedule(client, env.config, id, false);

      await deleteSchedule(client, env.config, id);
      let stillListed = true;
      for (let i = 0; i < 20 && stillListed; i++) {
        stillListed = (await listSchedules(client, env.config)).some((s) => s.id === id);
        if (stillListed) await sleep(500);
      }
      assert.equal(stillListed, false);
      await assert.rejects(
        describeSchedule(client, env.config, id),
        (err: unknown) => err instanceof EtlError && err.code === 'SCHEDULE_NOT_FOUND',
      );
    });
  });
});
