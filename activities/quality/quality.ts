// Data-quality checks after a run: the manifest reconciles with what was loaded and quarantined,
// key columns have no nulls, categorical columns hold only accepted values. Each result is stored.
// All counts come from one snapshot and the reconciliations cover loaded objects only, so a stream
// loading beside the run cannot make them disagree; only the two "drained" checks (nothing
// pending, nothing unloaded) can see work in flight.
import type pg from 'pg';
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import type { ActivityDeps } from '../deps';
import { parkedObjectChecks } from './quality-parked';
import { fileSourceChecks } from './quality-files';
import { lakeChecks } from './quality-lake';
import type { QualityCheck, QualityInput, QualityResult } from '../types';

type Counts = Record<string, string>;

/** Quarantine rows whose object is loaded (or that belong to no object): the ones a reconciliation may count. */
const LOADED_OR_NO_OBJECT =
  '(q.bronze_object_id IS NULL OR EXISTS (SELECT 1 FROM bronze_objects b WHERE b.id = q.bronze_object_id AND b.loaded_at IS NOT NULL))';

export async function quality(deps: ActivityDeps, input: QualityInput): Promise<QualityResult> {
  const client = await deps.pool.connect();
  let checks: QualityCheck[];
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    checks = [...(await runChecks(client, input)), ...(await lakeChecks(deps, client, input.stream))];
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  await deps.pool.query(
    `INSERT INTO quality_results (run_id, stream, check_name, passed, observed, expected, details)
     SELECT $1, $2, * FROM unnest($3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[])`,
    [
      input.runId,
      input.stream,
      checks.map((c) => c.name),
      checks.map((c) => c.passed),
      checks.map((c) => c.observed),
      checks.map((c) => c.expected),
      checks.map((c) => c.details ?? null),
    ],
  );
  return { passed: checks.every((c) => c.passed), checks };
}

