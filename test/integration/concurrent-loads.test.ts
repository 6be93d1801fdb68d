// Two objects loading at the same time carry the same key with different payloads: exactly one
// lands in the flat table, the other is quarantined as CONFLICTING_DUPLICATE, never counted as a
// duplicate and never dropped. Each interleaving is forced, not hoped for: the first load is held
// with its rows inserted and not committed (the test locks its manifest row, so it waits at its
// manifest update: test/support/pg-locks.ts), the second runs until PostgreSQL shows it waiting on
// the first, and only then is the first let go.
// Then: the counts are what the loads compared, so corrupting one makes a quality check fail.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createActivities, type TransformLoadInput, type TransformLoadResult as LoadResult, type QualityResult } from '../../activities';
import { passInline } from '../../activities/transform-load/pass-inline';
import { lakeSync } from '../../client/commands/lake';
import { transformAndLoad } from '../../activities/transform-load/transform-load';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { getStream } from '../../streams';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';
import { holdManifestRow, waitingOn } from '../support/pg-locks';

type Path = 'direct' | 'staging';
interface Scenario {
  name: string;
  first: 'X' | 'Y';
  firstPath: Path;
  secondPath: Path;
}

/** The activity, the pass in-line. */
const load = (deps: TestEnv, input: TransformLoadInput) => transformAndLoad(deps, input, { runPass: passInline });

const gen = { seed: 77, startMs: Date.now() - 3_600_000, windowMs: 3_600_000 };
const OTHERS = 20;

interface Built {
  env: TestEnv;
  ids: { X: number; Y: number };
  key: string;
  payload: { X: Record<string, unknown>; Y: Record<string, unknown> };
  produced: { X: number; Y: number };
}

/**
 * Object X on partition 0 and object Y on partition 1, each: [a repeated event, if its load is to
 * take the staging path], OTHERS events of its own, then the shared key K with its own amount.
 */
async function build(name: string, paths: { X: Path; Y: Path }, base: number): Promise<Built> {
  const env = await isolatedEnv(name, { PG_POOL_MAX: 6 });
  const shared = syntheticTransaction(base, gen);
  const payload = { X: { ...shared, amount: 11.11 }, Y: { ...shared, amount: 22.22 } };
  const produced = { X: 0, Y: 0 };
  const producer = env.kafka.producer();
  await producer.connect();
  for (const [side, partition] of [
    ['X', 0],
    ['Y', 1],
  ] as const) {
    const values: unknown[] = [];
    if (paths[side] === 'staging') {
      const repeated = syntheticTransaction(base + (partition + 1) * 1_000, gen);
      values.push(repeated, repeated); // the same event twice: the fast path's COPY fails on its first row pair
    }
    for (let i = 0; i < OTHERS; i++) values.push(syntheticTransaction(base + (partition + 1) * 1_000 + 1 + i, gen));
    values.push(payload[side]);
    await producer.send({ topic: env.topic(), messages: values.map((v) => ({ partition, value: JSON.stringify(v) })) });
    produced[side] = values.length;
  }
  await producer.disconnect();
  const acts = createActivities(env);
  await run(acts.archive, { stream: 'transactions' });
  const objects = await run(acts.listUnloadedObjects, { stream: 'transactions', limit: 10 });
  const { rows } = await env.pool.query<{ id: string; kafka_partition: number }>(
    'SELECT id, kafka_partition FROM bronze_objects ORDER BY kafka_partition',
  );
  const ids = { X: Number(rows.find((r) => r.kafka_partition === 0)!.id), Y: Number(rows.find((r) => r.kafka_partition === 1)!.id) };
  assert.equal(objects.length, 2);
  return { env, ids, key: shared.transaction_id, payload, produced };
}

/**
 * The first load held inserted-not-committed while the second runs into it; returns both results,
 * and the statement the second was in while it waited on the first.
 */
