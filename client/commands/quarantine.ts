// `etl quarantine list|show|replay`: what was set aside, why, and — once a rule is fixed — putting
// it back through the same validation and the same load path as everything else.
import { Readable } from 'node:stream';
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { Clients } from '../../lib/clients';
import { valueBytes, type BronzeRecord } from '../../lib/lake';
import { readNdjsonObject } from '../../lib/ndjson';
import { inTransaction } from '../../lib/postgres';
import { ident } from '../../lib/sql';
import { mergeSettingAsideRefused, unlessRefused, type IsolatedMerge } from '../../activities/transform-load/load-isolation';
import { bumpRowsVersion, createStaging, mergeStaging, type MergeTarget } from '../../activities/transform-load/staging';
import { classifyRecord, silverDoc } from '../../streams/classify';
import type { StreamSpec } from '../../streams/types';

export interface QuarantineFilter {
  stream: string;
  reason?: string;
  ids?: number[];
  includeReplayed?: boolean;
  limit: number;
}

export interface QuarantineRow {
  id: number;
  reason_code: string;
  reason: string;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string;
  bronze_object_id: number | null;
  quarantined_at: Date;
  replayed_at: Date | null;
  payload?: string | null;
  payload_encoding?: string;
  /** Set when payload holds only the value's first bytes (TOO_LARGE): the whole value's size and SHA-256… */
  payload_bytes?: number | null;
  payload_sha256?: string | null;
  /** … which stays in this bronze object, at kafka_offset (a file's line, for a file source). */
  bronze_key?: string | null;
}

// Parameters of the filtered queries: $1 stream, $2 reason (or null), $3 ids (or null), $4 include replayed, $5 limit.
const LIST = `SELECT id::int, reason_code, reason, kafka_topic, kafka_partition, kafka_offset::text, bronze_object_id::int, quarantined_at, replayed_at
  FROM quarantine
  WHERE stream = $1 AND ($2::text IS NULL OR reason_code = $2) AND ($3::bigint[] IS NULL OR id = ANY($3)) AND ($4 OR replayed_at IS NULL)
  ORDER BY id LIMIT $5`;
// reference_time: what the record's first transform judged its event time against (its object's
// archive time, streams/types.ts ValidationContext), so a replay next year applies the same bounds.
// A record quarantined by a load of no bronze object (a quarantine replay's conflict) has none: its
// quarantine time, recorded once as well, stands in.
const TO_REPLAY = `SELECT q.id::int, q.reason_code, q.reason, q.kafka_topic, q.kafka_partition, q.kafka_offset::text, q.bronze_object_id::int,
         q.quarantined_at, q.replayed_at, q.payload, q.payload_encoding, q.payload_bytes::float8 AS payload_bytes, q.payload_sha256,
         b.object_key AS bronze_key, coalesce(b.archived_at, q.quarantined_at) AS reference_time
  FROM quarantine q LEFT JOIN bronze_objects b ON b.id = q.bronze_object_id
  WHERE q.stream = $1 AND ($2::text IS NULL OR q.reason_code = $2) AND ($3::bigint[] IS NULL OR q.id = ANY($3)) AND q.replayed_at IS NULL
  ORDER BY q.id LIMIT $4 FOR UPDATE OF q SKIP LOCKED`;

export async function listQuarantine(pool: pg.Pool, f: QuarantineFilter): Promise<QuarantineRow[]> {
  const { rows } = await pool.query<QuarantineRow>(LIST, [f.stream, f.reason ?? null, f.ids ?? null, f.includeReplayed ?? false, f.limit]);
  return rows;
}

export async function showQuarantine(pool: pg.Pool, id: number): Promise<QuarantineRow | undefined> {
  const { rows } = await pool.query<QuarantineRow>(
    `SELECT q.id::int, q.reason_code, q.reason, q.kafka_topic, q.kafka_partition, q.kafka_offset::text, q.bronze_object_id::int, q.quarantined_at,
            q.replayed_at, q.payload, q.payload_encoding, q.payload_bytes::float8 AS payload_bytes, q.payload_sha256, b.object_key AS bronze_key
     FROM quarantine q LEFT JOIN bronze_objects b ON b.id = q.bronze_object_id WHERE q.id = $1`,
    [id],
  );
  return rows[0];
}

