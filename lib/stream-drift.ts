// Reading schema drift back: the fields records carried that their stream does not declare, as each
// load recorded them (load_drift, migrations/022_load_drift.sql; counted by streams/drift.ts). One
// source for `etl stream drift`, `etl status` and the dashboard's pipeline panel.
import type pg from 'pg';

/** An undeclared field of a stream, over every load that saw it. */
export interface DriftField {
  field: string;
  /** Records that carried it, over all loads. */
  records: number;
  /** Loads (bronze objects) in which it was seen. */
  loads: number;
  /** When the first load that saw it committed, and where in its bronze object it was first seen. */
  firstSeenAt: string;
  firstSeen: { bronzeObjectId: number; objectKey: string | null; partition: number; offset: string };
  lastSeenAt: string;
}

/** A stream's drift in one line's worth. */
export interface DriftSummary {
  stream: string;
  /** Distinct undeclared fields. */
  fields: number;
  /** Records that carried any undeclared field. */
  records: number;
  /** Up to 5 fields, the most frequent first. */
  names: string[];
  lastSeenAt: string;
}

const FIELDS_SQL = `
WITH d AS (
  SELECT d.field, d.records, d.bronze_object_id, d.first_partition, d.first_offset, l.load_id, l.loaded_at
  FROM load_drift d JOIN loads l USING (load_id)
  WHERE d.stream = $1
), firsts AS (
  SELECT DISTINCT ON (field) field, bronze_object_id, first_partition, first_offset, loaded_at
  FROM d ORDER BY field, loaded_at, load_id
), totals AS (
  SELECT field, sum(records)::bigint AS records, count(*)::int AS loads, max(loaded_at) AS last_seen FROM d GROUP BY field
)
SELECT t.field, t.records::text, t.loads, to_char(f.loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS first_seen_at,
       to_char(t.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_seen_at,
       f.bronze_object_id::text, b.object_key, f.first_partition, f.first_offset::text
FROM totals t JOIN firsts f USING (field) LEFT JOIN bronze_objects b ON b.id = f.bronze_object_id
ORDER BY f.loaded_at DESC, t.field
LIMIT $2`;

/** The undeclared fields of `stream`, the newest first (by when first seen), at most `limit`. */
export async function streamDrift(db: pg.Pool | pg.PoolClient, stream: string, limit: number): Promise<DriftField[]> {
  const { rows } = await db.query<{
    field: string;
    records: string;
    loads: number;
    first_seen_at: string;
    last_seen_at: string;
    bronze_object_id: string;
    object_key: string | null;
    first_partition: number;
    first_offset: string;
  }>(FIELDS_SQL, [stream, limit]);
  return rows.map((r) => ({
    field: r.field,
    records: Number(r.records),
    loads: r.loads,
    firstSeenAt: r.first_seen_at,
    firstSeen: {
      bronzeObjectId: Number(r.bronze_object_id),
      objectKey: r.object_key,
      partition: r.first_partition,
      offset: r.first_offset,
    },
    lastSeenAt: r.last_seen_at,
  }));
}

const SUMMARY_SQL = `
WITH f AS (
  SELECT d.stream, d.field, sum(d.records) AS records, max(l.loaded_at) AS last_seen
  FROM load_drift d JOIN loads l USING (load_id)
  WHERE d.stream = ANY($1::text[])
  GROUP BY d.stream, d.field
), r AS (
  SELECT stream, sum(undeclared_records) AS records
  FROM loads WHERE undeclared_records > 0 AND stream = ANY($1::text[]) GROUP BY stream
)
SELECT s.stream, count(*)::int AS fields, coalesce(max(r.records), 0)::text AS records,
       to_char(max(s.last_seen) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_seen_at,
       (array_agg(s.field ORDER BY s.records DESC, s.field))[1:5] AS names
FROM f s LEFT JOIN r USING (stream)
GROUP BY s.stream
ORDER BY s.stream`;

/** The drift of each of `streams` that has any (a stream without drift has no summary). */
export async function driftSummaries(db: pg.Pool | pg.PoolClient, streams: readonly string[]): Promise<DriftSummary[]> {
  const { rows } = await db.query<{ stream: string; fields: number; records: string; last_seen_at: string; names: string[] }>(SUMMARY_SQL, [
    streams,
  ]);
  return rows.map((r) => ({
    stream: r.stream,
    fields: r.fields,
    records: Number(r.records),
    names: r.names,
    lastSeenAt: r.last_seen_at,
  }));
}
