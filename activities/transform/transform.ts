// bronze -> silver + quarantine. Every bronze record ends up either as one silver line or as one
// quarantine row with its reason and original bytes; the counts are recorded on the manifest row.
// Re-running it rewrites the same silver key and finds its quarantine rows already there.
import { Context } from '@temporalio/activity';
import { EtlError } from '../../lib/errors';
import { silverKeyFor, type BronzeRecord } from '../../lib/lake';
import { NdjsonGzipWriter, readNdjsonGzip } from '../../lib/ndjson';
import { insertQuarantine, type QuarantineEntry } from '../quarantine';
import { getStream } from '../../streams';
import { classifyRecord, silverDoc } from '../../streams/classify';
import type { ActivityDeps } from '../deps';
import type { TransformInput, TransformResult } from '../types';

const QUARANTINE_BATCH = 1_000;

/** The silver line of a valid record, or why it cannot be written (a value JSON cannot hold, a cycle). */
function silverLine(row: Record<string, unknown>, record: BronzeRecord): string | { error: string } {
  try {
    return JSON.stringify(silverDoc(row, record));
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
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
  let pendingQuarantine: QuarantineEntry[] = [];
  try {
    for await (const line of readNdjsonGzip(s3, config.S3_BUCKET, obj.object_key)) {
      const record = JSON.parse(line) as BronzeRecord;
      records++;
      const result = classifyRecord(spec, record, { referenceTimeMs: obj.archived_at!.getTime() });
      const silver = result.ok ? silverLine(result.row, record) : undefined;
      if (typeof silver === 'string') {
        await writer.write(silver);
      } else {
        quarantined++;
        const { code, reason } = result.ok
          ? { code: 'SERIALIZE_FAILED' as const, reason: `the silver line of this record could not be written: ${silver!.error}` }
          : result;
        pendingQuarantine.push({
          partition: record.partition,
          offset: record.offset,
          bronzeObjectId: input.bronzeObjectId,
          code,
          reason,
          payload: record.value,
          encoding: record.encoding,
        });
        if (pendingQuarantine.length >= QUARANTINE_BATCH) {
          await insertQuarantine(pool, input.stream, obj.topic, pendingQuarantine);
          pendingQuarantine = [];
        }
      }
      if (records % 10_000 === 0) ctx.heartbeat({ records });
    }
    await insertQuarantine(pool, input.stream, obj.topic, pendingQuarantine);
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
