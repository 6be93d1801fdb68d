// Bronze objects of either codec on the real servers: a topic archived first with gzip (as every
// object was before zstd) and then with zstd is read by every reader of the pipeline (transform and
// load see all of it), and DuckDB from PyPI — a third-party reader — reads both kinds of object,
// downloaded from the S3 server, to the same records our reader sees.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createActivities } from '../../activities';
import { produceTransactions } from '../../activities/ingest/produce';
import { codecOfBytes, readNdjsonObject } from '../../lib/ndjson';
import { duckdbQuery } from '../support/duckdb';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';

const gen = { seed: 21, startMs: Date.now() - 3_600_000, windowMs: 3_600_000 };

interface ObjectRow {
  id: string;
  object_key: string;
  record_count: number;
  first_offset: string;
  last_offset: string;
}

describe('bronze codecs (gzip before, zstd now)', () => {
  let env: TestEnv;
  let dir: string;
  let objects: ObjectRow[];
  let redone: { id: string; object_key: string } | undefined;

  before(async () => {
    env = await isolatedEnv('codec', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 400, BRONZE_CODEC: 'gzip' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'etl-bronze-'));
    const produce = (from: number, to: number) =>
      produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: to, startIndex: from });
    await produce(0, 1_000);
    await run(createActivities(env).archive, { stream: 'transactions', maxObjects: 100 });
    // What a SIGKILL between the upload and the manifest update leaves, just before the codec changes:
    // the range is redone as zstd, and its gzip object must not stay behind.
    const { rows } = await env.pool.query<{ id: string; object_key: string }>(
      'SELECT id, object_key FROM bronze_objects ORDER BY id DESC LIMIT 1',
    );
    [redone] = rows;
    await env.pool.query(
      "UPDATE bronze_objects SET status = 'pending', object_key = NULL, record_count = NULL, archived_at = NULL WHERE id = $1",
      [redone!.id],
    );
    await produce(1_000, 2_000);
    const zstd = createActivities({ ...env, config: { ...env.config, BRONZE_CODEC: 'zstd' } });
    await run(zstd.archive, { stream: 'transactions', maxObjects: 100 });
    objects = (
      await env.pool.query<ObjectRow>(
        "SELECT id, object_key, record_count, first_offset::text, last_offset::text FROM bronze_objects WHERE status = 'archived' ORDER BY id",
      )
    ).rows;
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  const download = async (key: string): Promise<Buffer> => {
    const res = await env.s3.send(new GetObjectCommand({ Bucket: env.config.S3_BUCKET, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  };

  it('names each object by its codec, its bytes are that codec, and a range redone in the other codec leaves one object', async () => {
    const gz = objects.filter((o) => o.object_key.endsWith('.ndjson.gz'));
    const zst = objects.filter((o) => o.object_key.endsWith('.ndjson.zst'));
    assert.ok(gz.length > 0 && zst.length > 0, `both kinds archived: ${objects.map((o) => o.object_key).join(', ')}`);
    assert.equal(gz.length + zst.length, objects.length);
    assert.equal(
      objects.reduce((n, o) => n + o.record_count, 0),
      2_000,
    );
    const again = objects.find((o) => o.id === redone!.id)!;
    assert.equal(again.object_key, redone!.object_key.replace(/\.ndjson\.gz$/, '.ndjson.zst'), 'the pending range, redone as zstd');
    assert.deepEqual((await env.listKeys('bronze/')).sort(), objects.map((o) => o.object_key).sort(), 'no object outside the manifest');
    for (const o of gz) assert.equal(codecOfBytes(await download(o.object_key)), 'gzip');
    for (const o of zst) assert.equal(codecOfBytes(await download(o.object_key)), 'zstd');
  });

  it('DuckDB reads every object, gzip and zstd, to the records our reader sees', async () => {
    for (const o of objects) {
      const file = path.join(dir, path.basename(o.object_key));
      writeFileSync(file, await download(o.object_key));
      const [duck] = duckdbQuery(
        `SELECT count(*) AS n, count(DISTINCT "offset") AS distinct_offsets,
                min(CAST("offset" AS BIGINT))::VARCHAR AS lo, max(CAST("offset" AS BIGINT))::VARCHAR AS hi,
                md5(string_agg(CAST("value" AS VARCHAR), chr(10) ORDER BY CAST("offset" AS BIGINT))) AS values_md5
         FROM read_ndjson($file)`,
        file,
      );
      const ours: { offset: string; value: string }[] = [];
      for await (const line of readNdjsonObject(env.s3, env.config.S3_BUCKET, o.object_key))
        ours.push(JSON.parse(line) as { offset: string; value: string });
      ours.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
      const md5 = createHash('md5')
        .update(ours.map((r) => r.value).join('\n'))
        .digest('hex');
      assert.deepEqual(
        duck,
        { n: o.record_count, distinct_offsets: o.record_count, lo: o.first_offset, hi: o.last_offset, values_md5: md5 },
        o.object_key,
      );
      assert.equal(ours.length, o.record_count);
    }
  });

  it('transforms and loads objects of both codecs: every record once', async () => {
    const acts = createActivities(env);
    let valid = 0;
    for (const o of objects) {
      const t = await run(acts.transformAndLoad, { stream: 'transactions', bronzeObjectId: Number(o.id) });
      assert.equal(t.records, o.record_count);
      valid += t.valid;
    }
    const { rows } = await env.pool.query<{ n: number; q: number }>(
      'SELECT (SELECT count(*)::int FROM transactions_flat) AS n, (SELECT count(*)::int FROM quarantine) AS q',
    );
    assert.equal(rows[0]!.n, valid);
    assert.equal(rows[0]!.n + rows[0]!.q, 2_000);
  });
});
