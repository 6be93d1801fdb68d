// The one path by which records reach the raw and flat tables: stage silver docs in a temp table,
// quarantine conflicting duplicates, insert what is new. Used by object loads, by replays of
// quarantined records and by replays from bronze (which call the steps one by one), inside the
// caller's transaction.
// Every count is what a statement compared, never a remainder: inserted rows are the ones the
// insert returned, conflicts the docs the scans quarantined, duplicates the docs found equal to a
// row another record put there. So rows in = inserted + duplicates + conflicts is a check (the
// quality stage's), not an identity.
import type pg from 'pg';
import type { StreamSpec } from '../../streams/types';
import { ident } from '../../lib/sql';

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

export interface MergeTarget {
  stream: string;
  loadId: number;
  bronzeObjectId: number | null;
}

/** Quarantines the staged docs that conflict (same key, different payload) and removes them from staging. */
export async function quarantineConflicts(
  client: pg.PoolClient,
  spec: StreamSpec,
  target: MergeTarget,
): Promise<Pick<MergeCounts, 'conflicts' | 'conflictKeys'>> {
  await client.query(spec.findConflictsSql);
  const { rows: c } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM conflicts');
  const conflicts = c[0]!.n;
  if (conflicts === 0) return { conflicts, conflictKeys: [] };
  const { rows } = await client.query<{ k: string }>(
    "SELECT (s.doc->>'kafka_topic') || ':' || (s.doc->>'kafka_partition') || ':' || (s.doc->>'kafka_offset') AS k FROM conflicts c JOIN staging s ON s.ctid = c.row_id",
  );
  await client.query(
    `INSERT INTO quarantine (stream, kafka_topic, kafka_partition, kafka_offset, bronze_object_id, reason_code, reason, payload, payload_encoding)
     SELECT $1, s.doc->>'kafka_topic', (s.doc->>'kafka_partition')::int, (s.doc->>'kafka_offset')::bigint,
            coalesce((s.doc->>'bronze_object_id')::bigint, $2), 'CONFLICTING_DUPLICATE', c.reason, (s.doc->'payload')::text, 'utf8'
     FROM conflicts c JOIN staging s ON s.ctid = c.row_id
     ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING`,
    [target.stream, target.bronzeObjectId],
  );
  await client.query('DELETE FROM staging WHERE ctid IN (SELECT row_id FROM conflicts)');
  await client.query('DELETE FROM conflicts'); // a later scan counts its own
  return { conflicts, conflictKeys: rows.map((r) => r.k) };
}

/** Inserts the staged docs whose keys are new into raw and flat; returns the flat rows inserted. */
export async function insertStaged(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget): Promise<number> {
  return (await client.query(spec.insertFromStagingSql, [target.loadId, target.bronzeObjectId])).rowCount ?? 0;
}

/**
 * Tells the sinks derived from the flat tables (migration 014) that flat rows of these bronze
 * objects were inserted or re-derived in this transaction. Bumping an object whose rows did not
 * change costs a sink one rewrite of the same rows, nothing more.
 */
export async function bumpRowsVersion(client: pg.PoolClient, objectIds: Iterable<number | string | null | undefined>): Promise<void> {
  const ids = [...new Set([...objectIds].filter((id) => id !== null && id !== undefined).map(Number))];
  if (ids.length > 0) await client.query('UPDATE bronze_objects SET rows_version = rows_version + 1 WHERE id = ANY($1::bigint[])', [ids]);
}

/** Brings the stream's derived tables up to date with what was just merged from staging. */
export async function runAfterMerge(client: pg.PoolClient, spec: StreamSpec): Promise<void> {
  for (const sql of spec.afterMergeSql) await client.query(sql);
}

/**
 * The hooks of a load that bypassed staging (direct-load.ts): a temp view named `staging` shows
 * them the flat rows of this load in the silver shape, then goes away with the statement that made it.
 */
export async function runAfterMergeOfLoad(client: pg.PoolClient, spec: StreamSpec, loadId: number): Promise<void> {
  if (spec.afterMergeSql.length === 0) return;
  await client.query("SELECT set_config('etl.load_id', $1, true)", [String(loadId)]);
  await client.query(
    `CREATE TEMP VIEW staging AS SELECT to_jsonb(f) AS doc FROM ${ident(spec.flatTable)} f WHERE f.load_id = current_setting('etl.load_id')::bigint`,
  );
  await runAfterMerge(client, spec);
  await client.query('DROP VIEW staging');
}

/**
 * Staged docs whose key is loaded with the same payload by another record (an earlier object, an
 * earlier offset of this one): duplicates, counted from what was compared. A doc the insert of this
 * load wrote is the loaded row itself, told apart by its lineage.
 */
export async function countDuplicates(client: pg.PoolClient, spec: StreamSpec, loadId: number): Promise<number> {
  const { rows } = await client.query<{ n: number }>(spec.countDuplicatesSql, [loadId]);
  return rows[0]!.n;
}

/**
 * Conflict scan, insert, and a second scan once the insert is done. The first scan cannot see a key
 * that a concurrent load has inserted but not committed; the insert then waits for that load and,
 * once it commits, skips the key (ON CONFLICT DO NOTHING). The second scan, a new statement that
 * sees that commit, quarantines the doc if its payload differs, so the conflict is neither dropped
 * nor counted as a duplicate.
 */
export async function mergeStaging(client: pg.PoolClient, spec: StreamSpec, target: MergeTarget): Promise<MergeCounts> {
  const { rows: counted } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM staging');
  const rowsIn = counted[0]!.n;
  const early = await quarantineConflicts(client, spec, target);
  const inserted = await insertStaged(client, spec, target);
  const late = await quarantineConflicts(client, spec, target);
  const duplicates = await countDuplicates(client, spec, target.loadId);
  await runAfterMerge(client, spec);
  return {
    rowsIn,
    inserted,
    duplicates,
    conflicts: early.conflicts + late.conflicts,
    conflictKeys: [...early.conflictKeys, ...late.conflictKeys],
  };
}
