// silver -> PostgreSQL, in one transaction per object: COPY the silver lines into a temp table,
// insert what is new into raw and flat, record the load on the manifest. A second load of the same
// object finds its load row and changes nothing.
// Whatever PostgreSQL refuses to store, one row at a time, is set aside (LOAD_REJECTED, with the
// SQLSTATE, the server's message and the record's original bytes) and the rest of the object loads
// in the same transaction: the fast path first, then the staging path, and only if one of them
// failed on a row, the search for the rows PostgreSQL refuses (load-isolation.ts).
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EtlError } from '../../lib/errors';
import type { BronzeRecord } from '../../lib/lake';
import { isRefusedRow, mergeSettingAsideRefused, type RefusedLine } from './load-isolation';
import { openGzipObject, readNdjsonGzip } from '../../lib/ndjson';
import { inTransaction } from '../../lib/postgres';
import { insertQuarantine, type QuarantineEntry } from '../quarantine';
import { tryDirectLoad } from './direct-load';
import { COPY_INTO_STAGING, createStaging, mergeStaging, runAfterMergeOfLoad, type LoadHooks, type MergeTarget } from './staging';
import { getStream } from '../../streams';
import type { StreamSpec } from '../../streams/types';
import type { ActivityDeps } from '../deps';
import type { LoadInput, LoadResult } from '../types';

type Counts = Pick<LoadResult, 'rowsIn' | 'inserted' | 'duplicates' | 'conflicts' | 'rejected'>;

/** The activity. `hooks` exist for tests that force interleavings of concurrent loads; production passes none. */
export async function load(deps: ActivityDeps, input: LoadInput, hooks: LoadHooks = {}): Promise<LoadResult> {
  // COPY and the inserts are single statements: a timer heartbeats while they run, so a dead worker
  // is noticed within the heartbeat timeout rather than the start-to-close timeout.
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 5_000);
  try {
    return await loadInTransaction(deps, input, hooks);
  } finally {
    clearInterval(beat);
  }
}

interface LoadRow {
  load_id: string;
  rows_in: number;
  inserted_count: number;
  duplicate_count: number;
  conflict_count: number;
  rejected_count: number;
}

async function loadInTransaction(deps: ActivityDeps, input: LoadInput, hooks: LoadHooks): Promise<LoadResult> {
  const { pool } = deps;
  const spec = getStream(input.stream);
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`etl.load.${input.bronzeObjectId}`]);
    const { rows: existing } = await client.query<LoadRow>(
      "SELECT load_id, rows_in, inserted_count, duplicate_count, conflict_count, rejected_count FROM loads WHERE bronze_object_id = $1 AND kind = 'object'",
      [input.bronzeObjectId],
    );
    if (existing[0]) {
      const e = existing[0];
      return {
        bronzeObjectId: input.bronzeObjectId,
        loadId: Number(e.load_id),
        rowsIn: e.rows_in,
        inserted: e.inserted_count,
        duplicates: e.duplicate_count,
        conflicts: e.conflict_count,
        rejected: e.rejected_count,
        alreadyLoaded: true,
      };
    }
    const { rows: objs } = await client.query<{ silver_key: string | null; object_key: string; topic: string }>(
      'SELECT silver_key, object_key, topic FROM bronze_objects WHERE id = $1 AND stream = $2',
      [input.bronzeObjectId, input.stream],
    );
    const obj = objs[0];
    if (!obj?.silver_key)
      throw new EtlError('MANIFEST_INVALID', `bronze object ${input.bronzeObjectId} has not been transformed; run transform first`);
    const silverKey = obj.silver_key;

    const { rows: created } = await client.query<{ load_id: string }>(
      'INSERT INTO loads (bronze_object_id, stream, silver_key, rows_in, inserted_count, duplicate_count, workflow_id) VALUES ($1, $2, $3, 0, 0, 0, $4) RETURNING load_id',
      [input.bronzeObjectId, input.stream, silverKey, input.workflowId ?? null],
    );
    const loadId = Number(created[0]!.load_id);
    const target = { stream: input.stream, loadId, bronzeObjectId: input.bronzeObjectId };
    const counts = await loadObjectRows(deps, client, spec, silverKey, target, { objectKey: obj.object_key, topic: obj.topic }, hooks);
    await hooks.afterInsert?.(client);
    const { rowsIn, inserted, duplicates, conflicts, rejected } = counts;
    await client.query(
      'UPDATE loads SET rows_in = $2, inserted_count = $3, duplicate_count = $4, conflict_count = $5, rejected_count = $6 WHERE load_id = $1',
      [loadId, rowsIn, inserted, duplicates, conflicts, rejected],
    );
    await client.query(
      'UPDATE bronze_objects SET load_id = $2, inserted_count = $3, duplicate_count = $4, conflict_count = $5, rejected_count = $6, loaded_at = now() WHERE id = $1',
      [input.bronzeObjectId, loadId, inserted, duplicates, conflicts, rejected],
    );
    return { bronzeObjectId: input.bronzeObjectId, loadId, ...counts, alreadyLoaded: false };
  });
}

