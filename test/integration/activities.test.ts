// Activities driven one by one on the real servers: loading an object twice changes nothing, and
// an archive attempt that crashed is finished by the next one without a second object.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities';
import { produceTransactions } from '../../activities/ingest/produce';
import { passInline } from '../../activities/transform-load/pass-inline';
import { transformAndLoad } from '../../activities/transform-load/transform-load';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';
import { holdManifestRow, waitingOn } from '../support/pg-locks';

const gen = { seed: 3, startMs: Date.now() - 3_600_000, windowMs: 3_600_000 };

async function fingerprint(env: TestEnv): Promise<Record<string, string>> {
  const { rows } = await env.pool.query<Record<string, string>>(`
    SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY transaction_id)) FROM transactions_flat t) AS flat,
           (SELECT md5(string_agg(r::text, '|' ORDER BY transaction_id)) FROM raw_transactions r) AS raw,
           (SELECT md5(string_agg(l::text, '|' ORDER BY load_id)) FROM loads l) AS loads,
           (SELECT md5(string_agg(b::text, '|' ORDER BY id)) FROM bronze_objects b) AS manifest`);
  return rows[0]!;
}

describe('activities on the real servers', () => {
  let env: TestEnv;
  let acts: Activities;

  before(async () => {
    env = await isolatedEnv('acts', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 1_000 });
    acts = createActivities(env);
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: 4_000 });
  });
  after(async () => env?.cleanup());

  it('archives at most maxObjects per call and reports when it has caught up', async () => {
    const first = await run(acts.archive, { stream: 'transactions', maxObjects: 2 });
    assert.equal(first.objectsArchived, 2);
    assert.equal(first.caughtUp, false);
    let total = first.recordsArchived;
    for (let i = 0; i < 10; i++) {
      const r = await run(acts.archive, { stream: 'transactions', maxObjects: 2 });
      total += r.recordsArchived;
      if (r.caughtUp) break;
    }
    assert.equal(total, 4_000);
    const again = await run(acts.archive, { stream: 'transactions' });
    assert.deepEqual(again, { objectsArchived: 0, recordsArchived: 0, caughtUp: true });
  });

  it('finishes an attempt that crashed after uploading, rewriting the same key instead of adding an object', async () => {
    const before = await env.listKeys('bronze/');
    const { rows } = await env.pool.query<{ id: string; object_key: string }>(
      'SELECT id, object_key FROM bronze_objects ORDER BY id DESC LIMIT 1',
    );
    // The state a SIGKILL between the S3 upload and the manifest update leaves behind.
    await env.pool.query(
      "UPDATE bronze_objects SET status = 'pending', object_key = NULL, record_count = NULL, archived_at = NULL WHERE id = $1",
      [rows[0]!.id],
    );
    const r = await run(acts.archive, { stream: 'transactions' });
    assert.equal(r.objectsArchived, 1);
    assert.equal(r.caughtUp, true);
    const { rows: after } = await env.pool.query<{ status: string; object_key: string }>(
      'SELECT status, object_key FROM bronze_objects WHERE id = $1',
      [rows[0]!.id],
    );
    assert.deepEqual(after[0], { status: 'archived', object_key: rows[0]!.object_key });
    assert.deepEqual((await env.listKeys('bronze/')).sort(), before.sort());
  });

  it('refuses a second archiver of the same topic while one runs (retryable)', async () => {
    const lock = await env.pool.connect();
    try {
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`etl.archive.${env.topic()}`]);
      await assert.rejects(run(acts.archive, { stream: 'transactions' }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
        assert.equal(err.type, 'ARCHIVE_BUSY');
        assert.equal(err.nonRetryable, false);
        return true;
      });
    } finally {
      await lock.query('SELECT pg_advisory_unlock_all()');
      lock.release();
    }
  });

  it('commits nothing of a pass that dies before its transaction commits: the retry loads it once', async () => {
    const [o] = await run(acts.listUnloadedObjects, { stream: 'transactions', limit: 1 });
    const id = o!.bronzeObjectId;
    const before = await fingerprint(env);
    // Held at its manifest update, every row and count written and only the commit missing, the
    // load's statement is cancelled: its transaction ends there, as when its worker dies.
    const held = await holdManifestRow(env.pool, id);
    try {
      const loading = run(transformAndLoad, env, { stream: 'transactions', bronzeObjectId: id }, { runPass: passInline });
      const waiting = await waitingOn(env.pool, held.pid);
      assert.match(waiting.query, /^UPDATE bronze_objects SET valid_count/);
      await env.pool.query('SELECT pg_cancel_backend($1)', [waiting.pid]);
      await assert.rejects(loading, /canceling statement due to user request/);
    } finally {
      await held.release();
    }
    assert.deepEqual(await fingerprint(env), before, 'no row, load or manifest change survives the crash');
    const l = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: id });
    assert.equal(l.alreadyLoaded, false);
    assert.equal(l.inserted + l.quarantined, o!.recordCount);
    const { rows } = await env.pool.query<{ n: number; loads: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT load_id)::int AS loads FROM transactions_flat WHERE bronze_object_id = $1',
      [id],
    );
    assert.deepEqual(rows[0], { n: l.inserted, loads: 1 });
  });

  it('loads an object once: a second load of the same object changes nothing', async () => {
    const objects = await run(acts.listUnloadedObjects, { stream: 'transactions', limit: 100 });
    const { rows: manifest } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bronze_objects WHERE loaded_at IS NULL');
    assert.equal(objects.length, manifest[0]!.n);
    for (const o of objects) {
      const l = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: o.bronzeObjectId });
      assert.equal(l.records, o.recordCount);
      assert.equal(l.valid + l.quarantined, o.recordCount);
      assert.equal(l.alreadyLoaded, false);
      assert.equal(l.inserted, l.valid);
    }
    const loaded = await fingerprint(env);
    const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
    assert.equal(rows[0]!.n, 4_000);

    for (const o of objects) {
      const again = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: o.bronzeObjectId });
      assert.equal(again.alreadyLoaded, true);
      assert.equal(again.valid + again.quarantined, o.recordCount, "the counts are the first run's");
    }
    const reloaded = await fingerprint(env);
    assert.deepEqual(reloaded, loaded);
    const { rows: all } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bronze_objects');
    assert.ok(all[0]!.n > 0);
    assert.deepEqual(await env.listKeys('silver/'), [], 'the load writes nothing to silver/: the lake is an activity of its own');
    // The lake of each object, twice: the second write finds it current.
    const { rows: loadedIds } = await env.pool.query<{ id: number }>('SELECT id::int FROM bronze_objects WHERE loaded_at IS NOT NULL');
    for (const { id } of loadedIds) {
      const first = await run(acts.writeLake, { stream: 'transactions', bronzeObjectId: id });
      const second = await run(acts.writeLake, { stream: 'transactions', bronzeObjectId: id });
      assert.deepEqual([first.upToDate, second.upToDate, second.files], [false, true, first.files]);
    }
    const { rows: lake } = await env.pool.query<{ object_key: string; rows: string }>(
      'SELECT object_key, rows::text FROM lake_files WHERE live',
    );
    assert.deepEqual((await env.listKeys('silver/')).sort(), lake.map((f) => f.object_key).sort());
    assert.equal(
      lake.reduce((n, f) => n + Number(f.rows), 0),
      4_000,
      'every flat row in the lake',
    );
  });

  it('keeps the bucket private: anonymous reads and listings are refused', async () => {
    const [key] = await env.listKeys('bronze/');
    assert.ok(key);
    for (const url of [
      `${env.config.S3_ENDPOINT}/${env.config.S3_BUCKET}/${key}`,
      `${env.config.S3_ENDPOINT}/${env.config.S3_BUCKET}?list-type=2`,
    ]) {
      const res = await fetch(url);
      assert.ok(res.status === 403 || res.status === 401, `${url} answered ${res.status}`);
    }
  });

  it('fails permanently, without retries, when a manifest row is not archived', async () => {
    await assert.rejects(
      run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: 987_654 }),
      (err: Error & { type?: string; nonRetryable?: boolean }) => {
        assert.equal(err.type, 'MANIFEST_INVALID');
        assert.equal(err.nonRetryable, true);
        return true;
      },
    );
  });
});
