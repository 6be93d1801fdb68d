// `etl lineage`: from a record to the Kafka offset, bronze and silver objects and load it came
// through — and from a bronze object to its load.
import type pg from 'pg';
import { z } from 'zod';
import { EtlError } from '../../lib/errors';
import { ident } from '../../lib/sql';
import type { StreamSpec } from '../../streams/types';
import type { QuarantineRow } from './quarantine';

export interface RecordLineage {
  key: string;
  loaded?: {
    kafka: { topic: string; partition: number; offset: string };
    /** A record from a file (migration 015): the file version and the line it starts on. */
    file?: FileOfRecord;
    inRaw: boolean;
    load: { load_id: number; kind: string; loaded_at: Date; workflow_id: string | null; silver_key: string };
    bronze?: BronzeLineage;
  };
  quarantined: (Pick<
    QuarantineRow,
    | 'id'
    | 'reason_code'
    | 'reason'
    | 'kafka_topic'
    | 'kafka_partition'
    | 'kafka_offset'
    | 'replayed_at'
    | 'payload_bytes'
    | 'payload_sha256'
    | 'bronze_key'
  > & {
    file?: FileOfRecord;
  })[];
}

export interface FileOfRecord {
  location: string;
  version: number;
  line: string;
}

/** The file version a source_files id names (the partition of a file record's lineage). */
async function fileOf(pool: pg.Pool, topic: string, partition: number, offset: string): Promise<FileOfRecord | undefined> {
  if (!topic.startsWith('files:')) return undefined;
  const { rows } = await pool.query<{ location: string; version: number }>('SELECT location, version FROM source_files WHERE id = $1', [
    partition,
  ]);
  return rows[0] ? { ...rows[0], line: offset } : undefined;
}

export interface BronzeLineage {
  id: number;
  object_key: string;
  topic: string;
  kafka_partition: number;
  first_offset: string;
  last_offset: string;
  record_count: number;
  archived_at: Date;
  /** Retired with the NDJSON silver objects (migration 016): set only for objects loaded before the lake. */
  silver_key: string | null;
  /** A file object: the file version it holds lines first_offset..last_offset of. */
  file?: { location: string; version: number; identity: string };
  /** The object's live Parquet lake files (docs/lake.md). */
  lake_files: { object_key: string; rows: number }[];
  loads: {
    load_id: number;
    kind: string;
    loaded_at: Date;
    workflow_id: string | null;
    inserted_count: number;
    duplicate_count: number;
    conflict_count: number;
  }[];
}

export async function bronzeLineage(pool: pg.Pool, objectId: number): Promise<BronzeLineage | undefined> {
  const { rows } = await pool.query<Omit<BronzeLineage, 'loads' | 'lake_files'>>(
    `SELECT id::int, object_key, topic, kafka_partition, first_offset::text, last_offset::text, record_count, archived_at, silver_key
     FROM bronze_objects WHERE id = $1`,
    [objectId],
  );
  if (!rows[0]) return undefined;
  const { rows: files } = await pool.query<{ location: string; version: number; identity: string }>(
    'SELECT f.location, f.version, f.identity FROM bronze_objects b JOIN source_files f ON f.id = b.source_file_id WHERE b.id = $1',
    [objectId],
  );
  const { rows: loads } = await pool.query<BronzeLineage['loads'][number]>(
    `SELECT load_id::int, kind, loaded_at, workflow_id, inserted_count, duplicate_count, conflict_count FROM loads WHERE bronze_object_id = $1
     UNION SELECT DISTINCT l.load_id::int, l.kind, l.loaded_at, l.workflow_id, l.inserted_count, l.duplicate_count, l.conflict_count
     FROM quarantine q JOIN loads l ON l.load_id = q.replay_load_id WHERE q.bronze_object_id = $1
     ORDER BY load_id`,
    [objectId],
  );
  const { rows: lakeFiles } = await pool.query<BronzeLineage['lake_files'][number]>(
    'SELECT object_key, rows::int FROM lake_files WHERE bronze_object_id = $1 AND live ORDER BY object_key',
    [objectId],
  );
  return { ...rows[0], ...(files[0] ? { file: files[0] } : {}), lake_files: lakeFiles, loads };
}

