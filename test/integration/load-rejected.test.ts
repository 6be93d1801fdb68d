// Rows PostgreSQL refuses at load are found and set aside, and the rest of their object loads in
// the same transaction. The transform prevents every refusal it can foresee, so here what its pass
// hands the load (the silver lines and the CSV rows, activities/transform-load/pass.ts) is edited
// afterwards to hold values it would have stopped: that stands for whatever it could not foresee (a type without a guard, a rule that missed a case). Both load paths are
// covered: the fast COPY of an object of new keys, and the staging path of one with a repeated key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type QualityResult, type TransformLoadResult } from '../../activities';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { editedPass, type SilverDoc } from '../support/edited-pass';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';

const gen = { seed: 31, startMs: Date.now() - 3_600_000, windowMs: 3_600_000 };
const GOOD = 30;

/** How a silver line is broken, and what PostgreSQL answers (verified with psql on PostgreSQL 15). */
const BREAKS: { name: string; at: number; edit: (d: SilverDoc) => void; sqlState: string; message: RegExp }[] = [
  {
    name: 'amount beyond numeric(12,2)',
    at: 3,
    edit: (d) => void (d.amount = '1e20'),
    sqlState: '22003',
    message: /numeric field overflow/,
  },
  {
    name: 'NUL in the jsonb payload',
    at: 7,
    edit: (d) => void (d.payload.note = 'a\0b'),
    sqlState: '22P05',
    message: /unsupported Unicode escape sequence/,
  },
  {
    name: 'merchant null in a NOT NULL column',
    at: 12,
    edit: (d) => void (d.merchant = null),
    sqlState: '23502',
    message: /null value in column "merchant"/,
  },
  {
    name: 'event_hour outside its CHECK',
    at: 18,
    edit: (d) => void (d.event_hour = 99),
    sqlState: '23514',
    message: /violates check constraint/,
  },
  {
    name: 'a 6-digit year',
    at: 25,
    edit: (d) => void (d.event_ts = '+010000-01-01T00:00:00.000Z'),
    sqlState: '22009',
    message: /time zone displacement out of range/,
  },
];

