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
  stream: string;
  location: string;
  identity: string;
  format: FileFormat;
  compression: 'none' | 'gzip';
  size: number;
  modifiedMs: number;
  etag?: string;
  sha256?: string;
  workflowId?: string;
}

/** Registers a version (the next number of its location) unless its identity is known; returns the row either way. */
export async function registerVersion(pool: pg.Pool, v: NewVersion): Promise<{ row: FileVersion; created: boolean }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One registration per location at a time, so version numbers follow each other.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`etl.files.${v.stream}.${v.location}`]);
    const known = await client.query<FileVersion>('SELECT * FROM source_files WHERE stream = $1 AND location = $2 AND identity = $3', [
      v.stream,
      v.location,
      v.identity,
    ]);
    if (known.rows[0]) {
      await client.query('COMMIT');
      return { row: known.rows[0], created: false };
    }
    const { rows } = await client.query<FileVersion>(
      `INSERT INTO source_files (stream, location, identity, version, format, compression, size_bytes, modified_at, etag, content_sha256, discovered_by)
       SELECT $1, $2, $3, coalesce((SELECT max(version) FROM source_files WHERE stream = $1 AND location = $2), 0) + 1,
              $4, $5, $6, to_timestamp($7::double precision / 1000), $8, $9, $10
       RETURNING *`,
      [
        v.stream,
        v.location,
        v.identity,
        v.format,
        v.compression,
        v.size,
        v.modifiedMs,
        v.etag ?? null,
        v.sha256 ?? null,
        v.workflowId ?? null,
      ],
    );
    await client.query('COMMIT');
    return { row: rows[0]!, created: true };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A local file's version known by its size and mtime: its content need not be hashed again. */
export async function versionByStat(pool: pg.Pool, stream: string, location: string, size: number, modifiedMs: number) {
  const { rows } = await pool.query<FileVersion>(
    `SELECT * FROM source_files WHERE stream = $1 AND location = $2 AND size_bytes = $3 AND modified_at = to_timestamp($4::double precision / 1000)
     ORDER BY version DESC LIMIT 1`,
    [stream, location, size, modifiedMs],
  );
  return rows[0];
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
