// `etl lake`, `etl lake sync`, `etl lake export`: the Parquet lake (docs/lake.md) per stream, the
// catch-up of objects it is behind, and a copy of an event-date range of its live files.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CopyObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { lakeBehind } from '../../activities/lake/behind';
import { writeLakeNoting } from '../../activities/lake/activity';
import type { ActivityDeps } from '../../activities/deps';
import { lakeStreamPrefix } from '../../lib/lake';
import { streamNames } from '../../streams';
import { fmt, formatTable } from '../output';
import { LAKE_BEHIND } from '../../activities/lake/behind';

export interface LakeStreamSummary {
  stream: string;
  files: number;
  rows: number;
  bytes: number;
  /** First and last event date with a file (YYYY-MM-DD), null when the lake of the stream is empty. */
  fromDate: string | null;
  toDate: string | null;
  /** Loaded objects whose lake is behind their rows (or has keys an unfinished write left). */
  objectsBehind: number;
  /** Of those, the ones whose last lake write failed, with the first one's reason. */
  objectsFailed: number;
  lastFailure: string | null;
}

export async function lakeSummary(pool: pg.Pool, streams: readonly string[] = streamNames()): Promise<LakeStreamSummary[]> {
  const out: LakeStreamSummary[] = [];
  for (const stream of streams) {
    const { rows } = await pool.query<{ files: number; rows: string; bytes: string; from: string | null; to: string | null }>(
      `SELECT count(*)::int AS files, coalesce(sum(rows), 0)::text AS rows, coalesce(sum(bytes), 0)::text AS bytes,
              to_char(min(event_date), 'YYYY-MM-DD') AS from, to_char(max(event_date), 'YYYY-MM-DD') AS to
       FROM lake_files WHERE stream = $1 AND live`,
      [stream],
    );
    const { rows: behind } = await pool.query<{ n: number; failed: number; failure: string | null }>(
      `SELECT count(*)::int AS n, count(l.failure_code)::int AS failed,
              (array_agg(l.failure_code || ': ' || l.failure_message ORDER BY l.failed_at DESC) FILTER (WHERE l.failure_code IS NOT NULL))[1] AS failure
       FROM bronze_objects b LEFT JOIN lake_objects l ON l.bronze_object_id = b.id WHERE b.stream = $1 AND ${LAKE_BEHIND}`,
      [stream],
    );
    const r = rows[0]!;
    const b = behind[0]!;
    out.push({
      stream,
      files: r.files,
      rows: Number(r.rows),
      bytes: Number(r.bytes),
      fromDate: r.from,
      toDate: r.to,
      objectsBehind: b.n,
      objectsFailed: b.failed,
      lastFailure: b.failure,
    });
  }
  return out;
}

export function formatLakeSummary(rows: readonly LakeStreamSummary[]): string {
  const table = formatTable(
    ['stream', 'files', 'rows', 'bytes', 'event dates', 'objects behind'],
    rows.map((r) => [
      r.stream,
      fmt(r.files),
      fmt(r.rows),
      fmt(r.bytes),
      r.fromDate ? `${r.fromDate} .. ${r.toDate}` : '-',
      r.objectsFailed > 0 ? `${fmt(r.objectsBehind)} (${fmt(r.objectsFailed)} failed)` : fmt(r.objectsBehind),
    ]),
  );
  const notes = rows.filter((r) => r.lastFailure).map((r) => `${r.stream}: last lake failure ${r.lastFailure!.slice(0, 300)}`);
  const behind = rows.some((r) => r.objectsBehind > 0)
    ? ['objects behind are written by the next pipeline run, or now by `etl lake sync`']
    : [];
  return [table, ...notes, ...behind].join('\n');
}

export interface LakeSyncResult {
  stream: string;
  objectsWritten: number;
  objectsFailed: number;
  rows: number;
  files: number;
  failures: string[];
}

/**
 * Writes the lake of every loaded object of `stream` it is behind (or of those of `bronzeObjectIds`
 * only), here, one object at a time.
 */
export async function lakeSync(deps: ActivityDeps, stream: string, bronzeObjectIds?: readonly number[]): Promise<LakeSyncResult> {
  const result: LakeSyncResult = { stream, objectsWritten: 0, objectsFailed: 0, rows: 0, files: 0, failures: [] };
  for (let afterId = 0; ;) {
    const page = await lakeBehind(deps.pool, { stream, afterId, limit: 100, bronzeObjectIds });
    for (const { bronzeObjectId } of page) {
      try {
        const r = await writeLakeNoting(deps, { stream, bronzeObjectId });
        if (!r.upToDate) {
          result.objectsWritten++;
          result.rows += r.rows;
          result.files += r.files;
        }
      } catch (err) {
        result.objectsFailed++;
        if (result.failures.length < 5) result.failures.push(`#${bronzeObjectId}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (page.length < 100) return result;
    afterId = page.at(-1)!.bronzeObjectId;
  }
}

export interface LakeExportInput {
  stream: string;
  /** Inclusive event dates, YYYY-MM-DD. */
  from: string;
  to: string;
  /** A local directory, or s3://bucket/prefix/. */
  destination: string;
}

export interface LakeExportResult {
  stream: string;
  from: string;
  to: string;
  destination: string;
  files: number;
  rows: number;
  bytes: number;
}

/** Where an `s3://bucket/prefix` destination points; undefined for a local directory. */
export function s3Destination(destination: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(destination);
  if (!m) return undefined;
  const prefix = m[2] ?? '';
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/**
 * Copies the live lake files of `stream` with event dates in [from, to] to `destination`, keeping
 * the Hive layout below the stream (`event_date=…/….parquet`), so the copy is itself a lake.
 */
export async function lakeExport(deps: Pick<ActivityDeps, 'pool' | 's3' | 'config'>, input: LakeExportInput): Promise<LakeExportResult> {
  const { rows } = await deps.pool.query<{ object_key: string; rows: string; bytes: string }>(
    `SELECT object_key, rows::text, bytes::text FROM lake_files
     WHERE stream = $1 AND live AND event_date BETWEEN $2::date AND $3::date ORDER BY object_key`,
    [input.stream, input.from, input.to],
  );
  const base = lakeStreamPrefix(deps.config.S3_PREFIX, input.stream);
  const s3 = s3Destination(input.destination);
  for (const f of rows) {
    const rel = f.object_key.slice(base.length);
    if (s3) {
      await deps.s3.send(
        new CopyObjectCommand({
          Bucket: s3.bucket,
          Key: `${s3.prefix}${rel}`,
          CopySource: `${deps.config.S3_BUCKET}/${f.object_key.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
    } else {
      const target = path.join(input.destination, ...rel.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      const got = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.S3_BUCKET, Key: f.object_key }));
      await writeFile(target, await got.Body!.transformToByteArray());
    }
  }
  return {
    ...input,
    files: rows.length,
    rows: rows.reduce((n, f) => n + Number(f.rows), 0),
    bytes: rows.reduce((n, f) => n + Number(f.bytes), 0),
  };
}
