// Writing quarantine rows, from the transform and from the load alike. A quarantine row must be
// storable whatever the record held: PostgreSQL text cannot hold NUL (0x00 is valid UTF-8, so such
// a value arrives as text), so a payload with one is kept as base64 of its exact bytes, and a
// reason quoting one gets the escape `\u0000` instead.
import type pg from 'pg';
import type { QuarantineCode } from '../streams/types';
import type { BronzeRecord } from '../lib/lake';

export interface QuarantineEntry {
  partition: number;
  offset: string;
  /** The object the record was archived in; null for none (a record replayed on its own). */
  bronzeObjectId: number | null;
  code: QuarantineCode;
  reason: string;
  payload: string | null;
  encoding: BronzeRecord['encoding'];
}

/** Reasons are for people: long ones (an exception's message, a server's detail) are cut here. */
export const MAX_REASON_CHARS = 2_000;

/** The payload as it can be stored: the same bytes, as base64 when the text holds a NUL. */
export function storablePayload(payload: string | null, encoding: BronzeRecord['encoding']): Pick<QuarantineEntry, 'payload' | 'encoding'> {
  if (encoding === 'utf8' && payload !== null && payload.includes('\0'))
    return { payload: Buffer.from(payload, 'utf8').toString('base64'), encoding: 'base64' };
  return { payload, encoding };
}

export function storableReason(reason: string): string {
  const clean = reason.replaceAll('\0', '\\u0000');
  return clean.length > MAX_REASON_CHARS ? `${clean.slice(0, MAX_REASON_CHARS - 1)}…` : clean;
}

/** Inserts the entries; a record already quarantined (same topic, partition, offset) keeps its row. */
export async function insertQuarantine(
  db: pg.Pool | pg.PoolClient,
  stream: string,
  topic: string,
  entries: readonly QuarantineEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const stored = entries.map((e) => ({ ...e, ...storablePayload(e.payload, e.encoding), reason: storableReason(e.reason) }));
  await db.query(
    `INSERT INTO quarantine (stream, kafka_topic, bronze_object_id, kafka_partition, kafka_offset, reason_code, reason, payload, payload_encoding)
     SELECT $1, $2, * FROM unnest($3::bigint[], $4::int[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
     ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING`,
    [
      stream,
      topic,
      stored.map((r) => r.bronzeObjectId),
      stored.map((r) => r.partition),
      stored.map((r) => r.offset),
      stored.map((r) => r.code),
      stored.map((r) => r.reason),
      stored.map((r) => r.payload),
      stored.map((r) => r.encoding),
    ],
  );
}
