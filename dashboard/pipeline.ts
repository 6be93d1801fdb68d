// The pipeline panel: what the loader did lately, read from its own bookkeeping tables. Loads are
// LEFT JOINed to bronze_objects: a load need not come from one bronze object (replays).
import type pg from 'pg';
import { temporalUiUrl, type Config } from '../lib/config';
import { listParked, type ParkedObject } from '../lib/parked';
import { driftSummaries, type DriftSummary } from '../lib/stream-drift';
import { getStream, streamNames } from '../streams';
import type { UndeclaredFields } from '../streams/types';

export interface RunRow {
  workflow_id: string;
  stream: string;
  objects: number;
  rows_in: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
  started_at: string;
  finished_at: string;
  checks: number;
  checks_passed: number;
  temporal_url?: string;
}
export interface LoadRow {
  load_id: number;
  stream: string;
  object_key: string | null;
  rows_in: number;
  inserted_count: number;
  duplicate_count: number;
  quarantined_count: number;
  workflow_id: string | null;
  loaded_at: string;
  temporal_url?: string | null;
}
export interface HourRow {
  hour: string;
  loaded: number;
  duplicates: number;
  quarantined: number;
}
export interface QualityRow {
  run_id: string;
  check_name: string;
  passed: boolean;
  observed: string | null;
  expected: string | null;
  details: string | null;
  checked_at: string;
}
export interface Totals {
  objects: number;
  pending_objects: number;
  unloaded_objects: number;
  records_archived: number;
  loaded_rows: number;
  quarantined: number;
  last_load_id: number | null;
  last_loaded_at: string | null;
}

/** A parked bronze object (lib/parked.ts), with a link to the run that parked it. */
export interface ParkedRow extends ParkedObject {
  temporal_url: string | null;
}

/** A stream's schema drift (lib/stream-drift.ts) and what its declaration does with undeclared fields. */
export interface DriftRow {
  stream: string;
  undeclaredFields: UndeclaredFields;
  /** Null: no record carried a field the stream does not declare. */
  drift: DriftSummary | null;
}

export interface PipelineState {
  totals: Totals;
  runs: RunRow[];
  loads: LoadRow[];
  perHour: HourRow[];
  quality: QualityRow[];
  parked: ParkedRow[];
  /** Every stream, in the registry's order. */
  drift: DriftRow[];
}

const PARKED_LISTED = 20;

const TOTALS_SQL = `
SELECT (SELECT count(*) FROM bronze_objects) AS objects,
       (SELECT count(*) FROM bronze_objects WHERE status = 'pending') AS pending_objects,
       (SELECT count(*) FROM bronze_objects WHERE status = 'archived' AND loaded_at IS NULL) AS unloaded_objects,
       (SELECT coalesce(sum(record_count), 0) FROM bronze_objects WHERE status = 'archived') AS records_archived,
       (SELECT coalesce(sum(inserted_count), 0) FROM loads) AS loaded_rows,
       (SELECT count(*) FROM quarantine) AS quarantined,
       (SELECT max(load_id) FROM loads) AS last_load_id,
       (SELECT to_char(max(loaded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM loads) AS last_loaded_at`;

const RUNS_SQL = `
SELECT l.workflow_id, l.stream, count(*)::int AS objects, sum(l.rows_in)::int AS rows_in, sum(l.inserted_count)::int AS inserted,
       sum(l.duplicate_count)::int AS duplicates, coalesce(sum(b.quarantined_count), 0)::int AS quarantined,
       to_char(min(l.loaded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started_at,
       to_char(max(l.loaded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at,
       coalesce(q.checks, 0) AS checks, coalesce(q.checks_passed, 0) AS checks_passed
FROM loads l
LEFT JOIN bronze_objects b ON b.id = l.bronze_object_id
LEFT JOIN (SELECT run_id, count(*) AS checks, count(*) FILTER (WHERE passed) AS checks_passed FROM quality_results GROUP BY run_id) q
  ON q.run_id = l.workflow_id
WHERE l.workflow_id IS NOT NULL
GROUP BY l.workflow_id, l.stream, q.checks, q.checks_passed
ORDER BY max(l.loaded_at) DESC
LIMIT 10`;

