// An S3 landing prefix on the real versitygw: hundreds of small files and one large gzipped one load
// exactly, the large one split into bounded objects; a re-run reads nothing; an object overwritten
// with other bytes (a new ETag) is a new version of its file.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { filesInput } from '../../client/commands/ingest-files';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { SourceResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const gen = { seed: 161, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const line = (i: number) => JSON.stringify(syntheticTransaction(i, gen));
const SMALL = 300;
const PER_SMALL = 2;
const LARGE = 30_000;
const PER_OBJECT = 5_000;

describe('file sources: an S3 landing prefix', () => {
  let env: TestEnv;
  let location: string;
  const put = (key: string, body: Buffer | string) =>
    env.s3.send(new PutObjectCommand({ Bucket: env.config.S3_BUCKET, Key: `${env.config.S3_PREFIX}landing/${key}`, Body: body }));
  const run = (id: string) =>
    withWorker(
      env,
      (client) =>
        client.workflow.execute('sourceWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `files-s3-${env.id}-${id}`,
          args: [{ ...filesInput(env.config, 'transactions', location), maxRecordsPerObject: PER_OBJECT, readConcurrency: 2 }],
        }) as Promise<SourceResult>,
    );

  before(async () => {
    env = await isolatedEnv('files_s3');
    location = `s3://${env.config.S3_BUCKET}/${env.config.S3_PREFIX}landing/`;
    const keys = Array.from({ length: SMALL }, (_, i) => i);
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(
        keys
          .slice(i, i + 25)
          .map((k) => put(`small/part-${String(k).padStart(4, '0')}.jsonl`, `${line(k * PER_SMALL)}\n${line(k * PER_SMALL + 1)}\n`)),
      );
    }
    const large = Array.from({ length: LARGE }, (_, i) => line(1_000_000 + i)).join('\n') + '\n';
    await put('large/backfill.jsonl.gz', gzipSync(large));
  });

  after(async () => env?.cleanup());

  it('loads every file once, the large one in bounded objects', async () => {
    const r = await run('first');
    assert.equal(r.discovered?.seen, SMALL + 1);
    assert.equal(r.discovered?.new, SMALL + 1);
    assert.equal(r.unitsFailed, 0);
    assert.equal(r.rowsInserted, SMALL * PER_SMALL + LARGE);
    assert.equal(r.quality.passed, true, JSON.stringify(r.quality.checks.filter((c) => !c.passed)));
    const { rows } = await env.pool.query<{ n: number; max: number }>(
      `SELECT count(*)::int AS n, max(b.record_count)::int AS max FROM bronze_objects b JOIN source_files f ON f.id = b.source_file_id
       WHERE f.location LIKE '%backfill.jsonl.gz'`,
    );
    assert.deepEqual(rows[0], { n: LARGE / PER_OBJECT, max: PER_OBJECT });
    const { rows: flat } = await env.pool.query<{ n: number }>('SELECT count(DISTINCT transaction_id)::int AS n FROM transactions_flat');
    assert.equal(flat[0]!.n, SMALL * PER_SMALL + LARGE);
  });

  it('a re-run reads nothing; an overwritten object is a new version', async () => {
    await put('small/part-0000.jsonl', `${line(0)}\n${line(1)}\n${line(5_000_000)}\n`);
    const r = await run('second');
    assert.equal(r.discovered?.alreadyLoaded, SMALL);
    assert.equal(r.discovered?.new, 1);
    assert.equal(r.discovered?.changed, 1);
    assert.equal(r.recordsArchived, 3);
    assert.equal(r.rowsInserted, 1);
    assert.equal(r.duplicates, 2);
  });
});
