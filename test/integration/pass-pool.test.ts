// The pass of transform-and-load on the worker's threads (worker/pass-pool.ts): the same rows as
// the pass on the activity's own thread, errors that keep their class across the thread boundary,
// and a cancellation that ends the pass and loads nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { createActivities, type TransformLoadResult } from '../../activities';
import { produceTransactions } from '../../activities/ingest/produce';
import { transformAndLoad, type RunPass } from '../../activities/transform-load/transform-load';
import { createPassPool, type PassPool } from '../../worker/pass-pool';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { activityEnv, runActivity as run } from '../support/activity-env';

/** Every column but ingested_at and load_id (a new load each time), of the rows of one object. */
async function rowsOf(env: TestEnv, bronzeObjectId: number): Promise<{ raw: string; flat: string; n: number }> {
  const { rows } = await env.pool.query<{ raw: string; flat: string; n: number }>(
    `SELECT (SELECT md5(string_agg((to_jsonb(r) - 'ingested_at' - 'load_id')::text, '|' ORDER BY transaction_id)) FROM raw_transactions r WHERE bronze_object_id = $1) AS raw,
            (SELECT md5(string_agg((to_jsonb(f) - 'ingested_at' - 'load_id')::text, '|' ORDER BY transaction_id)) FROM transactions_flat f WHERE bronze_object_id = $1) AS flat,
            (SELECT count(*)::int FROM transactions_flat WHERE bronze_object_id = $1) AS n`,
    [bronzeObjectId],
  );
  return rows[0]!;
}

describe('the pass on worker threads', () => {
  let env: TestEnv;
  let pool: PassPool;
  let objects: number[];

  before(async () => {
    env = await isolatedEnv('passpool', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 5_000 });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 5,
      startMs: Date.now() - 3_600_000,
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: 12_000,
    });
    const acts = createActivities(env);
    await run(acts.archive, { stream: 'transactions' });
    objects = (await run(acts.listUnloadedObjects, { stream: 'transactions', limit: 10 })).map((o) => o.bronzeObjectId);
    assert.ok(objects.length >= 3, `objects to work on: ${objects.length}`);
    pool = createPassPool({ TRANSFORM_THREADS: 2 })!;
  });
  after(async () => {
    await pool?.close();
    await env?.cleanup();
  });

  it('loads the rows the in-line pass loads, the pass running on a thread of the pool', async () => {
    const [id] = objects;
    const threaded = (await run(createActivities(env, pool.runPass).transformAndLoad, {
      stream: 'transactions',
      bronzeObjectId: id!,
    })) as TransformLoadResult;
    assert.equal(pool.completed(), 1, 'the pass ran on the pool');
    assert.equal(threaded.alreadyLoaded, false);
    assert.equal(threaded.inserted, threaded.valid);
    const onThread = await rowsOf(env, id!);
    assert.equal(onThread.n, threaded.inserted);
    // Undo the load, then the same object through the pass on this thread: the very same rows.
    await env.pool.query('DELETE FROM transactions_flat WHERE bronze_object_id = $1', [id]);
    await env.pool.query('DELETE FROM raw_transactions WHERE bronze_object_id = $1', [id]);
    await env.pool.query("DELETE FROM loads WHERE bronze_object_id = $1 AND kind = 'object'", [id]);
    await env.pool.query('UPDATE bronze_objects SET loaded_at = NULL, load_id = NULL WHERE id = $1', [id]);
    const inline = await run(createActivities(env).transformAndLoad, { stream: 'transactions', bronzeObjectId: id! });
    assert.equal(pool.completed(), 1, 'the second pass ran in-line');
    assert.deepEqual({ ...inline, loadId: 0 }, { ...threaded, loadId: 0 });
    assert.deepEqual(await rowsOf(env, id!), onThread);
  });

  it('keeps the class of an error raised on a thread: a missing bronze object is permanent', async () => {
    const id = objects[1]!;
    const { rows } = await env.pool.query<{ object_key: string }>('SELECT object_key FROM bronze_objects WHERE id = $1', [id]);
    await env.s3.send(new DeleteObjectCommand({ Bucket: env.config.S3_BUCKET, Key: rows[0]!.object_key }));
    await assert.rejects(
      run(createActivities(env, pool.runPass).transformAndLoad, { stream: 'transactions', bronzeObjectId: id }),
      (err: Error & { type?: string; nonRetryable?: boolean }) => {
        assert.equal(err.type, 'BRONZE_OBJECT_MISSING', err.message);
        assert.equal(err.nonRetryable, true);
        return true;
      },
    );
    assert.equal((await rowsOf(env, id)).n, 0);
  });

  it('ends the pass when the activity is cancelled, and loads nothing of the object', async () => {
    const id = objects[2]!;
    const activity = activityEnv();
    let passStarted!: () => void;
    const started = new Promise<void>((r) => (passStarted = r));
    const runPass: RunPass = (task, deps, signal) => {
      passStarted();
      return pool.runPass(task, deps, signal);
    };
    const result = activity.run(transformAndLoad, env, { stream: 'transactions', bronzeObjectId: id }, { runPass });
    await started;
    activity.cancel('CANCELLED');
    await assert.rejects(result, (err: Error) => {
      assert.match(`${err.name}: ${err.message}`, /abort/i);
      return true;
    });
    assert.equal((await rowsOf(env, id)).n, 0);
    const { rows } = await env.pool.query<{ loaded: boolean }>('SELECT loaded_at IS NOT NULL AS loaded FROM bronze_objects WHERE id = $1', [
      id,
    ]);
    assert.deepEqual(rows[0], { loaded: false });
    // The pool goes on: the object loads once asked again.
    const again = await run(createActivities(env, pool.runPass).transformAndLoad, { stream: 'transactions', bronzeObjectId: id });
    assert.equal(again.alreadyLoaded, false);
    assert.equal((await rowsOf(env, id)).n, again.inserted);
  });
});
