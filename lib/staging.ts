// The one path by which records reach the raw and flat tables: stage silver docs in a temp table,
// quarantine conflicting duplicates, insert what is new. Used by object loads, by replays of
// quarantined records and by replays from bronze (which call the steps one by one), inside the
// caller's transaction.
import type pg from 'pg';
import type { StreamSpec } from '../streams/types';
import { ident } from './sql';

// Each silver line is one CSV field: JSON never contains raw 0x01/0x02 bytes (control characters
// are escaped inside JSON strings), so no quoting or escaping can misfire.
export const COPY_INTO_STAGING = "COPY staging (doc) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')";

export async function createStaging(client: pg.PoolClient): Promise<void> {
  await client.query('CREATE TEMP TABLE staging (doc jsonb NOT NULL) ON COMMIT DROP');
  await client.query('CREATE TEMP TABLE conflicts (row_id tid PRIMARY KEY, reason text NOT NULL) ON COMMIT DROP');
}

export interface MergeCounts {
  rowsIn: number;
  inserted: number;
  duplicates: number;
  conflicts: number;
  /** `topic:partition:offset` of each conflicting record. */
  conflictKeys: string[];
}

export interface MergeTarget { stream: string; loadId: number; bronzeObjectId: number | null }

/** Quarantines the staged docs that conflict (same key, different payload) and removes them from staging. */
export async function quarantineConflicts(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget): Promise<Pick<MergeCounts, 'conflicts' | 'conflictKeys'>> {
  await client.query(spec.findConflictsSql);
  const { rows: c } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM conflicts');
  const conflicts = c[0]!.n;
  if (conflicts === 0) return { conflicts, conflictKeys: [] };
  const { rows } = await client.query<{ k: string }>(
    "SELECT (s.doc->>'kafka_topic') || ':' || (s.doc->>'kafka_partition') || ':' || (s.doc->>'kafka_offset') AS k FROM conflicts c JOIN staging s ON s.ctid = c.row_id");
  await client.query(
    `INSERT INTO quarantine (stream, kafka_topic, kafka_partition, kafka_offset, bronze_object_id, reason_code, reason, payload, payload_encoding)
     SELECT $1, s.doc->>'kafka_topic', (s.doc->>'kafka_partition')::int, (s.doc->>'kafka_offset')::bigint,
            coalesce((s.doc->>'bronze_object_id')::bigint, $2), 'CONFLICTING_DUPLICATE', c.reason, (s.doc->'payload')::text, 'utf8'
     FROM conflicts c JOIN staging s ON s.ctid = c.row_id
     ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING`,
    [target.stream, target.bronzeObjectId],
  );
  await client.query('DELETE FROM staging WHERE ctid IN (SELECT row_id FROM conflicts)');
  return { conflicts, conflictKeys: rows.map((r) => r.k) };
}

/** Inserts the staged docs whose keys are new into raw and flat; returns the flat rows inserted. */
export async function insertStaged(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget): Promise<number> {
  return (await client.query(spec.insertFromStagingSql, [target.loadId, target.bronzeObjectId])).rowCount ?? 0;
}

/** Brings the stream's derived tables up to date with what was just merged from staging. */
export async function runAfterMerge(client: pg.PoolClient, spec: StreamSpec): Promise<void> {
  for (const sql of spec.afterMergeSql) await client.query(sql);
}

/**
 * The hooks of a load that bypassed staging (lib/direct-load.ts): a temp view named `staging` shows
 * them the flat rows of this load in the silver shape, then goes away with the statement that made it.
 */
export async function runAfterMergeOfLoad(client: pg.PoolClient, spec: StreamSpec, loadId: number): Promise<void> {
  if (spec.afterMergeSql.length === 0) return;
  await client.query("SELECT set_config('etl.load_id', $1, true)", [String(loadId)]);
  await client.query(`CREATE TEMP VIEW staging AS SELECT to_jsonb(f) AS doc FROM ${ident(spec.flatTable)} f WHERE f.load_id = current_setting('etl.load_id')::bigint`);
  await runAfterMerge(client, spec);
  await client.query('DROP VIEW staging');
}

export async function mergeStaging(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget): Promise<MergeCounts> {
  const { rows: counted } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM staging');
  const rowsIn = counted[0]!.n;
  const { conflicts, conflictKeys } = await quarantineConflicts(client, spec, target);
  const inserted = await insertStaged(client, spec, target);
  await runAfterMerge(client, spec);
  return { rowsIn, inserted, conflicts, conflictKeys, duplicates: rowsIn - conflicts - inserted };
}