async function runChecks(pool: pg.PoolClient, input: QualityInput): Promise<QualityCheck[]> {
  const spec = getStream(input.stream);
  const flat = ident(spec.flatTable);
  const raw = ident(spec.rawTable);
  const checks: QualityCheck[] = [];
  const eq = (name: string, observed: string | number | bigint, expected: string | number | bigint, details?: string) =>
    checks.push({ name, passed: String(observed) === String(expected), observed: String(observed), expected: String(expected), details });

  const {
    rows: [m],
  } = await pool.query<Counts>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::text AS pending,
            count(*) FILTER (WHERE status = 'archived' AND loaded_at IS NULL)::text AS unloaded,
            coalesce(sum(record_count), 0)::text AS archived,
            coalesce(sum(valid_count + quarantined_count) FILTER (WHERE loaded_at IS NOT NULL), 0)::text AS transformed,
            coalesce(sum(record_count) FILTER (WHERE loaded_at IS NOT NULL), 0)::text AS archived_loaded,
            coalesce(sum(valid_count) FILTER (WHERE loaded_at IS NOT NULL), 0)::text AS valid,
            coalesce(sum(inserted_count + duplicate_count + coalesce(conflict_count, 0) + coalesce(rejected_count, 0)), 0)::text AS merged,
            coalesce(sum(quarantined_count + coalesce(conflict_count, 0) + coalesce(rejected_count, 0)) FILTER (WHERE loaded_at IS NOT NULL), 0)::text AS quarantined
     FROM bronze_objects WHERE stream = $1`,
    [input.stream],
  );
  const {
    rows: [l],
  } = await pool.query<Counts>(
    'SELECT coalesce(sum(inserted_count), 0)::text AS inserted, coalesce(sum(duplicate_count), 0)::text AS duplicates FROM loads WHERE stream = $1',
    [input.stream],
  );
  const {
    rows: [gaps],
  } = await pool.query<Counts>(
    `SELECT count(*)::text AS n FROM (
       SELECT first_offset, lag(last_offset) OVER (PARTITION BY topic, kafka_partition ORDER BY first_offset) AS prev_last
       FROM bronze_objects WHERE stream = $1) o
     WHERE prev_last IS NOT NULL AND first_offset <> prev_last + 1`,
    [input.stream],
  );
  const {
    rows: [t],
  } = await pool.query<Counts>(
    `SELECT (SELECT count(*) FROM ${flat})::text AS flat, (SELECT count(*) FROM ${raw})::text AS raw,
            (SELECT count(*) FROM quarantine q WHERE stream = $1 AND ${LOADED_OR_NO_OBJECT})::text AS quarantine,
            (SELECT count(*) FROM quarantine q WHERE stream = $1 AND replayed_at IS NULL AND ${LOADED_OR_NO_OBJECT})::text AS quarantine_open`,
    [input.stream],
  );

  eq('manifest_offsets_contiguous', gaps!.n!, 0, 'gaps or overlaps between consecutive objects of a partition');
  eq('no_pending_objects', m!.pending!, 0, 'objects planned but not yet written');
  eq('all_archived_objects_loaded', m!.unloaded!, 0);
  eq('archived_equals_valid_plus_quarantined', m!.transformed!, m!.archived_loaded!, 'per loaded object: records = valid + quarantined');
  eq(
    'valid_equals_inserted_duplicates_conflicts',
    m!.merged!,
    m!.valid!,
    'per loaded object: valid = inserted + duplicates + conflicting duplicates + rows PostgreSQL refused',
  );
  eq(
    'archived_equals_loaded_plus_quarantined',
    BigInt(t!.flat!) + BigInt(t!.quarantine_open!) + BigInt(l!.duplicates!),
    m!.archived_loaded!,
    `${spec.flatTable} rows + open quarantine rows + duplicates = records of loaded objects`,
  );
  eq('flat_rows_match_loads', t!.flat!, l!.inserted!);
  eq('raw_rows_equal_flat_rows', t!.raw!, t!.flat!);
  // The lineage columns carry no foreign keys (migration 010: they halved load throughput); this is their check.
  const {
    rows: [orphans],
  } = await pool.query<Counts>(
    `SELECT count(*)::text AS n FROM ${flat} f
     WHERE NOT EXISTS (SELECT 1 FROM loads l WHERE l.load_id = f.load_id)
        OR (f.bronze_object_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bronze_objects b WHERE b.id = f.bronze_object_id))`,
  );
  eq('lineage_resolves', orphans!.n!, 0, `every ${spec.flatTable} row points at an existing load and bronze object`);
  eq(
    'quarantine_rows_match_manifest',
    t!.quarantine!,
    m!.quarantined!,
    'quarantined by transform + conflicting duplicates and refused rows found by load',
  );
  // The load's counts against the rows it left, object by object: each of them is counted from
  // what it compared, so a count that drifted from the data shows here.
  const {
    rows: [drift],
  } = await pool.query<Counts & { examples: string | null }>(
    `WITH f AS (SELECT load_id, count(*) AS n FROM ${flat} GROUP BY load_id),
          q AS (SELECT bronze_object_id, count(*) FILTER (WHERE reason_code = 'CONFLICTING_DUPLICATE') AS conflicts,
                       count(*) FILTER (WHERE reason_code = 'LOAD_REJECTED') AS rejected
                FROM quarantine WHERE stream = $1 GROUP BY bronze_object_id)
     SELECT count(*)::text AS n, array_to_string((array_agg(b.id ORDER BY b.id))[1:5], ', ') AS examples
     FROM bronze_objects b LEFT JOIN f ON f.load_id = b.load_id LEFT JOIN q ON q.bronze_object_id = b.id
     WHERE b.stream = $1 AND b.loaded_at IS NOT NULL
       AND (b.inserted_count <> coalesce(f.n, 0) OR coalesce(b.conflict_count, 0) <> coalesce(q.conflicts, 0) OR coalesce(b.rejected_count, 0) <> coalesce(q.rejected, 0))`,
    [input.stream],
  );
  eq(
    'load_counts_match_rows',
    drift!.n!,
    0,
    `loaded objects whose inserted, conflict or rejected count differs from their ${spec.flatTable} rows or quarantine rows${drift!.examples ? `: ${drift!.examples}` : ''}`,
  );

  const nullChecks = spec.notNullColumns.map((c) => `count(*) FILTER (WHERE ${ident(c)} IS NULL)`).join(' + ');
  const {
    rows: [nulls],
  } = await pool.query<Counts>(`SELECT (${nullChecks})::text AS n FROM ${flat}`);
  eq('key_columns_not_null', nulls!.n!, 0, spec.notNullColumns.join(', '));
  for (const { column, values } of spec.acceptedValues) {
    const {
      rows: [bad],
    } = await pool.query<Counts>(`SELECT count(*)::text AS n FROM ${flat} WHERE NOT (${ident(column)} = ANY($1::text[]))`, [values]);
    eq(`accepted_values_${column}`, bad!.n!, 0, values.join(', '));
  }
  checks.push(...(await parkedObjectChecks(pool, input.stream, spec.flatTable)));
  checks.push(...(await fileSourceChecks(pool, input.stream)));

  return checks;
}
