// The whole pipeline through a real Temporal worker on the real servers: exact rows in Postgres,
// objects in S3, contiguous manifest offsets, and bad records quarantined with their reasons.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordMetadata } from 'kafkajs';
import { produceTransactions } from '../../activities/ingest/produce';
import { transactionMessage } from '../../streams/transactions/synthetic';
import { ndjsonExtension, readNdjsonObject } from '../../lib/ndjson';
import { enrichTransaction } from '../../streams/transactions/enrich';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { transactionSchema } from '../../streams/transactions/schema';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';

const ROWS = 10_000;
const gen = { seed: 11, startMs: Date.now() - 86_400_000, windowMs: 86_400_000 };

interface Hostile {
  name: string;
  value: Buffer | null;
  code: string;
  meta?: RecordMetadata;
}

describe('pipeline workflow end to end', () => {
  let env: TestEnv;
  let result: PipelineResult;
  const good = syntheticTransaction(0, gen);
  const hostile: Hostile[] = [
    { name: 'malformed JSON', value: Buffer.from('{"transaction_id": '), code: 'MALFORMED_JSON' },
    { name: 'empty message', value: Buffer.alloc(0), code: 'EMPTY_VALUE' },
    { name: 'null value', value: null, code: 'NULL_VALUE' },
    { name: 'non-UTF-8 bytes', value: Buffer.from([0xc3, 0x28, 0xff, 0x00]), code: 'NOT_UTF8' },
    { name: 'JSON array', value: Buffer.from('[1,2,3]'), code: 'NOT_AN_OBJECT' },
    {
      name: 'missing field',
      value: Buffer.from(JSON.stringify({ ...good, transaction_id: '6f1c1c52-0000-4000-8000-000000000001', city: undefined })),
      code: 'MISSING_FIELD',
    },
    {
      name: 'negative amount',
      value: Buffer.from(JSON.stringify({ ...good, transaction_id: '6f1c1c52-0000-4000-8000-000000000002', amount: -5 })),
      code: 'INVALID_VALUE',
    },
    {
      name: 'unknown status',
      value: Buffer.from(JSON.stringify({ ...good, transaction_id: '6f1c1c52-0000-4000-8000-000000000003', status: 'LOST' })),
      code: 'UNKNOWN_VALUE',
    },
  ];

  before(async () => {
    env = await isolatedEnv('pipeline', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 1_500, ARCHIVE_MAX_OBJECTS_PER_ACTIVITY: 3 });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS, batchSize: 2_000 });
    // Another producer writes to the same topic: a plain kafkajs client, not ours.
    const producer = env.kafka.producer();
    await producer.connect();
    for (const h of hostile) {
      [h.meta] = await producer.send({ topic: env.topic(), messages: [{ key: 'other-team', value: h.value }] });
    }
    // The same event sent again (a producer retry upstream): deduplicated, not loaded twice.
    await producer.send({ topic: env.topic(), messages: [transactionMessage(5, gen)] });
    await producer.disconnect();

    result = await runPipeline(env);
  });

  after(async () => env?.cleanup());

  it('loads every valid event exactly once into raw and flat', async () => {
    const { rows } = await env.pool.query<{ flat: number; raw: number; distinct_ids: number }>(
      'SELECT (SELECT count(*)::int FROM transactions_flat) AS flat, (SELECT count(*)::int FROM raw_transactions) AS raw, (SELECT count(DISTINCT transaction_id)::int FROM transactions_flat) AS distinct_ids',
    );
    assert.deepEqual(rows[0], { flat: ROWS, raw: ROWS, distinct_ids: ROWS });
    assert.equal(result.rowsInserted, ROWS);
    assert.equal(result.duplicates, 1);
    assert.equal(result.recordsArchived, ROWS + hostile.length + 1);
  });

  it('stores each row exactly as the generator made it, enriched', async () => {
    const schema = transactionSchema();
    for (const i of [0, 1, 4_321, ROWS - 1]) {
      const expected = enrichTransaction(schema.parse(syntheticTransaction(i, gen)));
      const { rows } = await env.pool.query(
        `SELECT transaction_id::text, to_char(event_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS event_ts,
                event_date::text, event_hour, event_dayofweek, user_id::int, amount::text, amount_bucket, merchant, category,
                city, status, payment_method, currency
         FROM transactions_flat WHERE transaction_id = $1`,
        [expected.transaction_id],
      );
      assert.deepEqual(rows[0], expected, `event ${i}`);
      const { rows: raw } = await env.pool.query<{ payload: unknown }>('SELECT payload FROM raw_transactions WHERE transaction_id = $1', [
        expected.transaction_id,
      ]);
      assert.deepEqual(raw[0]!.payload, syntheticTransaction(i, gen));
    }
  });

  it('quarantines each hostile record with its reason, original bytes and Kafka coordinates', async () => {
    const { rows } = await env.pool.query<{
      reason_code: string;
      reason: string;
      payload: string | null;
      payload_encoding: string;
      kafka_partition: number;
      kafka_offset: string;
    }>('SELECT reason_code, reason, payload, payload_encoding, kafka_partition, kafka_offset FROM quarantine');
    assert.equal(rows.length, hostile.length);
    assert.equal(result.quarantined, hostile.length);
    for (const h of hostile) {
      const row = rows.find((r) => r.kafka_partition === h.meta!.partition && r.kafka_offset === h.meta!.baseOffset);
      assert.ok(row, `${h.name} is in quarantine at its partition/offset`);
      assert.equal(row.reason_code, h.code, h.name);
      assert.ok(row.reason.length > 5, `${h.name} has a readable reason`);
      const original =
        h.value === null
          ? null
          : row.payload_encoding === 'base64'
            ? Buffer.from(row.payload!, 'base64')
            : Buffer.from(row.payload!, 'utf8');
      assert.deepEqual(original, h.value, `${h.name} keeps its original bytes`);
    }
  });

  it('writes one bronze object per manifest row and the lake files its manifest lists, each offset in exactly one object', async () => {
    const { rows: manifest } = await env.pool.query<{
      kafka_partition: number;
      first_offset: string;
      last_offset: string;
      object_key: string;
      record_count: number;
      status: string;
    }>(
      'SELECT kafka_partition, first_offset, last_offset, object_key, record_count, status FROM bronze_objects ORDER BY kafka_partition, first_offset',
    );
    assert.ok(manifest.length > 3, 'several objects were written');
    assert.ok(manifest.every((m) => m.status === 'archived'));
    assert.deepEqual((await env.listKeys('bronze/')).sort(), manifest.map((m) => m.object_key).sort());
    const { rows: lake } = await env.pool.query<{ object_key: string }>('SELECT object_key FROM lake_files WHERE live');
    assert.ok(lake.length >= manifest.length, 'every object has lake files');
    assert.deepEqual((await env.listKeys('silver/')).sort(), lake.map((f) => f.object_key).sort());
    const { rows: behind } = await env.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM bronze_objects b LEFT JOIN lake_objects l ON l.bronze_object_id = b.id WHERE b.rows_version <> coalesce(l.rows_version, -1)',
    );
    assert.equal(behind[0]!.n, 0, 'the lake holds the rows_version of every object');

    const admin = env.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(env.topic());
    await admin.disconnect();
    for (const p of offsets) {
      const objects = manifest.filter((m) => m.kafka_partition === p.partition);
      let expectedFirst = 0n;
      for (const o of objects) {
        assert.equal(BigInt(o.first_offset), expectedFirst, `partition ${p.partition} has no gap or overlap`);
        expectedFirst = BigInt(o.last_offset) + 1n;
      }
      assert.equal(expectedFirst, BigInt(p.high), `partition ${p.partition} is archived up to its high watermark`);
    }
    // Each object holds exactly the offsets its key and manifest row claim.
    for (const o of manifest.slice(0, 3)) {
      const seen: bigint[] = [];
      for await (const line of readNdjsonObject(env.s3, env.config.S3_BUCKET, o.object_key))
        seen.push(BigInt((JSON.parse(line) as { offset: string }).offset));
      assert.equal(seen.length, o.record_count);
      assert.equal(seen[0], BigInt(o.first_offset));
      assert.equal(seen.at(-1), BigInt(o.last_offset));
      const extension = ndjsonExtension(env.config.BRONZE_CODEC).replaceAll('.', '\\.');
      assert.match(o.object_key, new RegExp(`\\+${o.kafka_partition}\\+0*${o.first_offset}-0*${o.last_offset}${extension}$`));
    }
  });

  it('refreshes daily_summary and passes every quality check', async () => {
    const { rows } = await env.pool.query<{ n: string; total: string }>(
      'SELECT sum(transaction_count)::text AS n, sum(total_amount)::text AS total FROM daily_summary',
    );
    const { rows: direct } = await env.pool.query<{ total: string }>('SELECT sum(amount)::text AS total FROM transactions_flat');
    assert.equal(rows[0]!.n, String(ROWS));
    assert.equal(rows[0]!.total, direct[0]!.total);
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    const { rows: stored } = await env.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM quality_results WHERE run_id = $1 AND passed',
      [`pipeline-test-${env.id}`],
    );
    assert.equal(stored[0]!.n, result.quality.checks.length);
  });
});
