// What PostgreSQL knows of the search sink (migration 017): per stream, the rows loaded but not yet
// indexed at their current version (the lag), and the documents the index refused. Read by
// `etl status`, `etl search`, the dashboard and the worker's metrics; written by activities/search.
import type pg from 'pg';
import { ident } from './sql';

export interface SearchLag {
  stream: string;
  /** Flat rows of objects whose rows_version the sink has not indexed yet. */
  rowsBehind: number;
  objectsBehind: number;
  /** Documents the index holds per the sink's own accounting, and those it refused (still refused). */
  docsIndexed: number;
  docsRejected: number;
  /** When the sink last indexed an object of this stream; null: never. */
  lastIndexedAt: string | null;
}

/** One stream's lag: `flatTable` is the stream's flat table (streams/ knows it; lib/ does not). */
export async function searchLag(pool: pg.Pool, stream: string, flatTable: string): Promise<SearchLag> {
  const { rows } = await pool.query<{ objects: number; rows: string | null }>(
    `WITH behind AS (
       SELECT bo.id FROM bronze_objects bo LEFT JOIN search_index_state s ON s.bronze_object_id = bo.id
       WHERE bo.stream = $1 AND bo.rows_version > coalesce(s.indexed_version, 0))
     SELECT (SELECT count(*) FROM behind)::int AS objects,
            (SELECT count(*) FROM ${ident(flatTable)} f WHERE f.bronze_object_id IN (SELECT id FROM behind))::bigint AS rows`,
    [stream],
  );
  const totals = await pool.query<{ indexed: string; rejected: string; last: Date | null }>(
    `SELECT coalesce(sum(docs_indexed), 0)::bigint AS indexed,
            (SELECT count(*) FROM search_rejections r WHERE r.stream = $1)::bigint AS rejected,
            max(indexed_at) AS last
     FROM search_index_state WHERE stream = $1`,
    [stream],
  );
  const t = totals.rows[0]!;
  return {
    stream,
    rowsBehind: Number(rows[0]?.rows ?? 0),
    objectsBehind: rows[0]?.objects ?? 0,
    docsIndexed: Number(t.indexed),
    docsRejected: Number(t.rejected),
    lastIndexedAt: t.last ? t.last.toISOString() : null,
  };
}

export interface SearchRejection {
  stream: string;
  bronzeObjectId: number;
  docId: string;
  rowsVersion: number;
  httpStatus: number;
  errorType: string;
  reason: string;
  rejectedAt: string;
}

/** The documents the index refused, newest first. */
export async function listRejections(pool: pg.Pool, stream: string | undefined, limit: number): Promise<SearchRejection[]> {
  const { rows } = await pool.query<{
    stream: string;
    bronze_object_id: string;
    doc_id: string;
    rows_version: number;
    http_status: number;
    error_type: string;
    reason: string;
    rejected_at: Date;
  }>(
    `SELECT stream, bronze_object_id, doc_id, rows_version, http_status, error_type, reason, rejected_at
     FROM search_rejections WHERE ($1::text IS NULL OR stream = $1)
     ORDER BY rejected_at DESC, bronze_object_id, doc_id LIMIT $2`,
    [stream ?? null, limit],
  );
  return rows.map((r) => ({
    stream: r.stream,
    bronzeObjectId: Number(r.bronze_object_id),
    docId: r.doc_id,
    rowsVersion: r.rows_version,
    httpStatus: r.http_status,
    errorType: r.error_type,
    reason: r.reason,
    rejectedAt: r.rejected_at.toISOString(),
  }));
}