async function interleave(b: Built, s: Scenario): Promise<{ first: LoadResult; second: LoadResult; secondWaitedIn: string }> {
  const second = s.first === 'X' ? 'Y' : 'X';
  const held = await holdManifestRow(b.env.pool, b.ids[s.first]);
  let firstLoad: Promise<LoadResult> | undefined;
  let secondLoad: Promise<LoadResult> | undefined;
  try {
    firstLoad = run(load, b.env, { stream: 'transactions', bronzeObjectId: b.ids[s.first] });
    const first = await waitingOn(b.env.pool, held.pid);
    assert.match(first.query, /^UPDATE bronze_objects SET valid_count/, 'the first load waits with every row written, before its commit');
    secondLoad = run(load, b.env, { stream: 'transactions', bronzeObjectId: b.ids[second] });
    const waiting = await waitingOn(b.env.pool, first.pid);
    await held.release();
    const [firstResult, secondResult] = await Promise.all([firstLoad, secondLoad]);
    return { first: firstResult, second: secondResult, secondWaitedIn: waiting.query };
  } catch (err) {
    await held.release();
    await Promise.allSettled([firstLoad, secondLoad]);
    throw err;
  }
}

const scenarios: Scenario[] = [
  // The case that used to lose the conflict: the second's scan cannot see the first's uncommitted
  // key, its insert then waits on it and skips it; counted as a duplicate before the second scan.
  { name: 'X inserted, not committed, when Y (staging path) scans for conflicts', first: 'X', firstPath: 'direct', secondPath: 'staging' },
  {
    name: 'the other order: Y inserted, not committed, when X (staging path) scans',
    first: 'Y',
    firstPath: 'direct',
    secondPath: 'staging',
  },
  { name: 'both on the staging path', first: 'X', firstPath: 'staging', secondPath: 'staging' },
  // The fast path's COPY waits on the uncommitted key, fails once it commits, and steps aside.
  { name: 'the second on the fast path', first: 'Y', firstPath: 'staging', secondPath: 'direct' },
];