/** Where the whole value of a row that keeps only its first bytes is, in words; undefined for a row that keeps it whole. */
export function wholeValueNote(
  row: Pick<QuarantineRow, 'payload_bytes' | 'payload_sha256' | 'bronze_key' | 'kafka_topic' | 'kafka_partition' | 'kafka_offset'>,
  bucket: string,
): string | undefined {
  if (!row.payload_sha256) return undefined;
  const where = row.bronze_key
    ? `in bronze at s3://${bucket}/${row.bronze_key}, the line of partition ${row.kafka_partition} offset ${row.kafka_offset}`
    : `in Kafka at ${row.kafka_topic}[${row.kafka_partition}]@${row.kafka_offset} (until the topic's retention)`;
  return (
    `payload holds only the first bytes of a ${row.payload_bytes}-byte value (SHA-256 ${row.payload_sha256}); the whole value is ${where}. ` +
    '`etl quarantine replay` reads it from there once MAX_VALUE_BYTES admits it; until then the record stays TOO_LARGE.'
  );
}

export interface ReplayResult {
  examined: number;
  loaded: number;
  duplicates: number;
  conflicts: number;
  stillInvalid: Record<string, number>;
  loadId?: number;
  /** The bronze objects whose rows it changed (rows_version bumped): their lake and index follow. */
  objectIds: number[];
}

/**
 * Merges the now-valid records in one statement; only if PostgreSQL refuses one of their rows are
 * the refused ones found and set aside (the load path's own search, load-isolation.ts).
 */
async function mergeRevalidated(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget, docs: string[]): Promise<IsolatedMerge> {
  const whole = await unlessRefused(client, async () => {
    await client.query('INSERT INTO staging (doc) SELECT unnest($1::jsonb[])', [docs]);
    return mergeStaging(client, spec, target);
  });
  if ('value' in whole) return { ...whole.value, refused: [] };
  return mergeSettingAsideRefused(client, spec, target, Readable.from(docs.map((d) => `${d}\n`)));
}

type ReplayRow = QuarantineRow & { payload: string | null; payload_encoding: BronzeRecord['encoding']; reference_time: Date };

/**
 * The whole values of rows that keep only their first bytes (TOO_LARGE), read back from their
 * bronze objects — only those no larger than `maxValueBytes` now (MAX_VALUE_BYTES raised since):
 * a larger one would be TOO_LARGE again, so it is not read. A value whose bytes no longer match the
 * recorded SHA-256 (or that bronze holds only as a stand-in) is not used.
 */
async function wholeValues(
  clients: Pick<Clients, 's3' | 'config'>,
  rows: ReplayRow[],
): Promise<Map<number, Pick<BronzeRecord, 'value' | 'encoding'>>> {
  const wanted = new Map<string, Map<string, ReplayRow>>();
  for (const q of rows) {
    if (!q.payload_sha256 || !q.bronze_key || (q.payload_bytes ?? Infinity) > clients.config.MAX_VALUE_BYTES) continue;
    const of = wanted.get(q.bronze_key) ?? new Map<string, ReplayRow>();
    of.set(`${q.kafka_partition}@${q.kafka_offset}`, q);
    wanted.set(q.bronze_key, of);
  }
  const found = new Map<number, Pick<BronzeRecord, 'value' | 'encoding'>>();
  for (const [key, of] of wanted) {
    let left = of.size;
    for await (const line of readNdjsonObject(clients.s3, clients.config.S3_BUCKET, key)) {
      const record = JSON.parse(line) as BronzeRecord; // written by our archive
      const q = of.get(`${record.partition}@${record.offset}`);
      if (!q) continue;
      const bytes = valueBytes(record);
      if (!record.defect && createHash('sha256').update(bytes).digest('hex') === q.payload_sha256)
        found.set(q.id, { value: record.value, encoding: record.encoding });
      if (--left === 0) break;
    }
  }
  return found;
}

/**
 * Re-validates quarantined records with the current rules and loads those that now pass. A record
 * whose row keeps only its first bytes (TOO_LARGE) is replayed from its whole value in bronze when
 * MAX_VALUE_BYTES now admits it; otherwise it stays TOO_LARGE, unread.
 */
