// The file source's rows in the manifest: versions of files (source_files) and the bronze objects
// each is split into (bronze_objects rows with source_kind 'file', migration 015).
import type pg from 'pg';
import { EtlError } from '../../lib/errors';
import type { FileFormat } from './format';

export interface FileVersion {
  id: number;
  stream: string;
  location: string;
  identity: string;
  version: number;
  format: FileFormat;
  compression: 'none' | 'gzip';
  size_bytes: string;
  modified_at: Date;
  etag: string | null;
  status: 'new' | 'read' | 'failed';
  record_count: string | null;
  object_count: number | null;
  error_code: string | null;
  error_message: string | null;
}

export async function fileVersion(pool: pg.Pool, id: number): Promise<FileVersion | undefined> {
  const { rows } = await pool.query<FileVersion>('SELECT * FROM source_files WHERE id = $1', [id]);
  return rows[0];
}

export interface NewVersion {
  location: string;
  identity: string;
  format: FileFormat;
  compression: 'none' | 'gzip';
  size: number;
  modifiedMs: number;
  etag?: string;
  sha256?: string;
}

/**
 * Registers a page of versions of one stream in one transaction: each as the next number of its
 * location unless its identity is known. Returns each one's row (in the input's order) and whether
 * this call created it.
 */
export async function registerVersions(
  pool: pg.Pool,
  stream: string,
  workflowId: string | undefined,
  versions: readonly NewVersion[],
): Promise<{ row: FileVersion; created: boolean }[]> {
  if (versions.length === 0) return [];
  const col = <K extends keyof NewVersion>(k: K) => versions.map((v) => v[k] ?? null);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One registration per location at a time, so version numbers follow each other (locks taken in one order: no deadlock).
    await client.query(
      'SELECT pg_advisory_xact_lock(hashtext(l)) FROM (SELECT DISTINCT $1 || l AS l FROM unnest($2::text[]) l ORDER BY 1) x',
      [`etl.files.${stream}.`, col('location')],
    );
    const { rows: created } = await client.query<FileVersion>(
      `INSERT INTO source_files (stream, location, identity, version, format, compression, size_bytes, modified_at, etag, content_sha256, discovered_by)
       SELECT $1, v.location, v.identity,
              coalesce((SELECT max(version) FROM source_files f WHERE f.stream = $1 AND f.location = v.location), 0) + 1,
              v.format, v.compression, v.size, to_timestamp(v.modified_ms / 1000), v.etag, v.sha256, $10
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::double precision[], $8::text[], $9::text[])
            AS v(location, identity, format, compression, size, modified_ms, etag, sha256)
       WHERE NOT EXISTS (SELECT 1 FROM source_files f WHERE f.stream = $1 AND f.location = v.location AND f.identity = v.identity)
       RETURNING *`,
      [
        stream,
        col('location'),
        col('identity'),
        col('format'),
        col('compression'),
        col('size'),
        col('modifiedMs'),
        col('etag'),
        col('sha256'),
        workflowId ?? null,
      ],
    );
    const { rows: all } = await client.query<FileVersion>(
      'SELECT f.* FROM source_files f JOIN unnest($2::text[], $3::text[]) AS v(location, identity) USING (location, identity) WHERE f.stream = $1',
      [stream, col('location'), col('identity')],
    );
    await client.query('COMMIT');
    const made = new Set(created.map((r) => r.id));
    const byKey = new Map(all.map((r) => [`${r.location}\n${r.identity}`, r]));
    return versions.map((v) => {
      const row = byKey.get(`${v.location}\n${v.identity}`)!;
      return { row, created: made.has(row.id) };
    });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Local files' versions known by their size and mtime (by location): their content need not be hashed again. */
export async function versionsByStat(
  pool: pg.Pool,
  stream: string,
  files: readonly { location: string; size: number; modifiedMs: number }[],
) {
  const { rows } = await pool.query<FileVersion>(
    `SELECT DISTINCT ON (f.location) f.* FROM source_files f
     JOIN unnest($2::text[], $3::bigint[], $4::double precision[]) AS v(location, size, modified_ms)
       ON f.location = v.location AND f.size_bytes = v.size AND f.modified_at = to_timestamp(v.modified_ms / 1000)
     WHERE f.stream = $1
     ORDER BY f.location, f.version DESC`,
    [stream, files.map((f) => f.location), files.map((f) => f.size), files.map((f) => f.modifiedMs)],
  );
  return new Map(rows.map((r) => [r.location, r]));
}

export interface FileObjectRow {
  id: number;
  first: number;
  last: number;
  status: 'pending' | 'archived';
}

export async function objectsOfVersion(pool: pg.Pool, fileId: number): Promise<FileObjectRow[]> {
  const { rows } = await pool.query<{ id: string; first_offset: string; last_offset: string; status: 'pending' | 'archived' }>(
    'SELECT id, first_offset, last_offset, status FROM bronze_objects WHERE source_file_id = $1 ORDER BY first_offset',
    [fileId],
  );
  return rows.map((r) => ({ id: Number(r.id), first: Number(r.first_offset), last: Number(r.last_offset), status: r.status }));
}

/** Plans lines [first, last] of a file version as a pending object; the guard keeps ranges disjoint. */
export async function planFileRange(
  pool: pg.Pool,
  stream: string,
  topic: string,
  fileId: number,
  first: number,
  last: number,
): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO bronze_objects (stream, topic, kafka_partition, first_offset, last_offset, source_kind, source_file_id)
     SELECT $1, $2, $3, $4, $5, 'file', $3
     WHERE NOT EXISTS (SELECT 1 FROM bronze_objects WHERE topic = $2 AND kafka_partition = $3 AND last_offset >= $4)
     ON CONFLICT (topic, kafka_partition, first_offset) DO NOTHING
     RETURNING id`,
    [stream, topic, fileId, first, last],
  );
  if (!rows[0])
    throw new EtlError('ARCHIVE_BUSY', `lines ${first}-${last} of file version ${fileId} were planned by another reader; retrying`);
  return Number(rows[0].id);
}

export async function markVersionRead(pool: pg.Pool, fileId: number, linesRead: number, compression: 'none' | 'gzip'): Promise<void> {
  await pool.query(
    `UPDATE source_files SET status = 'read', lines_read = $2, compression = $3, read_at = now(),
       record_count = (SELECT coalesce(sum(record_count), 0) FROM bronze_objects WHERE source_file_id = $1),
       object_count = (SELECT count(*) FROM bronze_objects WHERE source_file_id = $1)
     WHERE id = $1 AND status = 'new'`,
    [fileId, linesRead, compression],
  );
}

export async function markVersionFailed(pool: pg.Pool, fileId: number, code: string, message: string, linesRead: number): Promise<void> {
  await pool.query(
    `UPDATE source_files SET status = 'failed', error_code = $2, error_message = $3, lines_read = $4, read_at = now(),
       record_count = (SELECT coalesce(sum(record_count), 0) FROM bronze_objects WHERE source_file_id = $1),
       object_count = (SELECT count(*) FROM bronze_objects WHERE source_file_id = $1)
     WHERE id = $1 AND status = 'new'`,
    [fileId, code, message.slice(0, 2000), linesRead],
  );
}

/** A version given up before its read ended: failed, after the lines its archived objects hold. */
export async function giveUpVersion(pool: pg.Pool, fileId: number, code: string, message: string): Promise<void> {
  const { rows } = await pool.query<{ lines: string }>(
    "SELECT coalesce(max(last_offset) + 1, 0) AS lines FROM bronze_objects WHERE source_file_id = $1 AND status = 'archived'",
    [fileId],
  );
  await markVersionFailed(pool, fileId, code, message, Number(rows[0]!.lines));
}

/** Versions registered and not read yet, oldest first: the file source's work queue. */
export async function unreadVersions(pool: pg.Pool, stream: string, limit: number, afterId = 0) {
  const { rows } = await pool.query<{ id: number; location: string; size_bytes: string }>(
    "SELECT id, location, size_bytes FROM source_files WHERE stream = $1 AND status = 'new' AND id > $3 ORDER BY id LIMIT $2",
    [stream, limit, afterId],
  );
  return rows.map((r) => ({ unitId: r.id, location: r.location, bytes: Number(r.size_bytes) }));
}
