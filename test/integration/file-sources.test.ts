// File sources on the real servers: a folder of JSONL, gzipped JSONL and CSV files with good and bad
// lines loads with exact counts, values and lineage; a second run loads nothing; a file added later
// is picked up by the next scheduled run; a changed file is a new version; a transaction_id sent by
// Kafka after a file loaded it is a duplicate, as between two Kafka records.
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Client } from '@temporalio/client';
import { createSchedule, deleteSchedule } from '../../client/commands/schedule';
import { recordLineage } from '../../client/commands/lineage';
import { showObject } from '../../client/commands/objects';
import { filesInput } from '../../client/commands/ingest-files';
import { getStream } from '../../streams';
import { syntheticTransaction, type SyntheticTransaction } from '../../streams/transactions/generator';
import type { ReplayResult, SourceResult } from '../../workflows';
import { triggeredRun } from '../support/schedules';
import { isolatedEnv, runPipeline, withWorker, type TestEnv } from '../support/harness';

const gen = { seed: 16, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const tx = (i: number) => syntheticTransaction(i, gen);
const line = (t: object) => JSON.stringify(t);
const CSV_COLUMNS = [
  'transaction_id',
  'event_ts',
  'user_id',
  'amount',
  'merchant',
  'category',
  'city',
  'status',
  'payment_method',
  'currency',
];
const csvRow = (t: SyntheticTransaction) => CSV_COLUMNS.map((c) => String((t as unknown as Record<string, unknown>)[c])).join(',');

async function runFiles(env: TestEnv, client: Client, location: string, id: string): Promise<SourceResult> {
  return (await client.workflow.execute('sourceWorkflow', {
    taskQueue: env.config.TEMPORAL_TASK_QUEUE,
    workflowId: `files-${env.id}-${id}`,
    args: [{ ...filesInput(env.config, 'transactions', location), objectConcurrency: 2, maxRecordsPerObject: 3 }],
  })) as SourceResult;
}

describe('file sources: a folder of JSONL, gzipped JSONL and CSV', () => {
  let env: TestEnv;
  let dir: string;
  let first: SourceResult;
  let second: SourceResult;

  before(async () => {
    env = await isolatedEnv('files');
    dir = await mkdtemp(path.join(tmpdir(), 'etl-files-'));
    // a.jsonl: 4 good, a malformed line, a blank line (not a record), a negative amount.
    await writeFile(
      path.join(dir, 'a.jsonl'),
      [line(tx(0)), line(tx(1)), '{"transaction_id": ', '', line({ ...tx(2), amount: -5 }), line(tx(3)), line(tx(4))].join('\n') + '\n',
    );
    // b.ndjson.gz: 2 good, a line that is not UTF-8 (CRLF endings).
    const bad = Buffer.concat([Buffer.from('{"transaction_id":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    await writeFile(
      path.join(dir, 'b.ndjson.gz'),
      gzipSync(Buffer.concat([Buffer.from(line(tx(5)) + '\r\n'), bad, Buffer.from('\r\n' + line(tx(6)) + '\r\n')])),
    );
    // c.csv: header, 2 good rows (one with a quoted comma and newline in the merchant), one row short of a cell, one empty amount.
    const quoted = { ...tx(7), merchant: 'Chez "Lulu", Paris\nGare' };
    await writeFile(
      path.join(dir, 'c.csv'),
      [
        CSV_COLUMNS.join(','),
        csvRow(tx(8)),
        CSV_COLUMNS.map((c) =>
          c === 'merchant' ? '"Chez ""Lulu"", Paris\nGare"' : String((quoted as unknown as Record<string, unknown>)[c]),
        ).join(','),
        csvRow(tx(9)).split(',').slice(0, 9).join(','),
        csvRow({ ...tx(10), amount: '' as unknown as number }),
      ].join('\n') + '\n',
    );
    await writeFile(path.join(dir, 'notes.txt'), 'not data\n');
    await withWorker(env, async (client) => {
      first = await runFiles(env, client, dir, 'first');
      second = await runFiles(env, client, dir, 'second');
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('loads every good record once, with its values typed as the schema expects', async () => {
    assert.equal(first.discovered?.seen, 4);
    assert.equal(first.discovered?.new, 3);
    assert.equal(first.discovered?.unsupported, 1);
    assert.equal(first.recordsArchived, 6 + 3 + 4);
    assert.equal(first.rowsInserted, 4 + 2 + 2);
    assert.equal(first.quarantined, 2 + 1 + 2);
    assert.equal(first.quality.passed, true, JSON.stringify(first.quality.checks.filter((c) => !c.passed)));
    const { rows } = await env.pool.query<{ transaction_id: string; amount: string; user_id: string; merchant: string; event_ts: Date }>(
      'SELECT transaction_id, amount::text, user_id::text, merchant, event_ts FROM transactions_flat ORDER BY transaction_id',
    );
    const expected = [0, 1, 3, 4, 5, 6, 8, 7].map(tx);
    assert.deepEqual(rows.map((r) => r.transaction_id).sort(), expected.map((t) => t.transaction_id).sort());
    const csv8 = rows.find((r) => r.transaction_id === tx(8).transaction_id)!;
    assert.equal(Number(csv8.amount), tx(8).amount);
    assert.equal(csv8.user_id, String(tx(8).user_id));
    assert.equal(csv8.event_ts.toISOString(), new Date(tx(8).event_ts).toISOString());
    assert.equal(rows.find((r) => r.transaction_id === tx(7).transaction_id)!.merchant, 'Chez "Lulu", Paris\nGare');
  });

  it('quarantines each bad line with its reason, original bytes, file and line', async () => {
    const { rows } = await env.pool.query<{
      reason_code: string;
      location: string;
      line: string;
      payload: string;
      payload_encoding: string;
    }>(
      `SELECT q.reason_code, f.location, q.kafka_offset::text AS line, q.payload, q.payload_encoding
       FROM quarantine q JOIN source_files f ON f.id = q.kafka_partition WHERE q.kafka_topic = 'files:transactions' ORDER BY f.location, q.kafka_offset`,
    );
    const at = (name: string) => `file://${path.join(dir, name)}`;
    assert.deepEqual(
      rows.map((r) => [r.location, r.line, r.reason_code]),
      [
        [at('a.jsonl'), '3', 'MALFORMED_JSON'],
        [at('a.jsonl'), '5', 'INVALID_VALUE'],
        [at('b.ndjson.gz'), '2', 'NOT_UTF8'],
        [at('c.csv'), '5', 'CSV_CELL_COUNT'],
        [at('c.csv'), '6', 'MISSING_FIELD'],
      ],
    );
    assert.equal(rows[0]!.payload, '{"transaction_id": ');
    assert.equal(Buffer.from(rows[2]!.payload, 'base64').subarray(19, 22).toString('hex'), 'c328ff');
    assert.equal(rows[3]!.payload, csvRow(tx(9)).split(',').slice(0, 9).join(','));
  });

  it('splits files into objects tiling their lines, under bronze/<topic>/ named by version and lines', async () => {
    const { rows } = await env.pool.query<{
      object_key: string;
      first_offset: string;
      last_offset: string;
      record_count: number;
      location: string;
    }>(
      `SELECT b.object_key, b.first_offset::text, b.last_offset::text, b.record_count, f.location
       FROM bronze_objects b JOIN source_files f ON f.id = b.source_file_id ORDER BY f.location, b.first_offset`,
    );
    const a = rows.filter((r) => r.location.endsWith('a.jsonl'));
    assert.deepEqual(
      a.map((r) => [r.first_offset, r.last_offset, r.record_count]),
      [
        ['1', '3', 3],
        ['4', '7', 3],
      ],
    );
    assert.match(
      a[0]!.object_key,
      new RegExp(
        `^${env.config.S3_PREFIX}bronze/${env.topic()}/dt=\\d{4}-\\d\\d-\\d\\d/hour=\\d\\d/${env.topic()}\\+file\\d+-a\\.jsonl\\+0+1-0+3\\.ndjson\\.zst$`,
      ),
    );
    const keys = await env.listKeys('bronze/');
    assert.equal(keys.length, rows.length);
  });

  it('names the file and line in lineage', async () => {
    const lineage = await recordLineage(env.pool, getStream('transactions'), tx(8).transaction_id);
    assert.equal(lineage.loaded?.file?.location, `file://${path.join(dir, 'c.csv')}`);
    assert.equal(lineage.loaded?.file?.line, '2');
    assert.equal(lineage.loaded?.file?.version, 1);
    assert.equal(lineage.loaded?.bronze?.file?.location, `file://${path.join(dir, 'c.csv')}`);
    const shown = await showObject(env.pool, lineage.loaded!.bronze!.id);
    assert.equal(shown?.sourceFile, `file://${path.join(dir, 'c.csv')} version 1`);
  });

  it('a second run loads nothing new', () => {
    assert.equal(second.discovered?.new, 0);
    assert.equal(second.discovered?.alreadyLoaded, 3);
    assert.equal(second.recordsArchived, 0);
    assert.equal(second.rowsInserted, 0);
  });

  it('the next scheduled run picks up a file added later, and only it', async () => {
    await writeFile(path.join(dir, 'd.jsonl'), [line(tx(11)), line(tx(12))].join('\n') + '\n');
    await withWorker(env, async (client) => {
      const id = await createSchedule(client, env.config, {
        id: `files-${env.id}`,
        what: 'files',
        stream: 'transactions',
        location: dir,
        everyMs: 3_600_000,
        overlap: 'skip',
        paused: true,
      });
      try {
        const workflowId = await triggeredRun(client, env.config, id);
        const r = (await client.workflow.getHandle(workflowId).result()) as SourceResult;
        assert.equal(r.discovered?.new, 1);
        assert.equal(r.discovered?.alreadyLoaded, 3);
        assert.equal(r.recordsArchived, 2);
        assert.equal(r.rowsInserted, 2);
      } finally {
        await deleteSchedule(client, env.config, id);
      }
    });
  });

  it('a changed file is loaded as a new version: new records load, the same ones are duplicates, a changed one conflicts', async () => {
    const file = path.join(dir, 'a.jsonl');
    await writeFile(file, [line(tx(0)), line({ ...tx(1), amount: 1.23 }), line(tx(13))].join('\n') + '\n');
    await utimes(file, new Date('2026-11-30T10:00:00Z'), new Date('2026-11-30T10:00:00Z'));
    const r = await withWorker(env, (client) => runFiles(env, client, dir, 'changed'));
    assert.equal(r.discovered?.new, 1);
    assert.equal(r.discovered?.changed, 1);
    assert.equal(r.recordsArchived, 3);
    assert.equal(r.rowsInserted, 1);
    assert.equal(r.duplicates, 1);
    assert.equal(r.quarantined, 1);
    const { rows } = await env.pool.query<{ version: number; status: string }>(
      'SELECT version, status FROM source_files WHERE location = $1 ORDER BY version',
      [`file://${file}`],
    );
    assert.deepEqual(rows, [
      { version: 1, status: 'read' },
      { version: 2, status: 'read' },
    ]);
    const { rows: q } = await env.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM quarantine WHERE reason_code = 'CONFLICTING_DUPLICATE'",
    );
    assert.equal(q[0]!.n, 1);
  });

  it('one key space: the same transaction_id by Kafka after a file is a duplicate', async () => {
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: env.topic(),
      messages: [
        { key: 'k', value: line(tx(3)) },
        { key: 'k', value: line({ ...tx(4), amount: 9.99 }) },
      ],
    });
    await producer.disconnect();
    const r = await runPipeline(env, `pipeline-files-${env.id}`);
    assert.equal(r.rowsInserted, 0);
    assert.equal(r.duplicates, 1);
    assert.equal(r.quarantined, 1);
    assert.equal(r.quality.passed, true, JSON.stringify(r.quality.checks.filter((c) => !c.passed)));
  });

  it('replays file objects from bronze like any object: the same records, nothing changed, nothing failed', async () => {
    // The window holds the objects of this test's files (their modification time is now) and the
    // Kafka object above, not the changed file's second version (its mtime is 2026-11-30T10:00Z).
    const now = Date.now();
    const r = (await withWorker(env, (client) =>
      client.workflow.execute('replayWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId: `replay-files-${env.id}`,
        args: [{ stream: 'transactions', fromMs: now - 3_600_000, toMs: now + 3_600_000 }],
      }),
    )) as ReplayResult;
    assert.equal(r.objectsFailed, 0);
    assert.equal(r.objectsDone, 2 + 1 + 2 + 1 + 1);
    assert.equal(r.records, 6 + 3 + 4 + 2 + 2);
    assert.equal(r.inserted, 0);
    assert.equal(r.updated, 0);
    assert.equal(r.quality.passed, true, JSON.stringify(r.quality.checks.filter((c) => !c.passed)));
  });
});