export async function replayQuarantine(
  clients: Pick<Clients, 'pool' | 's3' | 'config'>,
  spec: StreamSpec,
  f: QuarantineFilter,
): Promise<ReplayResult> {
  const { pool, config } = clients;
  const result = await inTransaction(pool, async (client) => {
    const { rows } = await client.query<ReplayRow>(TO_REPLAY, [f.stream, f.reason ?? null, f.ids ?? null, f.limit]);
    const whole = await wholeValues(clients, rows);
    const stillInvalid: Record<string, number> = {};
    const docs: string[] = [];
    const candidates = new Map<string, number>();
    // Only an object a now-valid record came from gets rows; the others' rows stay as they are.
    const revalidated = new Set<number>();
    for (const q of rows) {
      if (q.payload_sha256 && !whole.has(q.id)) {
        stillInvalid.TOO_LARGE = (stillInvalid.TOO_LARGE ?? 0) + 1;
        continue;
      }
      const record: BronzeRecord = {
        topic: q.kafka_topic,
        partition: q.kafka_partition,
        offset: q.kafka_offset,
        timestamp: '',
        key: null,
        ...(whole.get(q.id) ?? { value: q.payload, encoding: q.payload_encoding }),
      };
      const r = classifyRecord(spec, record, { referenceTimeMs: q.reference_time.getTime() }, config.MAX_VALUE_BYTES);
      if (!r.ok) {
        stillInvalid[r.code] = (stillInvalid[r.code] ?? 0) + 1;
        continue;
      }
      docs.push(JSON.stringify(silverDoc(r.row, record, q.bronze_object_id ?? undefined)));
      candidates.set(`${q.kafka_topic}:${q.kafka_partition}:${q.kafka_offset}`, q.id);
      if (q.bronze_object_id !== null) revalidated.add(q.bronze_object_id);
    }
    if (docs.length === 0) return { examined: rows.length, loaded: 0, duplicates: 0, conflicts: 0, stillInvalid, objectIds: [] };

    await createStaging(client);
    const {
      rows: [load],
    } = await client.query<{ load_id: string }>(
      "INSERT INTO loads (kind, stream, silver_key, rows_in, inserted_count, duplicate_count) VALUES ('replay', $1, 'quarantine-replay', $2, 0, 0) RETURNING load_id",
      [f.stream, docs.length],
    );
    const loadId = Number(load!.load_id);
    const merged = await mergeRevalidated(client, spec, { stream: f.stream, loadId, bronzeObjectId: null }, docs);
    // A record PostgreSQL refuses stays quarantined, under its reason: one such record does not stop the others.
    for (const r of merged.refused) {
      const doc = JSON.parse(r.line) as { kafka_topic: string; kafka_partition: number; kafka_offset: string | number };
      candidates.delete(`${doc.kafka_topic}:${doc.kafka_partition}:${doc.kafka_offset}`);
    }
    const objectIds = merged.inserted > 0 ? [...revalidated].sort((a, b) => a - b) : [];
    await bumpRowsVersion(client, objectIds);
    await client.query(
      'UPDATE loads SET inserted_count = $2, duplicate_count = $3, conflict_count = $4, rejected_count = $5 WHERE load_id = $1',
      [loadId, merged.inserted, merged.duplicates, merged.conflicts, merged.refused.length],
    );
    // Conflicting records stay quarantined; the others are now in the tables (or were already).
    for (const key of merged.conflictKeys) candidates.delete(key);
    await client.query('UPDATE quarantine SET replayed_at = now(), replay_load_id = $1 WHERE id = ANY($2::bigint[])', [
      loadId,
      [...candidates.values()],
    ]);
    if (merged.conflicts) stillInvalid.CONFLICTING_DUPLICATE = merged.conflicts;
    if (merged.refused.length) stillInvalid.LOAD_REJECTED = merged.refused.length;
    return {
      examined: rows.length,
      loaded: merged.inserted,
      duplicates: merged.duplicates,
      conflicts: merged.conflicts,
      stillInvalid,
      loadId,
      objectIds,
    };
  });
  if (result.loaded > 0)
    for (const view of spec.materializedViews) await pool.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${ident(view)}`);
  return result;
}
