// After the pipeline drained: every produced transaction_id is in transactions_flat exactly once
// (with its values) or in quarantine exactly once (with the reason its kind must get), raw = flat,
// re-sent events were counted as duplicates, each object was loaded once, lineage points at the
// right object, and Kafka, the manifest and the bucket agree (storage-checks.ts).
// The expectation is regenerated from the seed and loaded into a temp table, so the comparison is
// a set of joins in PostgreSQL, not a million look-ups from here.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { QualityResult } from '../../activities';
import type { Clients } from '../../lib/clients';
import { isParkedSql, listParked } from '../../lib/parked';
import { describeParked } from '../../shared/parked';
import { check, type Check } from './check';
import { expectedRows, type MixPlan } from './produce-mix';
import { storageChecks } from './storage-checks';

export interface Reconciliation {
  checks: Check[];
  kafkaRecords: number;
  objects: number;
  loaded: number;
  raw: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  deduplicated: number;
  orphans: string[];
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function* expectedCopyText(plan: MixPlan): Generator<string> {
  let chunk: string[] = [];
  for (const r of expectedRows(plan)) {
    chunk.push(`${r.id}\t${r.kind}\t${r.reason ?? '\\N'}\t${r.amount}\t${r.userId}\n`);
    if (chunk.length === 5_000) {
      yield chunk.join('');
      chunk = [];
    }
  }
  yield chunk.join('');
}

async function loadExpectation(client: pg.PoolClient, plan: MixPlan, stream: string): Promise<void> {
  await client.query(`CREATE TEMP TABLE chaos_expected (transaction_id uuid PRIMARY KEY, kind text NOT NULL, reason_code text,
    amount numeric(12,2) NOT NULL, user_id bigint NOT NULL)`);
  await pipeline(Readable.from(expectedCopyText(plan)), client.query(copyFrom('COPY chaos_expected FROM STDIN')));
  await client.query('ANALYZE chaos_expected');
  // Bad records carry their transaction_id as the first UUID of the payload (malformed ones too).
  await client.query('CREATE TEMP TABLE chaos_quarantined (transaction_id uuid, reason_code text NOT NULL)');
  await client.query(
    'INSERT INTO chaos_quarantined SELECT substring(payload from $2)::uuid, reason_code FROM quarantine WHERE stream = $1',
    [stream, UUID],
  );
}

/** A count and a few examples from one query returning rows of `(n int, examples text[])`. */
async function offending(client: pg.PoolClient, sql: string): Promise<{ n: number; examples: string[] }> {
  const { rows } = await client.query<{ n: number; examples: string[] | null }>(sql);
  return { n: rows[0]?.n ?? 0, examples: rows[0]?.examples ?? [] };
}

async function rowChecks(client: pg.PoolClient, plan: MixPlan, topic: string): Promise<{ checks: Check[]; deduplicated: number }> {
  const checks: Check[] = [];
  const add = async (name: string, sql: string) => {
    const r = await offending(client, sql);
    checks.push(check(name, r.n, 0, r.examples));
  };
  await add(
    'every_good_event_in_flat',
    `SELECT count(*)::int AS n, (array_agg(e.transaction_id::text))[1:5] AS examples
    FROM chaos_expected e LEFT JOIN transactions_flat f USING (transaction_id) WHERE e.kind = 'good' AND f.transaction_id IS NULL`,
  );
  await add(
    'no_unexpected_flat_rows',
    `SELECT count(*)::int AS n, (array_agg(f.transaction_id::text))[1:5] AS examples
    FROM transactions_flat f LEFT JOIN chaos_expected e ON e.transaction_id = f.transaction_id AND e.kind = 'good' WHERE e.transaction_id IS NULL`,
  );
  await add(
    'flat_values_match_events',
    `SELECT count(*)::int AS n, (array_agg(f.transaction_id::text))[1:5] AS examples
    FROM transactions_flat f JOIN chaos_expected e USING (transaction_id) WHERE f.amount <> e.amount OR f.user_id <> e.user_id`,
  );
  await add(
    'raw_equals_flat',
    `SELECT count(*)::int AS n, (array_agg(coalesce(r.transaction_id, f.transaction_id)::text))[1:5] AS examples
    FROM raw_transactions r FULL JOIN transactions_flat f USING (transaction_id) WHERE r.transaction_id IS NULL OR f.transaction_id IS NULL`,
  );
  await add(
    'every_bad_record_quarantined_once',
    `SELECT count(*)::int AS n, (array_agg(e.transaction_id::text || ' x' || coalesce(q.n, 0)))[1:5] AS examples
    FROM chaos_expected e LEFT JOIN (SELECT transaction_id, count(*) AS n FROM chaos_quarantined GROUP BY 1) q USING (transaction_id)
    WHERE e.kind = 'bad' AND coalesce(q.n, 0) <> 1`,
  );
  await add(
    'quarantine_reasons_as_expected',
    `SELECT count(*)::int AS n, (array_agg(q.transaction_id::text || ' ' || q.reason_code || ' not ' || e.reason_code))[1:5] AS examples
    FROM chaos_quarantined q JOIN chaos_expected e USING (transaction_id) WHERE q.reason_code <> e.reason_code`,
  );
  await add(
    'no_unexpected_quarantine_rows',
    `SELECT count(*)::int AS n, (array_agg(coalesce(q.transaction_id::text, '(no id)')))[1:5] AS examples
    FROM chaos_quarantined q LEFT JOIN chaos_expected e ON e.transaction_id = q.transaction_id AND e.kind = 'bad' WHERE e.transaction_id IS NULL`,
  );
  await add(
    'no_id_both_loaded_and_quarantined',
    `SELECT count(*)::int AS n, (array_agg(q.transaction_id::text))[1:5] AS examples
    FROM chaos_quarantined q JOIN transactions_flat f USING (transaction_id)`,
  );

  const objects = await client.query<{ n: number; examples: string[] | null }>(
    `SELECT count(*)::int AS n, (array_agg(b.id::text))[1:5] AS examples
     FROM bronze_objects b LEFT JOIN loads l ON l.bronze_object_id = b.id
     WHERE b.topic = $1 AND (l.load_id IS NULL OR b.load_id IS DISTINCT FROM l.load_id OR b.loaded_at IS NULL
       OR b.record_count <> b.valid_count + b.quarantined_count
       OR b.valid_count <> b.inserted_count + b.duplicate_count + b.conflict_count + b.rejected_count)`,
    [topic],
  );
  checks.push(check('every_object_loaded_once_and_balanced', objects.rows[0]!.n, 0, objects.rows[0]!.examples ?? []));
  // A parked object (its transform or load failed for good) is not lost: its offsets tile the
  // partition and its records wait in bronze. But nothing in the harness's mix should park one.
  const parked = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM bronze_objects WHERE topic = $1 AND ${isParkedSql()}`, [
    topic,
  ]);
  const named = (await listParked(client, { topic, limit: 5 })).map((p) => describeParked(p));
  checks.push(check('no_object_parked', parked.rows[0]!.n, 0, named));
  await add(
    'lineage_points_into_its_object',
    `SELECT count(*)::int AS n, (array_agg(x.what))[1:5] AS examples FROM (
      SELECT 'flat ' || f.transaction_id AS what FROM transactions_flat f LEFT JOIN bronze_objects b ON b.id = f.bronze_object_id
      WHERE b.id IS NULL OR f.kafka_partition <> b.kafka_partition OR f.kafka_offset NOT BETWEEN b.first_offset AND b.last_offset OR f.load_id <> b.load_id
      UNION ALL
      SELECT 'quarantine ' || q.id FROM quarantine q LEFT JOIN bronze_objects b ON b.id = q.bronze_object_id
      WHERE b.id IS NULL OR q.kafka_partition <> b.kafka_partition OR q.kafka_offset NOT BETWEEN b.first_offset AND b.last_offset) x`,
  );

  const {
    rows: [d],
  } = await client.query<{ dups: number; loads_dups: number }>(
    `SELECT coalesce(sum(duplicate_count), 0)::int AS dups, (SELECT coalesce(sum(duplicate_count), 0)::int FROM loads) AS loads_dups
     FROM bronze_objects WHERE topic = $1`,
    [topic],
  );
  checks.push(check('duplicates_counted', `${d!.dups} (loads: ${d!.loads_dups})`, `${plan.dup} (loads: ${plan.dup})`));
  return { checks, deduplicated: d!.dups };
}

export async function reconcile(
  clients: Clients,
  plan: MixPlan,
  stream: string,
  topic: string,
  quality: QualityResult | undefined,
  failedQualityRuns: number,
): Promise<Reconciliation> {
  const storage = await storageChecks(clients, topic, plan.events);
  const client = await clients.pool.connect();
  try {
    await loadExpectation(client, plan, stream);
    const rows = await rowChecks(client, plan, topic);
    const checks = [...storage.checks, ...rows.checks];
    const { deduplicated } = rows;
    const {
      rows: [t],
    } = await client.query<{ flat: number; raw: number; archived: number }>(
      `SELECT (SELECT count(*) FROM transactions_flat)::int AS flat, (SELECT count(*) FROM raw_transactions)::int AS raw,
              (SELECT coalesce(sum(record_count), 0) FROM bronze_objects WHERE topic = $1)::int AS archived`,
      [topic],
    );
    const { rows: reasons } = await client.query<{ reason_code: string; n: number }>(
      'SELECT reason_code, count(*)::int AS n FROM quarantine WHERE stream = $1 GROUP BY 1 ORDER BY 1',
      [stream],
    );
    const quarantined = reasons.reduce((s, r) => s + r.n, 0);
    checks.push(
      check('archived_records_equal_produced', t!.archived, plan.events),
      check('flat_rows_equal_good_events', t!.flat, plan.good),
      check('flat_plus_quarantined_plus_duplicates_equal_produced', t!.flat + quarantined + deduplicated, plan.events),
      check(
        'quality_checks_of_last_run_passed',
        quality ? `${quality.checks.filter((c) => c.passed).length}/${quality.checks.length}` : 'no completed run',
        quality ? `${quality.checks.length}/${quality.checks.length}` : 'a completed run',
        quality?.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.observed} (expected ${c.expected})`),
      ),
      check('runs_with_failed_quality_checks', failedQualityRuns, 0),
    );
    return {
      checks,
      kafkaRecords: Number(storage.kafkaRecords),
      objects: storage.objects,
      loaded: t!.flat,
      raw: t!.raw,
      quarantined,
      quarantinedByReason: Object.fromEntries(reasons.map((r) => [r.reason_code, r.n])),
      deduplicated,
      orphans: storage.orphans,
    };
  } finally {
    await client.query('DROP TABLE IF EXISTS chaos_expected, chaos_quarantined').catch(() => undefined);
    client.release();
  }
}
