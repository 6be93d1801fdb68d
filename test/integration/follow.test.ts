// Continuous mode's follower on the real servers, driven directly: it keeps the archive's
// exactly-once rules (a pending range left by a crash is redone exactly, to the same key; ranges
// stay contiguous), a pipeline's archive beside it waits for it instead of failing, and a retried
// attempt carries on the counts of the one before it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities, type FollowResult } from '../../activities';
import { produceTransactions } from '../../activities/ingest/produce';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

const gen = { seed: 12, startMs: Date.now() - 3_600_000, windowMs: 3_600_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the continuous follower', () => {
  let env: TestEnv;
  let acts: Activities;
  let produced = 0;

  const produce = async (n: number) => {
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      ...gen,
      topic: env.topic(),
      rows: produced + n,
      startIndex: produced,
    });
    produced += n;
  };
  const manifest = async () =>
    (
      await env.pool.query<{ archived: number; pending: number; gaps: number }>(
        `SELECT coalesce(sum(record_count) FILTER (WHERE status = 'archived'), 0)::int AS archived, count(*) FILTER (WHERE status = 'pending')::int AS pending,
            (SELECT count(*)::int FROM (SELECT first_offset, lag(last_offset) OVER (PARTITION BY kafka_partition ORDER BY first_offset) AS prev FROM bronze_objects) o
             WHERE prev IS NOT NULL AND first_offset <> prev + 1) AS gaps
     FROM bronze_objects`,
      )
    ).rows[0]!;
  /**
   * Runs the follower until it has joined the group and `until` holds, then cancels it as the
   * workflow does, and returns its result.
   */
  const followUntil = async (
    until: () => Promise<boolean>,
    info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {},
  ): Promise<FollowResult> => {
    const mock = activityEnv(info);
    let joins = 0;
    mock.on('heartbeat', (d: { groupJoins?: number }) => (joins = d.groupJoins ?? 0));
    const running = mock.run(acts.follow, { stream: 'transactions', flushIntervalMs: 300 }) as Promise<FollowResult>;
    const joined = (info.heartbeatDetails as { groupJoins?: number } | undefined)?.groupJoins ?? 0;
    for (let i = 0; i < 600 && !(joins > joined && (await until())); i++) await sleep(100);
    mock.cancel();
    return running;
  };

  before(async () => {
    env = await isolatedEnv('follow', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 200 });
    acts = createActivities(env);
  });
  after(async () => env?.cleanup());

  it('redoes a range a crash left pending, to the same key, then follows on', { timeout: 120_000 }, async () => {
    await produce(600);
    await activityEnv().run(acts.archive, { stream: 'transactions' });
    const {
      rows: [last],
    } = await env.pool.query<{ id: string; object_key: string; record_count: number }>(
      'SELECT id, object_key, record_count FROM bronze_objects ORDER BY id DESC LIMIT 1',
    );
    // What a SIGKILL between the S3 upload and the manifest update leaves behind.
    await env.pool.query(
      "UPDATE bronze_objects SET status = 'pending', object_key = NULL, record_count = NULL, archived_at = NULL WHERE id = $1",
      [last!.id],
    );
    const keysBefore = await env.listKeys('bronze/');

    await produce(90);
    const result = await followUntil(async () => (await manifest()).archived === produced);

    const {
      rows: [redone],
    } = await env.pool.query<{ status: string; object_key: string }>('SELECT status, object_key FROM bronze_objects WHERE id = $1', [
      last!.id,
    ]);
    assert.deepEqual(redone, { status: 'archived', object_key: last!.object_key }, 'the same range, to the same key');
    assert.deepEqual(await manifest(), { archived: 690, pending: 0, gaps: 0 });
    assert.equal(result.recordsArchived, last!.record_count + 90);
    assert.equal(result.groupJoins, 1);
    const keysAfter = await env.listKeys('bronze/');
    assert.ok(keysBefore.every((k) => keysAfter.includes(k)));
    assert.equal(keysAfter.length, keysBefore.length + result.objectsArchived - 1, 'one object per new range, none for the redone one');
  });

  it('lets a pipeline archive beside it wait for it instead of failing', { timeout: 120_000 }, async () => {
    let archived: Awaited<ReturnType<Activities['archive']>> | undefined;
    await followUntil(async () => {
      if (!archived) {
        await produce(150);
        // Holds the topic's lock, so this archive waits until the follower covers what Kafka holds now.
        archived = await activityEnv().run(acts.archive, { stream: 'transactions' });
      }
      return true;
    });
    assert.deepEqual(archived, { objectsArchived: 0, recordsArchived: 0, caughtUp: true });
    assert.deepEqual(await manifest(), { archived: produced, pending: 0, gaps: 0 });
  });

  it('carries on the counts of a killed attempt: its last heartbeat plus what it wrote after it', { timeout: 120_000 }, async () => {
    // A killed attempt whose last heartbeat said 2 objects / 20 records at offset 0 of every partition:
    // everything in the manifest was written after it, so the retry counts all of it on top.
    const heartbeat = {
      offsets: { 0: '0', 1: '0', 2: '0' },
      objectsArchived: 2,
      recordsArchived: 20,
      groupJoins: 1,
      buffered: 0,
      lastFlushAt: null,
    };
    const {
      rows: [m],
    } = await env.pool.query<{ objects: number; records: number }>(
      "SELECT count(*)::int AS objects, sum(record_count)::int AS records FROM bronze_objects WHERE status = 'archived'",
    );
    const result = await followUntil(async () => true, { attempt: 2, heartbeatDetails: heartbeat });
    assert.deepEqual(result, { objectsArchived: 2 + m!.objects, recordsArchived: 20 + m!.records, groupJoins: 2, attempt: 2 });
  });
});