const LOADS_SQL = `
SELECT l.load_id, l.stream, b.object_key, l.rows_in, l.inserted_count, l.duplicate_count, coalesce(b.quarantined_count, 0) AS quarantined_count,
       l.workflow_id, to_char(l.loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS loaded_at
FROM loads l LEFT JOIN bronze_objects b ON b.id = l.bronze_object_id
ORDER BY l.load_id DESC
LIMIT 15`;

// The 48 hours up to the latest activity (not up to now), so a demo loaded yesterday still shows;
// every hour is present, with zeros, so gaps read as gaps.
const PER_HOUR_SQL = `
WITH bounds AS (
  SELECT date_trunc('hour', greatest((SELECT max(loaded_at) FROM loads), (SELECT max(quarantined_at) FROM quarantine)) AT TIME ZONE 'UTC') AS last_hour
), hours AS (
  SELECT generate_series(last_hour - interval '47 hours', last_hour, interval '1 hour') AS hour FROM bounds WHERE last_hour IS NOT NULL
), loaded AS (
  SELECT date_trunc('hour', loaded_at AT TIME ZONE 'UTC') AS hour, sum(inserted_count) AS loaded, sum(duplicate_count) AS duplicates
  FROM loads, bounds WHERE loaded_at >= (last_hour - interval '47 hours') AT TIME ZONE 'UTC' GROUP BY 1
), quarantined AS (
  SELECT date_trunc('hour', quarantined_at AT TIME ZONE 'UTC') AS hour, count(*) AS quarantined
  FROM quarantine, bounds WHERE quarantined_at >= (last_hour - interval '47 hours') AT TIME ZONE 'UTC' GROUP BY 1
)
SELECT to_char(h.hour, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS hour, coalesce(l.loaded, 0)::bigint AS loaded,
       coalesce(l.duplicates, 0)::bigint AS duplicates, coalesce(q.quarantined, 0)::bigint AS quarantined
FROM hours h LEFT JOIN loaded l USING (hour) LEFT JOIN quarantined q USING (hour)
ORDER BY h.hour`;

const QUALITY_SQL = `
SELECT run_id, check_name, passed, observed, expected, details, to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS checked_at
FROM quality_results
WHERE run_id = (SELECT run_id FROM quality_results ORDER BY checked_at DESC, id DESC LIMIT 1)
ORDER BY id`;

export async function pipelineState(pool: pg.Pool, cfg: Config): Promise<PipelineState> {
  const streams = streamNames();
  const [totals, runs, loads, perHour, quality, parked, drift] = await Promise.all([
    pool.query<Totals>(TOTALS_SQL),
    pool.query<RunRow>(RUNS_SQL),
    pool.query<LoadRow>(LOADS_SQL),
    pool.query<HourRow>(PER_HOUR_SQL),
    pool.query<QualityRow>(QUALITY_SQL),
    listParked(pool, { limit: PARKED_LISTED }),
    driftSummaries(pool, streams),
  ]);
  return {
    totals: totals.rows[0]!,
    runs: runs.rows.map((r) => ({ ...r, temporal_url: temporalUiUrl(cfg, r.workflow_id) })),
    loads: loads.rows.map((r) => ({ ...r, temporal_url: r.workflow_id ? temporalUiUrl(cfg, r.workflow_id) : null })),
    perHour: perHour.rows,
    quality: quality.rows,
    parked: parked.map((p) => ({ ...p, temporal_url: p.workflowId ? temporalUiUrl(cfg, p.workflowId) : null })),
    drift: streams.map((stream) => ({
      stream,
      undeclaredFields: getStream(stream).undeclaredFields,
      drift: drift.find((d) => d.stream === stream) ?? null,
    })),
  };
}