describe('rows PostgreSQL refuses at load', () => {
  let env: TestEnv;
  const sent = new Map<string, Buffer>(); // partition@offset -> the bytes produced
  const objects: Record<'direct' | 'staging', { id: number; records: number }> = {
    direct: { id: 0, records: 0 },
    staging: { id: 0, records: 0 },
  };
  const loaded: Partial<Record<'direct' | 'staging', TransformLoadResult>> = {};

  before(async () => {
    env = await isolatedEnv('rejected');
    const producer = env.kafka.producer();
    await producer.connect();
    for (const [path, partition] of [
      ['direct', 0],
      ['staging', 1],
    ] as const) {
      const values = Array.from({ length: GOOD + BREAKS.length }, (_, i) =>
        Buffer.from(JSON.stringify(syntheticTransaction(partition * 1_000 + i, gen))),
      );
      // The staging path: a repeated event makes the fast path step aside at its first two rows.
      if (path === 'staging') values.unshift(values[0]!);
      const [meta] = await producer.send({ topic: env.topic(), messages: values.map((value) => ({ partition, value })) });
      values.forEach((v, i) => sent.set(`${partition}@${BigInt(meta!.baseOffset!) + BigInt(i)}`, v));
      objects[path].records = values.length;
    }
    await producer.disconnect();

    // The pass as production runs it, then its output broken before the load reads it.
    const breakingPass = editedPass((docs, task, pass) => {
      assert.equal(pass.quarantined, 0);
      const shift = task.bronzeObjectId === objects.staging.id ? 1 : 0;
      for (const b of BREAKS) b.edit(docs[b.at + shift]!);
    });
    const acts = createActivities(env, breakingPass);
    await run(acts.archive, { stream: 'transactions' });
    const { rows } = await env.pool.query<{ id: string; kafka_partition: number }>(
      'SELECT id, kafka_partition FROM bronze_objects ORDER BY kafka_partition',
    );
    for (const r of rows) objects[r.kafka_partition === 0 ? 'direct' : 'staging'].id = Number(r.id);
    for (const path of ['direct', 'staging'] as const) {
      loaded[path] = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: objects[path].id });
    }
  });
  after(async () => env?.cleanup());

  for (const path of ['direct', 'staging'] as const) {
    it(`${path} path: quarantines each refused row as LOAD_REJECTED with the SQLSTATE, the server's message and its original bytes`, async () => {
      const { rows } = await env.pool.query<{
        reason_code: string;
        reason: string;
        payload: string;
        payload_encoding: string;
        kafka_partition: number;
        kafka_offset: string;
        bronze_object_id: string;
      }>(
        'SELECT reason_code, reason, payload, payload_encoding, kafka_partition, kafka_offset::text, bronze_object_id FROM quarantine WHERE bronze_object_id = $1 ORDER BY kafka_offset::bigint',
        [objects[path].id],
      );
      assert.equal(rows.length, BREAKS.length, JSON.stringify(rows.map((r) => r.reason)));
      const shift = path === 'staging' ? 1 : 0;
      BREAKS.forEach((b, i) => {
        const row = rows[i]!;
        assert.equal(row.reason_code, 'LOAD_REJECTED', b.name);
        assert.equal(row.kafka_offset, String(b.at + shift), b.name);
        assert.match(row.reason, new RegExp(`SQLSTATE ${b.sqlState}\\)`), `${b.name}: ${row.reason}`);
        assert.match(row.reason, b.message, b.name);
        assert.deepEqual(
          Buffer.from(row.payload, 'utf8'),
          sent.get(`${row.kafka_partition}@${row.kafka_offset}`),
          `${b.name}: the bytes as produced`,
        );
      });
    });

    it(`${path} path: loads every other row of the object, in the same load, with counts that add up`, async () => {
      const l = loaded[path]!;
      const duplicates = path === 'staging' ? 1 : 0;
      assert.deepEqual(
        { rowsIn: l.rowsIn, inserted: l.inserted, duplicates: l.duplicates, conflicts: l.conflicts, rejected: l.rejected },
        { rowsIn: objects[path].records, inserted: GOOD, duplicates, conflicts: 0, rejected: BREAKS.length },
      );
      const {
        rows: [c],
      } = await env.pool.query<{ flat: number; raw: number; loads: number }>(
        `SELECT (SELECT count(*)::int FROM transactions_flat WHERE bronze_object_id = $1 AND load_id = $2) AS flat,
                (SELECT count(*)::int FROM raw_transactions WHERE bronze_object_id = $1 AND load_id = $2) AS raw,
                (SELECT count(*)::int FROM loads WHERE bronze_object_id = $1) AS loads`,
        [objects[path].id, l.loadId],
      );
      assert.deepEqual(c, { flat: GOOD, raw: GOOD, loads: 1 });
      const {
        rows: [m],
      } = await env.pool.query<{ rejected_count: number; inserted_count: number }>(
        'SELECT rejected_count, inserted_count FROM bronze_objects WHERE id = $1',
        [objects[path].id],
      );
      assert.deepEqual(m, { rejected_count: BREAKS.length, inserted_count: GOOD });
    });
  }

  it('a second load of the same object changes nothing, and the quality checks pass', async () => {
    const acts = createActivities(env);
    const again = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: objects.direct.id });
    assert.equal(again.alreadyLoaded, true);
    assert.equal(again.rejected, BREAKS.length);
    const {
      rows: [q],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine');
    assert.equal(q!.n, 2 * BREAKS.length);
    // The loads ran as activities alone: their lake step, as the workflows run it after each load.
    for (const o of Object.values(objects)) await run(acts.writeLake, { stream: 'transactions', bronzeObjectId: o.id });
    const quality = (await run(acts.quality, { stream: 'transactions', runId: `rejected-${env.id}` })) as QualityResult;
    assert.equal(quality.passed, true, JSON.stringify(quality.checks.filter((c) => !c.passed)));
  });
});
