// The lake write of one bronze object (docs/lake.md): its committed flat rows, read with the object's
// rows_version in one REPEATABLE READ snapshot, become one Parquet file per event date at keys named
// after the object, and the manifest (lake_files, lake_objects, migration 016) records them.
// Order of a write, under a per-object advisory lock so two writers of an object take turns:
//   1. snapshot: rows_version + the rows (COPY to a local CSV); up to date already -> done;
//   2. the keys about to be written are recorded as not live (a crash after the PUT leaves a key the
//      manifest knows, and the next write of the object deletes it if it is no longer wanted);
//   3. Parquet files written locally (parquet.ts) and PUT to S3 (each PUT is atomic: a reader sees
//      the old file or the new one, never part of one);
//   4. one transaction makes the new set live, the object's other keys not live, and records the version;
//   5. the keys no longer live are deleted from S3, then from the manifest.
// Every step is safe to repeat, so a retry after a crash anywhere converges on the same files.
import { readFile, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { lakeKeyFor } from '../../lib/lake';
import { OBJECT_LOCK_KEY } from '../../lib/postgres';
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import type { ActivityDeps } from '../deps';
import { EVENT_DATE, writeParquetByDate, type LakeColumn } from './parquet';

export interface LakeWriteInput {
  stream: string;
  bronzeObjectId: number;
}

export interface LakeWriteResult {
  bronzeObjectId: number;
  /** The lake held this object's rows_version already: nothing was written. */
  upToDate: boolean;
  /** The version now in the lake (0: the object is not loaded, so it has no rows to hold). */
  rowsVersion: number;
  rows: number;
  files: number;
  bytes: number;
  /** Keys deleted: event dates the object no longer has, or keys an interrupted write left. */
  removed: number;
}

/** The flat table's columns in table order, with their exact types (resolved through search_path). */
export async function flatColumns(db: pg.PoolClient | pg.Pool, flatTable: string): Promise<LakeColumn[]> {
  const { rows } = await db.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [flatTable],
  );
  return rows.map((r) => ({ name: r.name, pgType: r.type }));
}

/** The partition of a flat row: its event_date column when the stream has one, else the UTC date of its event time. */
export function partitionExpression(columns: readonly LakeColumn[], eventTimeColumn: string): string {
  return columns.some((c) => c.name === 'event_date') ? 'event_date' : `(${ident(eventTimeColumn)} AT TIME ZONE 'UTC')::date`;
}

/** Columns of the files: every flat column but the partition column, which the path carries (Hive layout). */
export const fileColumns = (columns: readonly LakeColumn[]) => columns.filter((c) => c.name !== 'event_date');

interface Snapshot {
  rowsVersion: number;
  objectKey: string;
  /** The version the lake holds, and whether keys of an unfinished write are left. */
  lakeVersion: number;
  leftovers: number;
  rows: number;
}

const lockKey = (id: number) => `etl.lake.${id}`;

