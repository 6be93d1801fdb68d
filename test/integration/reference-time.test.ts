// The real activities judge event times against the bronze object's archive time, never the wall
// clock nor the Kafka timestamp: an object archived in 2019 (its manifest row says so) is
// transformed, re-transformed, replayed from bronze and replayed from quarantine seven years later
// with the very same outcome its records would have had in 2019.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities';
import { replayBronzeObject } from '../../activities/replay/replay';
import { replayQuarantine } from '../../client/commands/quarantine';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { passBronzeObject } from '../../activities/transform-load/pass';
import { spooledLines } from '../../activities/transform-load/spool';
import type { QuarantineEntry } from '../../activities/quarantine';
import { transactionsStream } from '../../streams/transactions';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';

const ARCHIVED_AT = '2019-06-02T00:00:00.000Z';
const event = (n: number, eventTs: string) => ({
  transaction_id: `5d1e7c3a-2f4b-4c8d-9e0f-${String(n).padStart(12, '0')}`,
  event_ts: eventTs,
  user_id: 7,
  amount: 42.5,
  merchant: 'Fnac',
  category: 'electronics',
  city: 'Lyon',
  status: 'APPROVED',
  payment_method: 'card',
  currency: 'EUR',
});
const EVENTS = [
  event(1, '2019-06-01T08:00:00Z'), // a day before its archive: valid then, valid now (though 5 years past the clock's now)
  event(2, '2019-06-01T10:00:00+02:00'),
  event(3, '2019-06-04T00:00:00Z'), // two days after its archive: in the future, then as now
  event(4, new Date().toISOString()), // "now" by the clock: seven years after its archive
  event(5, '2019-06-01T10:00:00'), // no offset
];

describe('reference time of the real activities', () => {
  let env: TestEnv;
  let acts: Activities;
  let objectId: number;
  const spooled = async (file: string) => {
    const lines: string[] = [];
    for await (const line of spooledLines(file)) lines.push(line);
    return lines;
  };
  const quarantine = async () =>
    (
      await env.pool.query<{ kafka_offset: string; reason_code: string; reason: string }>(
        'SELECT kafka_offset::text, reason_code, reason FROM quarantine ORDER BY kafka_offset',
      )
    ).rows;

  before(async () => {
    env = await isolatedEnv('reftime', { KAFKA_TOPIC_PARTITIONS: 1 });
    acts = createActivities(env);
    const producer = env.kafka.producer();
    await producer.connect();
    // CreateTime 0 (1970): were the Kafka timestamp the reference, every event would be in the future.
    await producer.send({ topic: env.topic(), messages: EVENTS.map((e) => ({ key: 'k', value: JSON.stringify(e), timestamp: '0' })) });
    await producer.disconnect();
    await run(acts.archive, { stream: 'transactions' });
    const { rows } = await env.pool.query<{ id: number }>('SELECT id::int FROM bronze_objects');
    assert.equal(rows.length, 1);
    objectId = rows[0]!.id;
    // As if this object had been archived in 2019 and were transformed only now.
    await env.pool.query('UPDATE bronze_objects SET archived_at = $2 WHERE id = $1', [objectId, ARCHIVED_AT]);
  });
  after(async () => env?.cleanup());

  it('transforms against the archive time: what was plausible then passes, what was not is quarantined', async () => {
    const t = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: objectId });
    assert.deepEqual({ valid: t.valid, quarantined: t.quarantined }, { valid: 2, quarantined: 3 });
    const q = await quarantine();
    assert.deepEqual(
      q.map((r) => [r.kafka_offset, r.reason_code]),
      [
        ['2', 'INVALID_VALUE'],
        ['3', 'INVALID_VALUE'],
        ['4', 'INVALID_VALUE'],
      ],
    );
    assert.match(q[0]!.reason, new RegExp(`in the future: more than 1 day after the record was archived \\(${ARCHIVED_AT}\\)`));
    assert.match(q[1]!.reason, /in the future/);
    assert.match(q[2]!.reason, /has no UTC offset/);
    assert.equal(t.inserted, 2);
  });

  it('a retried pass writes the same silver lines and the same quarantine entries', async () => {
    const {
      rows: [o],
    } = await env.pool.query<{ object_key: string; archived_at: Date; load_id: string }>(
      'SELECT object_key, archived_at, load_id FROM bronze_objects WHERE id = $1',
      [objectId],
    );
    const q = await quarantine();
    // The pass alone, twice, as a retry after a crash before the commit runs it again.
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'etl-reference-time-'));
    try {
      const pass = (dir: string) =>
        passBronzeObject(env.s3, {
          stream: 'transactions',
          bronzeObjectId: objectId,
          loadId: Number(o!.load_id),
          bucket: env.config.S3_BUCKET,
          objectKey: o!.object_key,
          referenceTimeMs: o!.archived_at.getTime(),
          spoolDir: dir,
        });
      await mkdir(path.join(spoolDir, 'a'));
      await mkdir(path.join(spoolDir, 'b'));
      const first = await pass(path.join(spoolDir, 'a'));
      const again = await pass(path.join(spoolDir, 'b'));
      assert.equal(first.valid, 2);
      assert.deepEqual(await spooled(again.files.silver), await spooled(first.files.silver));
      const entries: QuarantineEntry[] = (await spooled(again.files.quarantine)).map((line) => JSON.parse(line) as QuarantineEntry);
      assert.deepEqual(
        entries.map((e) => [e.offset, e.code, e.reason]),
        q.map((r) => [r.kafka_offset, r.reason_code, r.reason]),
      );
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
    assert.deepEqual(await quarantine(), q);
  });

  it('a replay from bronze finds every loaded record still valid and every quarantined one still invalid', async () => {
    const r = await run(replayBronzeObject, env, transactionsStream, {
      stream: 'transactions',
      bronzeObjectId: objectId,
      runKey: 'reference-time',
    });
    assert.deepEqual(
      { inserted: r.inserted, updated: r.updated, nowInvalid: r.nowInvalid, stillQuarantined: r.stillQuarantined },
      { inserted: 0, updated: 0, nowInvalid: 0, stillQuarantined: 3 },
    );
  });

  it('a quarantine replay judges against the same archive time', async () => {
    const r = await replayQuarantine(env.pool, transactionsStream, { stream: 'transactions', limit: 100 });
    assert.deepEqual(
      { examined: r.examined, loaded: r.loaded, stillInvalid: r.stillInvalid },
      { examined: 3, loaded: 0, stillInvalid: { INVALID_VALUE: 3 } },
    );
    const {
      rows: [n],
    } = await env.pool.query<{ flat: number }>('SELECT count(*)::int AS flat FROM transactions_flat');
    assert.equal(n!.flat, 2);
  });
});
