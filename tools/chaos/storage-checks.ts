// Kafka, the manifest and the bucket agree: the manifest's offset ranges tile each partition's
// [low, high) exactly (no gap, no overlap, nothing pending), the bronze objects and the Parquet lake
// files under the run's prefix are exactly the manifest's keys (orphans and missing objects are
// listed), and the lake holds each loaded object's flat rows (docs/lake.md), however the workers died.
import type { Clients } from '../../lib/clients';
import { withKafkaErrors } from '../../lib/kafka';
import { isParkedSql } from '../../lib/parked';
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import { check, type Check } from './check';
import { listKeys } from '../../test/support/isolation';

interface ManifestRow {
  kafka_partition: number;
  first_offset: string;
  last_offset: string;
  status: string;
  object_key: string | null;
}

export interface StorageFindings {
  checks: Check[];
  kafkaRecords: bigint;
  objects: number;
  orphans: string[];
}

/** Low and high watermark of each partition of the topic. */
export async function watermarks(clients: Clients, topic: string) {
  const admin = clients.kafka.admin();
  return withKafkaErrors(clients.config.KAFKA_BROKERS, async () => {
    await admin.connect();
    try {
      return await admin.fetchTopicOffsets(topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}

/**
 * Every partition is archived up to its high watermark, and every object is loaded or parked: a
 * parked object waits for `etl objects retry` and no further run would load it (reconcile.ts
 * reports it).
 */
export async function drained(clients: Clients, topic: string): Promise<boolean> {
  const marks = await watermarks(clients, topic);
  const { rows } = await clients.pool.query<{ kafka_partition: number; last: string; open: number }>(
    `SELECT kafka_partition, max(last_offset)::text AS last, count(*) FILTER (WHERE status <> 'archived' OR (loaded_at IS NULL AND NOT ${isParkedSql()}))::int AS open
     FROM bronze_objects WHERE topic = $1 GROUP BY kafka_partition`,
    [topic],
  );
  if (rows.some((r) => r.open > 0)) return false;
  return marks.every((m) => m.high === m.low || rows.find((r) => r.kafka_partition === m.partition)?.last === String(BigInt(m.high) - 1n));
}

function tiling(rows: readonly ManifestRow[], marks: Awaited<ReturnType<typeof watermarks>>): string[] {
  const problems: string[] = [];
  for (const m of marks) {
    let next = BigInt(m.low);
    for (const r of rows.filter((x) => x.kafka_partition === m.partition)) {
      const first = BigInt(r.first_offset);
      if (first !== next) problems.push(`partition ${m.partition}: ${first > next ? `gap ${next}-${first - 1n}` : `overlap at ${first}`}`);
      if (r.status !== 'archived') problems.push(`partition ${m.partition}: ${r.first_offset}-${r.last_offset} still ${r.status}`);
      next = BigInt(r.last_offset) + 1n;
    }
    if (next !== BigInt(m.high))
      problems.push(`partition ${m.partition}: manifest ends at ${next - 1n}, Kafka high watermark is ${m.high}`);
  }
  const known = new Set(marks.map((m) => m.partition));
  for (const r of rows) if (!known.has(r.kafka_partition)) problems.push(`partition ${r.kafka_partition} is not in the topic`);
  return problems;
}

function difference(a: readonly string[], b: ReadonlySet<string>): string[] {
  return a.filter((k) => !b.has(k));
}

export async function storageChecks(clients: Clients, topic: string, producedRecords: number): Promise<StorageFindings> {
  const { config, pool, s3 } = clients;
  const marks = await watermarks(clients, topic);
  const kafkaRecords = marks.reduce((sum, m) => sum + BigInt(m.high) - BigInt(m.low), 0n);
  const { rows } = await pool.query<ManifestRow>(
    `SELECT kafka_partition, first_offset::text, last_offset::text, status, object_key
     FROM bronze_objects b WHERE topic = $1 ORDER BY kafka_partition, b.first_offset`, // the bigint, not the text alias
    [topic],
  );
  const gaps = tiling(rows, marks);
  const bronze = await listKeys(s3, config.S3_BUCKET, `${config.S3_PREFIX}bronze/`);
  const silver = await listKeys(s3, config.S3_BUCKET, `${config.S3_PREFIX}silver/`);
  // Objects of file sources (migration 015) share the prefix: they are the manifest's too, not orphans.
  const { rows: fileRows } = await pool.query<Pick<ManifestRow, 'object_key'>>(
    "SELECT object_key FROM bronze_objects WHERE source_kind = 'file'",
  );
  const manifestBronze = new Set([...rows, ...fileRows].flatMap((r) => (r.object_key ? [r.object_key] : [])));
  const lake = await lakeFindings(clients, topic);
  const manifestSilver = lake.liveKeys;
  const orphans = [...difference(bronze, manifestBronze), ...difference(silver, manifestSilver)];
  const missingBronze = difference([...manifestBronze], new Set(bronze));
  const missingSilver = difference([...manifestSilver], new Set(silver));
  return {
    kafkaRecords,
    objects: rows.length,
    orphans,
    checks: [
      check('kafka_holds_every_produced_record', kafkaRecords, producedRecords),
      check('manifest_tiles_each_partition', gaps.length, 0, gaps),
      check('bronze_objects_equal_manifest', difference(bronze, manifestBronze).length + missingBronze.length, 0, [
        ...difference(bronze, manifestBronze).map((k) => `orphan ${k}`),
        ...missingBronze.map((k) => `missing ${k}`),
      ]),
      check('lake_files_equal_manifest', difference(silver, manifestSilver).length + missingSilver.length, 0, [
        ...difference(silver, manifestSilver).map((k) => `orphan ${k}`),
        ...missingSilver.map((k) => `missing ${k}`),
      ]),
      check('lake_rows_equal_flat_rows', lake.drift.length, 0, lake.drift),
    ],
  };
}

/** The live lake files of the topic's objects, and the loaded objects whose lake rows are not their flat rows. */
async function lakeFindings(clients: Clients, topic: string): Promise<{ liveKeys: Set<string>; drift: string[] }> {
  const { pool } = clients;
  const { rows: keys } = await pool.query<{ object_key: string }>(
    'SELECT f.object_key FROM lake_files f JOIN bronze_objects b ON b.id = f.bronze_object_id WHERE b.topic = $1 AND f.live',
    [topic],
  );
  const drift: string[] = [];
  const { rows: streams } = await pool.query<{ stream: string }>('SELECT DISTINCT stream FROM bronze_objects WHERE topic = $1', [topic]);
  for (const { stream } of streams) {
    const { rows } = await pool.query<{ id: number; flat: number; lake: number | null; behind: boolean }>(
      `WITH f AS (SELECT bronze_object_id AS id, count(*)::int AS n FROM ${ident(getStream(stream).flatTable)} GROUP BY 1),
            lf AS (SELECT bronze_object_id AS id, sum(rows)::int AS n FROM lake_files WHERE live GROUP BY 1)
       SELECT b.id::int, coalesce(f.n, 0) AS flat, lf.n AS lake, b.rows_version > coalesce(l.rows_version, 0) AS behind
       FROM bronze_objects b LEFT JOIN f ON f.id = b.id LEFT JOIN lf ON lf.id = b.id LEFT JOIN lake_objects l ON l.bronze_object_id = b.id
       WHERE b.topic = $1 AND b.loaded_at IS NOT NULL AND (b.rows_version > coalesce(l.rows_version, 0) OR coalesce(f.n, 0) <> coalesce(lf.n, 0))
       ORDER BY b.id`,
      [topic],
    );
    for (const r of rows) drift.push(`object ${r.id}: ${r.flat} flat rows, ${r.lake ?? 0} in the lake${r.behind ? ' (lake behind)' : ''}`);
  }
  return { liveKeys: new Set(keys.map((r) => r.object_key)), drift };
}
