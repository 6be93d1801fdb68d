// The direct-COPY fast path of a load writes exactly the rows the staging path writes, and steps
// aside whenever a key is already loaded or repeats in the object.
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createActivities } from '../../activities';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tryDirectLoad, type DirectLoadRows } from '../../activities/transform-load/direct-load';
import { passBronzeObject, type PassResult } from '../../activities/transform-load/pass';
import { spooledLines } from '../../activities/transform-load/spool';
import { produceTransactions } from '../../activities/ingest/produce';
import { COPY_INTO_STAGING, createStaging, mergeStaging } from '../../activities/transform-load/staging';
import { getStream } from '../../streams';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';

const spec = getStream('transactions');

/** Every column except ingested_at (the transaction's clock), of the rows of one load. */
async function rowsOfLoad(client: pg.PoolClient, loadId: number): Promise<{ raw: string; flat: string; n: number }> {
  const { rows } = await client.query<{ raw: string; flat: string; n: number }>(
    `
    SELECT (SELECT md5(string_agg((to_jsonb(r) - 'ingested_at')::text, '|' ORDER BY transaction_id)) FROM raw_transactions r WHERE load_id = $1) AS raw,
           (SELECT md5(string_agg((to_jsonb(f) - 'ingested_at')::text, '|' ORDER BY transaction_id)) FROM transactions_flat f WHERE load_id = $1) AS flat,
           (SELECT count(*)::int FROM transactions_flat WHERE load_id = $1) AS n`,
    [loadId],
  );
  return rows[0]!;
}

describe('direct-COPY load (activities/transform-load/direct-load.ts)', () => {
  let env: TestEnv;
  let spoolDir: string;
  let pass: PassResult;
  let rowsFiles: DirectLoadRows;
  let objectId: number;
  let loadId: number;
  let rowsOfObject: number;

  before(async () => {
    env = await isolatedEnv('direct', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 2_000 });
    const acts = createActivities(env);
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
      seed: 11,
      startMs: Date.now() - 3_600_000,
      windowMs: 3_600_000,
      topic: env.topic(),
      rows: 2_000,
    });
    await run(acts.archive, { stream: 'transactions' });
    const [o] = await run(acts.listUnloadedObjects, { stream: 'transactions', limit: 1 });
    objectId = o!.bronzeObjectId;
    const { rows: manifest } = await env.pool.query<{ object_key: string; archived_at: Date }>(
      'SELECT object_key, archived_at FROM bronze_objects WHERE id = $1',
      [objectId],
    );
    // A load row to attribute rows to; every attempt below is rolled back.
    const { rows } = await env.pool.query<{ load_id: string }>(
      "INSERT INTO loads (bronze_object_id, stream, rows_in, inserted_count, duplicate_count) VALUES ($1, 'transactions', 0, 0, 0) RETURNING load_id",
      [objectId],
    );
    loadId = Number(rows[0]!.load_id);
    spoolDir = await mkdtemp(path.join(tmpdir(), 'etl-direct-load-test-'));
    pass = await passBronzeObject(env.s3, {
      stream: 'transactions',
      bronzeObjectId: objectId,
      loadId,
      bucket: env.config.S3_BUCKET,
      objectKey: manifest[0]!.object_key,
      referenceTimeMs: manifest[0]!.archived_at.getTime(),
      spoolDir,
    });
    rowsOfObject = pass.valid;
    rowsFiles = { raw: pass.files.raw, flat: pass.files.flat, rows: pass.valid };
    assert.ok(rowsOfObject > 100, 'the object has rows to load');
    // The spool for the staging path holds one silver line per valid record, and no silver object
    // goes to S3 any more (the lake is written from the committed rows instead).
    const spooled: string[] = [];
    for await (const line of spooledLines(pass.files.silver)) spooled.push(line);
    assert.equal(spooled.length, rowsOfObject);
    assert.deepEqual(await env.listKeys('silver/'), []);
  });
  after(async () => {
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
    await env?.cleanup();
  });

  async function inRolledBackTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await env.pool.connect();
    try {
      await client.query('BEGIN');
      return await fn(client);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  async function waitForBlockedCopy(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const { rows } = await env.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'COPY %raw_transactions%'",
      );
      if (rows[0]!.n > 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the direct COPY never waited on the uncommitted key');
  }

  it('writes the same raw and flat rows as the staging path', async () => {
    const target = { stream: 'transactions', loadId, bronzeObjectId: objectId };
    const direct = await inRolledBackTransaction(async (client) => {
      const n = await tryDirectLoad(client, spec, rowsFiles);
      assert.deepEqual(n, { inserted: rowsOfObject }, 'the fast path is taken for an object of new keys');
      return rowsOfLoad(client, loadId);
    });
    const staged = await inRolledBackTransaction(async (client) => {
      await createStaging(client);
      await pipeline(createReadStream(pass.files.silver), client.query(copyFrom(COPY_INTO_STAGING)));
      const merged = await mergeStaging(client, spec, target);
      assert.equal(merged.inserted, rowsOfObject);
      return rowsOfLoad(client, loadId);
    });
    assert.equal(direct.n, rowsOfObject);
    assert.deepEqual(direct, staged);
  });

  it('steps aside when one key of the object is already loaded, and leaves nothing behind', async () => {
    await inRolledBackTransaction(async (client) => {
      await createStaging(client);
      await pipeline(createReadStream(pass.files.silver), client.query(copyFrom(COPY_INTO_STAGING)));
      // Load a single key of the object through SQL, as an earlier object would have.
      await client.query(
        `INSERT INTO raw_transactions (transaction_id, event_ts, payload) SELECT (doc->>'transaction_id')::uuid, (doc->>'event_ts')::timestamptz, doc->'payload' FROM staging LIMIT 1`,
      );
      await client.query('DROP TABLE staging, conflicts');
      const n = await tryDirectLoad(client, spec, rowsFiles);
      assert.deepEqual(n, { steppedAside: 'key' });
      assert.equal((await rowsOfLoad(client, loadId)).n, 0);
    });
  });

  it('steps aside when another transaction loads one of the keys while it copies (unique violation rolled back to its savepoint)', async () => {
    const other = await env.pool.connect();
    try {
      await other.query('BEGIN');
      await createStaging(other);
      await pipeline(createReadStream(pass.files.silver), other.query(copyFrom(COPY_INTO_STAGING)));
      await other.query(
        `INSERT INTO raw_transactions (transaction_id, event_ts, payload) SELECT (doc->>'transaction_id')::uuid, (doc->>'event_ts')::timestamptz, doc->'payload' FROM staging ORDER BY doc->>'kafka_offset' DESC LIMIT 1`,
      );
      const result = inRolledBackTransaction(async (client) => {
        const n = await tryDirectLoad(client, spec, rowsFiles);
        // The transaction is still usable after the savepoint rollback.
        return { n, after: (await rowsOfLoad(client, loadId)).n };
      });
      // The COPY waits on the other transaction's uncommitted key; committing it makes the COPY fail.
      await waitForBlockedCopy();
      await other.query('COMMIT');
      assert.deepEqual(await result, { n: { steppedAside: 'key' }, after: 0 });
    } finally {
      other.release();
      await env.pool.query('DELETE FROM raw_transactions WHERE load_id IS NULL');
    }
  });
});
