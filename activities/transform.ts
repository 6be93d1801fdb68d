// bronze -> silver + quarantine. Every bronze record ends up either as one silver line or as one
// quarantine row with its reason and original bytes; the counts are recorded on the manifest row.
// Re-running it rewrites the same silver key and finds its quarantine rows already there.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { EtlError } from '../lib/errors';
import { silverKeyFor, type BronzeRecord } from '../lib/lake';
import { NdjsonGzipWriter, readNdjsonGzip } from '../lib/ndjson';
import { getStream } from '../streams';
import { classifyRecord, silverDoc } from '../streams/classify';
import type { QuarantineCode } from '../streams/types';
import type { ActivityDeps } from './deps';
import type { TransformInput, TransformResult } from './types';

const QUARANTINE_BATCH = 1_000;

interface QuarantineRow {
  partition: number;
  offset: string;
  code: QuarantineCode;
  reason: string;
  payload: string | null;
  encoding: BronzeRecord['encoding'];
}
async function insertQuarantine(pool: pg.Pool, stream: string, topic: string, bronzeObjectId: number, rows: QuarantineRow[]): Promise<void> {
  if (rows.length === 0) return;
  await pool.query(
    `INSERT INTO quarantine (stream, kafka_topic, bronze_object_id, kafka_partition, kafka_offset, reason_code, reason, payload, payload_encoding)
     SELECT $1, $2, $3, * FROM unnest($4::int[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
     ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING`,
    [stream, topic, bronzeObjectId,
      rows.map((r) => r.partition), rows.map((r) => r.offset), rows.map((r) => r.code),
      rows.map((r) => r.reason), rows.map((r) => r.payload), rows.map((r) => r.encoding)],
  );
}

export async function transform(deps: ActivityDeps, input: TransformInput): Promise<TransformResult> {
  const { pool, s3, config } = deps;
  const spec = getStream(input.stream);
  const { rows } = await pool.query<{ object_key: string | null; topic: string; status: string; archived_at: Date | null }>(
    'SELECT object_key, topic, status, archived_at FROM bronze_objects WHERE id = $1 AND stream = $2',
    [input.bronzeObjectId, input.stream],
  );
  const obj = rows[0];
  if (!obj || obj.status !== 'archived' || !obj.object_key) {
    throw new EtlError('MANIFEST_INVALID', `bronze object ${input.bronzeObjectId} of stream ${input.stream} is not archived`);
  }
  const silverKey = silverKeyFor(obj.object_key);
  const writer = new NdjsonGzipWriter(s3, config.S3_BUCKET, silverKey);
  const ctx = Context.current();
  let records = 0;
  let quarantined = 0;
  let pendingQuarantine: QuarantineRow[] = [];
  try {
    for await (const line of readNdjsonGzip(s3, config.S3_BUCKET, obj.object_key)) {
      const record = JSON.parse(line) as BronzeRecord;
      records++;
      const result = classifyRecord(spec, record, { referenceTimeMs: obj.archived_at!.getTime() });
      if (result.ok) {
        await writer.write(JSON.stringify(silverDoc(result.row, record)));
      } else {
        quarantined++;
        pendingQuarantine.push({ partition: record.partition, offset: record.offset, code: result.code, reason: result.reason, payload: record.value, encoding: record.encoding });
        if (pendingQuarantine.length >= QUARANTINE_BATCH) {
          await insertQuarantine(pool, input.stream, obj.topic, input.bronzeObjectId, pendingQuarantine);
          pendingQuarantine = [];
        }
      }
      if (records % 10_000 === 0) ctx.heartbeat({ records });
    }
    await insertQuarantine(pool, input.stream, obj.topic, input.bronzeObjectId, pendingQuarantine);
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const valid = writer.lines;
  await pool.query(
    'UPDATE bronze_objects SET silver_key = $2, valid_count = $3, quarantined_count = $4, transformed_at = now() WHERE id = $1',
    [input.bronzeObjectId, silverKey, valid, quarantined],
  );
  return { bronzeObjectId: input.bronzeObjectId, silverKey, records, valid, quarantined };
}