describe('conflicts across concurrent loads', () => {
  const envs: TestEnv[] = [];
  after(async () => {
    for (const env of envs) await env.cleanup();
  });

  scenarios.forEach((s, n) => {
    it(`${s.name}: the first payload stays, the second is CONFLICTING_DUPLICATE`, async () => {
      const second = s.first === 'X' ? 'Y' : 'X';
      const b = await build(`conc${n}`, { [s.first]: s.firstPath, [second]: s.secondPath } as { X: Path; Y: Path }, 10_000 * (n + 1));
      envs.push(b.env);
      const r = await interleave(b, s);
      // The staging path scans for conflicts, then inserts: waiting in its insert on the first's
      // uncommitted key, it has scanned while the first was open. The fast path waits in its COPY.
      // (pg_stat_activity keeps the first track_activity_query_size bytes of a statement.)
      if (s.secondPath === 'staging')
        assert.ok(
          r.secondWaitedIn.length > 0 && getStream('transactions').insertFromStagingSql.startsWith(r.secondWaitedIn),
          r.secondWaitedIn,
        );
      else assert.match(r.secondWaitedIn, /^COPY /);

      const { rows: flat } = await b.env.pool.query<{ amount: string; bronze_object_id: string }>(
        'SELECT amount::text, bronze_object_id FROM transactions_flat WHERE transaction_id = $1',
        [b.key],
      );
      assert.deepEqual(
        flat,
        [{ amount: (b.payload[s.first].amount as number).toFixed(2), bronze_object_id: String(b.ids[s.first]) }],
        "the first load's payload",
      );
      const { rows: q } = await b.env.pool.query<{
        reason_code: string;
        reason: string;
        payload: string;
        bronze_object_id: string;
        kafka_offset: string;
      }>('SELECT reason_code, reason, payload, bronze_object_id, kafka_offset::text FROM quarantine');
      assert.equal(q.length, 1, JSON.stringify(q));
      assert.equal(q[0]!.reason_code, 'CONFLICTING_DUPLICATE');
      assert.match(q[0]!.reason, /already loaded with a different payload/);
      assert.equal(q[0]!.bronze_object_id, String(b.ids[second]));
      assert.equal(q[0]!.kafka_offset, String(b.produced[second] - 1), "the second object's copy, its last record");
      assert.deepEqual(JSON.parse(q[0]!.payload), b.payload[second]);

      const dups = (p: Path) => (p === 'staging' ? 1 : 0);
      const counts = (l: LoadResult) => ({
        rowsIn: l.rowsIn,
        inserted: l.inserted,
        duplicates: l.duplicates,
        conflicts: l.conflicts,
        rejected: l.rejected,
      });
      assert.deepEqual(counts(r.first), {
        rowsIn: b.produced[s.first],
        inserted: b.produced[s.first] - dups(s.firstPath),
        duplicates: dups(s.firstPath),
        conflicts: 0,
        rejected: 0,
      });
      assert.deepEqual(counts(r.second), {
        rowsIn: b.produced[second],
        inserted: b.produced[second] - dups(s.secondPath) - 1,
        duplicates: dups(s.secondPath),
        conflicts: 1,
        rejected: 0,
      });

      // Every record exactly once: in flat, in quarantine, or a duplicate of a record in flat.
      const {
        rows: [t],
      } = await b.env.pool.query<{ flat: number; quarantine: number; dups: number }>(
        `SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(*)::int FROM quarantine) AS quarantine,
                (SELECT sum(duplicate_count)::int FROM loads) AS dups`,
      );
      assert.equal(t!.flat + t!.quarantine + t!.dups, b.produced.X + b.produced.Y);

      // The loads ran as activities alone: their lake step, as the workflows take it after each load.
      assert.equal((await lakeSync(b.env, 'transactions')).objectsWritten, 2);
      const quality = (await run(createActivities(b.env).quality, { stream: 'transactions', runId: `conc-${b.env.id}` })) as QualityResult;
      assert.equal(quality.passed, true, JSON.stringify(quality.checks.filter((c) => !c.passed)));
    });
  });

  it('fails the quality checks when a count no longer matches the data', async () => {
    const b = await build('conc_counts', { X: 'staging', Y: 'staging' }, 90_000);
    envs.push(b.env);
    const acts = createActivities(b.env);
    await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: b.ids.X });
    await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: b.ids.Y });
    await lakeSync(b.env, 'transactions');
    const failing = async () => {
      const quality = (await run(acts.quality, { stream: 'transactions', runId: `counts-${b.env.id}` })) as QualityResult;
      return quality.checks
        .filter((c) => !c.passed)
        .map((c) => c.name)
        .sort();
    };
    assert.deepEqual(await failing(), [], 'the untouched counts pass');
    const corruptions: [string, string, string[]][] = [
      // What the remainder used to do with a conflict it did not see: one more duplicate, one conflict less.
      [
        'a conflict counted as a duplicate',
        'UPDATE bronze_objects SET duplicate_count = duplicate_count + 1, conflict_count = conflict_count - 1 WHERE id = $1',
        ['load_counts_match_rows', 'quarantine_rows_match_manifest'],
      ],
      [
        'one duplicate too many on the manifest',
        'UPDATE bronze_objects SET duplicate_count = duplicate_count + 1 WHERE id = $1',
        ['valid_equals_inserted_duplicates_conflicts'],
      ],
      [
        'one duplicate too many on the load',
        "UPDATE loads SET duplicate_count = duplicate_count + 1 WHERE bronze_object_id = $1 AND kind = 'object'",
        ['archived_equals_loaded_plus_quarantined'],
      ],
      [
        'an inserted row the load did not write',
        'UPDATE bronze_objects SET inserted_count = inserted_count + 1, duplicate_count = duplicate_count - 1 WHERE id = $1',
        ['load_counts_match_rows'],
      ],
    ];
    // The manifest's copy of the counts, put back from the load's (the load corruption is undone by hand).
    const restore = async () => {
      await b.env.pool.query(
        `UPDATE bronze_objects b SET inserted_count = l.inserted_count, duplicate_count = l.duplicate_count, conflict_count = l.conflict_count
         FROM loads l WHERE l.bronze_object_id = b.id AND l.kind = 'object' AND b.id = $1`,
        [b.ids.Y],
      );
    };
    for (const [what, sql, checks] of corruptions) {
      await b.env.pool.query(sql, [b.ids.Y]);
      assert.deepEqual(await failing(), checks.sort(), what);
      if (what.endsWith('on the load'))
        await b.env.pool.query("UPDATE loads SET duplicate_count = duplicate_count - 1 WHERE bronze_object_id = $1 AND kind = 'object'", [
          b.ids.Y,
        ]);
      else await restore();
      assert.deepEqual(await failing(), [], `restored after: ${what}`);
    }
  });
});