export async function writeLakeObject(deps: ActivityDeps, input: LakeWriteInput): Promise<LakeWriteResult> {
  const { pool, config } = deps;
  const spec = getStream(input.stream);
  const id = Number(input.bronzeObjectId);
  if (!Number.isSafeInteger(id)) throw new Error(`not a bronze object id: ${input.bronzeObjectId}`);
  // The CSV and the Parquet files live where the process's DuckDB may read and write (lib/duckdb.ts).
  const dir = await deps.duckdb.workDir(`lake-${id}-`);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(`SELECT pg_advisory_lock(${OBJECT_LOCK_KEY})`, [lockKey(id)]);
    try {
      const columns = await flatColumns(client, spec.flatTable);
      const csv = path.join(dir, 'rows.csv');
      const snap = await readSnapshot(client, input.stream, id, columns, spec, csv);
      const nothing = { bronzeObjectId: id, rows: snap?.rows ?? 0, files: 0, bytes: 0, removed: 0 };
      if (!snap) return { ...nothing, upToDate: true, rowsVersion: 0 };
      if (snap.lakeVersion >= snap.rowsVersion && snap.leftovers === 0) {
        const { rows } = await client.query<{ files: number; bytes: string }>(
          'SELECT count(*)::int AS files, coalesce(sum(bytes), 0)::text AS bytes FROM lake_files WHERE bronze_object_id = $1 AND live',
          [id],
        );
        return { ...nothing, upToDate: true, rowsVersion: snap.lakeVersion, files: rows[0]!.files, bytes: Number(rows[0]!.bytes) };
      }
      const files =
        snap.rows === 0
          ? []
          : await writeParquetByDate(deps.duckdb, csv, fileColumns(columns), spec.keyColumn, dir, {
              rowGroupRows: config.LAKE_ROW_GROUP_ROWS,
              codec: config.LAKE_CODEC,
              metadata: { 'etl.stream': input.stream, 'etl.bronze_object_id': String(id), 'etl.rows_version': String(snap.rowsVersion) },
            });
      const written = files.map((f) => ({ ...f, key: lakeKeyFor(config.S3_PREFIX, input.stream, snap.objectKey, f.eventDate) }));
      await client.query(
        `INSERT INTO lake_files (object_key, bronze_object_id, stream, event_date, rows_version, live)
         SELECT k, $2, $3, d::date, $4, false FROM unnest($1::text[], $5::text[]) AS t(k, d)
         ON CONFLICT (object_key) DO NOTHING`,
        [written.map((f) => f.key), id, input.stream, snap.rowsVersion, written.map((f) => f.eventDate)],
      );
      const sized: { key: string; eventDate: string; rows: number; bytes: number }[] = [];
      for (const f of written) {
        const body = await readFile(f.file);
        await deps.s3.send(
          new PutObjectCommand({ Bucket: config.S3_BUCKET, Key: f.key, Body: body, ContentType: 'application/vnd.apache.parquet' }),
        );
        sized.push({ key: f.key, eventDate: f.eventDate, rows: f.rows, bytes: (await stat(f.file)).size });
      }
      await recordWrite(client, input.stream, id, snap.rowsVersion, sized);
      const removed = await removeNotLive(deps, client, id);
      return {
        bronzeObjectId: id,
        upToDate: false,
        rowsVersion: snap.rowsVersion,
        rows: snap.rows,
        files: sized.length,
        bytes: sized.reduce((n, f) => n + f.bytes, 0),
        removed,
      };
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${OBJECT_LOCK_KEY})`, [lockKey(id)]).catch(() => (broken = true));
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // A connection in an unknown state (its lock or transaction may be held) is closed, not reused.
    client.release(broken);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Step 1: the object's version and rows in one snapshot; undefined when it is not loaded (nothing to hold yet). */
async function readSnapshot(
  client: pg.PoolClient,
  stream: string,
  id: number,
  columns: readonly LakeColumn[],
  spec: { flatTable: string; keyColumn: string; eventTimeColumn: string },
  csv: string,
): Promise<Snapshot | undefined> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query("SET LOCAL TimeZone = 'UTC'");
    const { rows } = await client.query<{
      rows_version: number;
      object_key: string;
      loaded: boolean;
      lake: number | null;
      leftovers: number;
    }>(
      `SELECT b.rows_version, b.object_key, b.loaded_at IS NOT NULL AS loaded, l.rows_version AS lake,
              (SELECT count(*)::int FROM lake_files f WHERE f.bronze_object_id = b.id AND NOT f.live) AS leftovers
       FROM bronze_objects b LEFT JOIN lake_objects l ON l.bronze_object_id = b.id WHERE b.id = $1 AND b.stream = $2`,
      [id, stream],
    );
    const b = rows[0];
    if (!b || !b.loaded || b.rows_version === 0) {
      await client.query('COMMIT');
      return undefined;
    }
    const selectList = [
      ...fileColumns(columns).map((c) => ident(c.name)),
      `${partitionExpression(columns, spec.eventTimeColumn)} AS ${ident(EVENT_DATE)}`,
    ].join(', ');
    // COPY takes no parameters: the id is a checked safe integer.
    const objectId = String(id);
    const copy = client.query(
      copyTo(`COPY (SELECT ${selectList} FROM ${ident(spec.flatTable)} WHERE bronze_object_id = ${objectId}) TO STDOUT (FORMAT csv)`),
    );
    await pipeline(copy, createWriteStream(csv));
    await client.query('COMMIT');
    return { rowsVersion: b.rows_version, objectKey: b.object_key, lakeVersion: b.lake ?? 0, leftovers: b.leftovers, rows: copy.rowCount };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Step 4: the new set live, the object's other keys not live, the version recorded: one transaction. */
async function recordWrite(
  client: pg.PoolClient,
  stream: string,
  id: number,
  rowsVersion: number,
  files: readonly { key: string; eventDate: string; rows: number; bytes: number }[],
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO lake_files (object_key, bronze_object_id, stream, event_date, rows, bytes, rows_version, live)
       SELECT k, $2, $3, d::date, r, s, $4, true FROM unnest($1::text[], $5::text[], $6::bigint[], $7::bigint[]) AS t(k, d, r, s)
       ON CONFLICT (object_key) DO UPDATE SET rows = EXCLUDED.rows, bytes = EXCLUDED.bytes, rows_version = EXCLUDED.rows_version,
         live = true, written_at = now()`,
      [
        files.map((f) => f.key),
        id,
        stream,
        rowsVersion,
        files.map((f) => f.eventDate),
        files.map((f) => f.rows),
        files.map((f) => f.bytes),
      ],
    );
    await client.query('UPDATE lake_files SET live = false WHERE bronze_object_id = $1 AND live AND NOT (object_key = ANY($2::text[]))', [
      id,
      files.map((f) => f.key),
    ]);
    await client.query(
      `INSERT INTO lake_objects (bronze_object_id, stream, rows_version, rows, files)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (bronze_object_id) DO UPDATE SET rows_version = EXCLUDED.rows_version, rows = EXCLUDED.rows, files = EXCLUDED.files,
         written_at = now(), failure_code = NULL, failure_message = NULL, failed_at = NULL`,
      [id, stream, rowsVersion, files.reduce((n, f) => n + f.rows, 0), files.length],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Step 5: the object's keys that are not live leave S3, then the manifest. */
async function removeNotLive(deps: ActivityDeps, client: pg.PoolClient, id: number): Promise<number> {
  const { rows } = await client.query<{ object_key: string }>(
    'SELECT object_key FROM lake_files WHERE bronze_object_id = $1 AND NOT live',
    [id],
  );
  if (rows.length === 0) return 0;
  const keys = rows.map((r) => r.object_key);
  for (let i = 0; i < keys.length; i += 1000) {
    const r = await deps.s3.send(
      new DeleteObjectsCommand({
        Bucket: deps.config.S3_BUCKET,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (r.Errors?.length)
      throw new Error(`S3 refused to delete ${r.Errors.length} lake file(s): ${r.Errors[0]!.Key} ${r.Errors[0]!.Message}`);
  }
  await client.query('DELETE FROM lake_files WHERE bronze_object_id = $1 AND NOT live AND object_key = ANY($2::text[])', [id, keys]);
  return keys.length;
}

/** Remembers why the last write of an object failed (best effort: the failure may be PostgreSQL's own). */
export async function noteLakeFailure(deps: ActivityDeps, input: LakeWriteInput, code: string, message: string): Promise<void> {
  await deps.pool
    .query(
      `INSERT INTO lake_objects (bronze_object_id, stream, rows_version, rows, files, failure_code, failure_message, failed_at)
       VALUES ($1, $2, 0, 0, 0, $3, $4, now())
       ON CONFLICT (bronze_object_id) DO UPDATE SET failure_code = $3, failure_message = $4, failed_at = now()`,
      [input.bronzeObjectId, input.stream, code, message.slice(0, 2000)],
    )
    .catch(() => undefined);
}
