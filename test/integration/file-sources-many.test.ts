// An S3 landing prefix of 20,000 small files, discovered by a real run on a real worker: the
// listing goes a page at a time in bounded discovery steps (each passes a cursor and counts, never
// a list), every step finishes on its first attempt within its timeouts, and every file is
// registered once; a second discovery of the same prefix registers nothing new. The files are a
// shared read-only fixture (test/support/s3-fixture.ts): uploaded once per machine, which took most
// of this file's minutes; the registrations are this test's own schema's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { filesInput } from '../../client/commands/ingest-files';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { SourceProgress } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';
import { sharedS3Fixture } from '../support/s3-fixture';

const gen = { seed: 232, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const FILES = 20_000;

describe('file sources: an S3 prefix of 20,000 files', () => {
  let env: TestEnv;
  let location: string;

  before(async () => {
    env = await isolatedEnv('files_many');
    const files = Array.from({ length: FILES }, (_, i) => ({
      key: `${String(i).padStart(5, '0')}.jsonl`,
      body: `${JSON.stringify(syntheticTransaction(i, gen))}\n`,
    }));
    location = `s3://${env.config.S3_BUCKET}/${await sharedS3Fixture(env.s3, env.config.S3_BUCKET, 'files-many', files)}`;
  });
  after(async () => env?.cleanup());

  /** Starts a run and returns once its discovery is done (its stage moved on), with what it found; the run is then ended. */
  async function discover(client: Client, id: string) {
    const handle = await client.workflow.start('sourceWorkflow', {
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      workflowId: `files-many-${env.id}-${id}`,
      args: [filesInput(env.config, 'transactions', location)],
    });
    try {
      for (;;) {
        const p = await handle.query<SourceProgress>('progress');
        if (p.stage !== 'discover') return { progress: p, handle };
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      // Reading 20,000 files is not what this test is about: the run stops once discovery is done.
      await handle.terminate('discovery checked');
    }
  }

  it('discovers every file in bounded steps, each on its first attempt', { timeout: 900_000 }, async () => {
    await withWorker(env, async (client) => {
      const first = await discover(client, 'first');
      assert.equal(first.progress.discovered?.seen, FILES);
      assert.equal(first.progress.discovered?.new, FILES);
      assert.equal(first.progress.discovered?.unreadable, 0);
      const { rows } = await env.pool.query<{ n: number }>('SELECT count(DISTINCT location)::int AS n FROM source_files');
      assert.equal(rows[0]!.n, FILES);

      const steps = new Map<string, { attempt: number; completed: boolean }>();
      for (const e of (await first.handle.fetchHistory()).events ?? []) {
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'discoverSource')
          steps.set(String(e.eventId), { attempt: 0, completed: false });
        const started = e.activityTaskStartedEventAttributes;
        const step = steps.get(String(started?.scheduledEventId));
        if (step) step.attempt = started?.attempt ?? 0;
        const done = steps.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (done) done.completed = true;
      }
      assert.ok(steps.size >= 1);
      assert.deepEqual(
        [...steps.values()].filter((s) => s.attempt !== 1 || !s.completed),
        [],
        'every discovery step completed on its first attempt',
      );
    });
    // The first run is stopped once its discovery is done, which may be after it began reading some
    // files; its worker has stopped (runUntil waits for its activities), so this count holds still.
    const { rows: unread } = await env.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM source_files WHERE status = 'new'");
    assert.ok(unread[0]!.n > 0, 'the first run did not read every file before it was stopped');
    const second = await withWorker(env, (client) => discover(client, 'second'));
    assert.equal(second.progress.discovered?.seen, FILES);
    assert.equal(second.progress.discovered?.new, 0);
    assert.equal(second.progress.discovered?.pending, unread[0]!.n, 'registered by the first run, not read yet');
  });
});
