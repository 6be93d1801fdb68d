// Writing quarantine rows, from the transform and from the load alike. A quarantine row must be
// storable whatever the record held: PostgreSQL text cannot hold NUL (0x00 is valid UTF-8, so such
// a value arrives as text), so a payload with one is kept as base64 of its exact bytes, and a
// reason quoting one gets the escape `\u0000` instead.
import type pg from 'pg';
import type { QuarantineCode } from '../streams/types';
import { digestOf, valueBytes, type BronzeRecord } from '../lib/lake';

export interface QuarantineEntry {
  partition: number;
  offset: string;
  /** The object the record was archived in; null for none (a record replayed on its own). */
  bronzeObjectId: number | null;
  code: QuarantineCode;
  reason: string;
  payload: string | null;
  encoding: BronzeRecord['encoding'];
  /** Set when `payload` is only the first bytes of the value (too large to keep): the whole value's size… */
  payloadBytes?: number;
  /** … and its SHA-256 (hex); the whole value stays in bronze (or, past what bronze keeps, in Kafka). */
  payloadSha256?: string;
}

/**
 * The payload a quarantine row keeps of a record: the value itself, or — larger than
 * `maxValueBytes` (MAX_VALUE_BYTES), or archived as a stand-in already — its first bytes with the
 * whole value's size and SHA-256. So no quarantine row, and no batch of them, holds more than
 * MAX_VALUE_BYTES per record.
 */
export function quarantinedValue(
  record: Pick<BronzeRecord, 'value' | 'encoding' | 'defect'>,
  maxValueBytes: number,
): Pick<QuarantineEntry, 'payload' | 'encoding' | 'payloadBytes' | 'payloadSha256'> {
  const { defect } = record;
  if (defect?.bytes !== undefined && defect.sha256 !== undefined)
    return { payload: record.value, encoding: record.encoding, payloadBytes: defect.bytes, payloadSha256: defect.sha256 };
  const bytes = valueBytes(record);
  if (bytes.length <= maxValueBytes) return { payload: record.value, encoding: record.encoding };
  const d = digestOf(bytes);
  return { payload: d.prefix.value, encoding: d.prefix.encoding, payloadBytes: d.bytes, payloadSha256: d.sha256 };
}

/** Quarantine entries inserted in one statement at most, by count and by the bytes of their payloads. */
export const QUARANTINE_BATCH = { entries: 1_000, bytes: 4 * 1024 * 1024 };

/** Collects entries and inserts them in batches bounded by QUARANTINE_BATCH. */
export class QuarantineBatcher {
  private batch: QuarantineEntry[] = [];
  private bytes = 0;
  constructor(
    private readonly db: pg.Pool | pg.PoolClient,
    private readonly stream: string,
    private readonly topic: string,
  ) {}

  async add(entry: QuarantineEntry): Promise<void> {
    this.batch.push(entry);
    this.bytes += (entry.payload?.length ?? 0) + entry.reason.length;
    if (this.batch.length >= QUARANTINE_BATCH.entries || this.bytes >= QUARANTINE_BATCH.bytes) await this.flush();
  }

  async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.bytes = 0;
    await insertQuarantine(this.db, this.stream, this.topic, batch);
  }
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
    `INSERT INTO quarantine (stream, kafka_topic, bronze_object_id, kafka_partition, kafka_offset, reason_code, reason, payload, payload_encoding,
                             payload_bytes, payload_sha256)
     SELECT $1, $2, * FROM unnest($3::bigint[], $4::int[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[])
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
      stored.map((r) => r.payloadBytes ?? null),
      stored.map((r) => r.payloadSha256 ?? null),
    ],
  );
}