// A key typed on the command line is outside input: parsed as the stream's key column type.
const INTEGER_TYPES = new Set(['smallint', 'integer', 'int', 'bigint']);

/** The key as the stream's key column holds it (a uuid lower-cased, an integer's digits, text trimmed); USAGE otherwise. */
export function parseRecordKey(spec: Pick<StreamSpec, 'name' | 'keyColumn' | 'keyType'>, key: string | undefined): string {
  const schema =
    spec.keyType === 'uuid'
      ? z.uuid().transform((k) => k.toLowerCase())
      : INTEGER_TYPES.has(spec.keyType)
        ? z.string().regex(/^-?\d{1,19}$/)
        : z.string().trim().min(1);
  const parsed = schema.safeParse(key);
  if (!parsed.success) {
    throw new EtlError(
      'USAGE',
      `expected a ${spec.keyColumn} (${spec.keyType}) of stream ${spec.name}, or --object <id>; got ${JSON.stringify(key ?? '')}`,
    );
  }
  return parsed.data;
}

export async function recordLineage(pool: pg.Pool, spec: StreamSpec, key: string): Promise<RecordLineage> {
  const { rows } = await pool.query<{
    kafka_topic: string;
    kafka_partition: number;
    kafka_offset: string;
    load_id: number;
    bronze_object_id: number | null;
    kind: string;
    loaded_at: Date;
    workflow_id: string | null;
    silver_key: string;
    in_raw: boolean;
  }>(
    `SELECT f.kafka_topic, f.kafka_partition, f.kafka_offset::text, f.load_id::int, f.bronze_object_id::int, l.kind, l.loaded_at, l.workflow_id, l.silver_key,
            EXISTS (SELECT 1 FROM ${ident(spec.rawTable)} r WHERE r.${ident(spec.keyColumn)} = f.${ident(spec.keyColumn)}) AS in_raw
     FROM ${ident(spec.flatTable)} f JOIN loads l ON l.load_id = f.load_id WHERE f.${ident(spec.keyColumn)} = $1`,
    [key],
  );
  const { rows: quarantined } = await pool.query<RecordLineage['quarantined'][number]>(
    `SELECT q.id::int, q.reason_code, q.reason, q.kafka_topic, q.kafka_partition, q.kafka_offset::text, q.replayed_at,
            q.payload_bytes::float8 AS payload_bytes, q.payload_sha256, b.object_key AS bronze_key
     FROM quarantine q LEFT JOIN bronze_objects b ON b.id = q.bronze_object_id
     WHERE q.stream = $1 AND q.payload_encoding = 'utf8' AND position($2 in lower(q.payload)) > 0 ORDER BY q.id`,
    [spec.name, key.toLowerCase()],
  );
  for (const q of quarantined) {
    const file = await fileOf(pool, q.kafka_topic, q.kafka_partition, q.kafka_offset);
    if (file) q.file = file;
  }
  const f = rows[0];
  if (!f) return { key, quarantined };
  const file = await fileOf(pool, f.kafka_topic, f.kafka_partition, f.kafka_offset);
  return {
    key,
    quarantined,
    loaded: {
      kafka: { topic: f.kafka_topic, partition: f.kafka_partition, offset: f.kafka_offset },
      ...(file ? { file } : {}),
      inRaw: f.in_raw,
      load: { load_id: f.load_id, kind: f.kind, loaded_at: f.loaded_at, workflow_id: f.workflow_id, silver_key: f.silver_key },
      bronze: f.bronze_object_id === null ? undefined : await bronzeLineage(pool, f.bronze_object_id),
    },
  };
}