/** The rows of the object into raw and flat: the fast path, else staging, else staging with refused rows set aside. */
async function loadObjectRows(
  deps: ActivityDeps,
  client: pg.PoolClient,
  spec: StreamSpec,
  silverKey: string,
  target: MergeTarget & { bronzeObjectId: number },
  bronze: { objectKey: string; topic: string },
  hooks: LoadHooks,
): Promise<Counts> {
  const { s3, config } = deps;
  const direct = await tryDirectLoad(client, spec, s3, config.S3_BUCKET, silverKey, target);
  if ('inserted' in direct) {
    await runAfterMergeOfLoad(client, spec, target.loadId);
    return { rowsIn: direct.inserted, inserted: direct.inserted, duplicates: 0, conflicts: 0, rejected: 0 };
  }
  await createStaging(client);
  if (direct.steppedAside === 'key') {
    await client.query('SAVEPOINT staging_path');
    try {
      await pipeline(await openGzipObject(s3, config.S3_BUCKET, silverKey), client.query(copyFrom(COPY_INTO_STAGING)));
      const merged = await mergeStaging(client, spec, target, hooks);
      await client.query('RELEASE SAVEPOINT staging_path');
      return { ...merged, rejected: 0 };
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT staging_path');
      if (!isRefusedRow(err)) throw err;
    }
  }
  const merged = await mergeSettingAsideRefused(client, spec, target, await openGzipObject(s3, config.S3_BUCKET, silverKey), hooks);
  await quarantineRefused(deps, client, spec.name, bronze, target.bronzeObjectId, merged.refused);
  return {
    rowsIn: merged.rowsIn + merged.refused.length,
    inserted: merged.inserted,
    duplicates: merged.duplicates,
    conflicts: merged.conflicts,
    rejected: merged.refused.length,
  };
}

/**
 * Quarantines the refused rows as LOAD_REJECTED with their original bytes, read back from the
 * bronze object by offset (the silver line holds the parsed payload, not the bytes that came in).
 */
async function quarantineRefused(
  deps: ActivityDeps,
  client: pg.PoolClient,
  stream: string,
  bronze: { objectKey: string; topic: string },
  bronzeObjectId: number,
  refused: readonly RefusedLine[],
): Promise<void> {
  if (refused.length === 0) return;
  const wanted = new Map<string, { doc: Record<string, unknown>; refused: RefusedLine }>();
  for (const r of refused) {
    const doc = JSON.parse(r.line) as Record<string, unknown>; // our own silver line: JSON.parse takes what jsonb refused
    wanted.set(`${String(doc.kafka_partition)}@${String(doc.kafka_offset)}`, { doc, refused: r });
  }
  const originals = new Map<string, Pick<BronzeRecord, 'value' | 'encoding'>>();
  for await (const line of readNdjsonGzip(deps.s3, deps.config.S3_BUCKET, bronze.objectKey)) {
    const record = JSON.parse(line) as BronzeRecord;
    const at = `${record.partition}@${record.offset}`;
    if (wanted.has(at)) originals.set(at, { value: record.value, encoding: record.encoding });
    if (originals.size === wanted.size) break;
  }
  const entries: QuarantineEntry[] = [...wanted].map(([at, { doc, refused: r }]) => {
    const original = originals.get(at);
    const reason = `PostgreSQL refused to store the row at load (SQLSTATE ${r.sqlState}): ${r.message}`;
    return {
      partition: Number(doc.kafka_partition),
      offset: String(doc.kafka_offset),
      bronzeObjectId,
      code: 'LOAD_REJECTED',
      // Never expected: the silver line came from this bronze object. Keep the record all the same.
      ...(original
        ? { reason, payload: original.value, encoding: original.encoding }
        : {
            reason: `${reason}; its original bytes were not found in ${bronze.objectKey}, the payload kept is the parsed JSON`,
            payload: JSON.stringify(doc.payload),
            encoding: 'utf8' as const,
          }),
    };
  });
  await insertQuarantine(client, stream, bronze.topic, entries);
}
