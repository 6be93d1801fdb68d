// silver -> PostgreSQL, in one transaction per object: COPY the silver lines into a temp table,
// insert what is new into raw and flat, record the load on the manifest. A second load of the same
// object finds its load row and changes nothing.
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { from as copyFrom } from 'pg-copy-streams';
import { EtlError } from '../lib/errors';
import { openGzipObject } from '../lib/ndjson';
import { inTransaction } from '../lib/postgres';
import { tryDirectLoad } from '../lib/direct-load';
import { COPY_INTO_STAGING, createStaging, mergeStaging, runAfterMergeOfLoad, type MergeCounts } from '../lib/staging';
import { getStream } from '../streams';
import type { ActivityDeps } from './deps';
import type { LoadInput, LoadResult } from './types';

export async function load(deps: ActivityDeps, input: LoadInput): Promise<LoadResult> {
  // COPY and the inserts are single statements: a timer heartbeats while they run, so a dead worker
  // is noticed within the heartbeat timeout rather than the start-to-close timeout.
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 5_000);
  try {
    return await loadInTransaction(deps, input);
  } finally {
    clearInterval(beat);
  }
}

async function loadInTransaction(deps: ActivityDeps, input: LoadInput): Promise<LoadResult> {
  const { pool, s3, config } = deps;
  const spec = getStream(input.stream);
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`etl.load.${input.bronzeObjectId}`]);
    const { rows: existing } = await client.query<{ load_id: string; rows_in: number; inserted_count: number; duplicate_count: number; conflict_count: number }>(
      "SELECT load_id, rows_in, inserted_count, duplicate_count, conflict_count FROM loads WHERE bronze_object_id = $1 AND kind = 'object'",
      [input.bronzeObjectId],
    );
    if (existing[0]) {
      const e = existing[0];
      return { bronzeObjectId: input.bronzeObjectId, loadId: Number(e.load_id), rowsIn: e.rows_in, inserted: e.inserted_count, duplicates: e.duplicate_count, conflicts: e.conflict_count, alreadyLoaded: true };
    }
    const { rows: objs } = await client.query<{ silver_key: string | null }>('SELECT silver_key FROM bronze_objects WHERE id = $1 AND stream = $2', [input.bronzeObjectId, input.stream]);
    const silverKey = objs[0]?.silver_key;
    if (!silverKey) throw new EtlError('MANIFEST_INVALID', `bronze object ${input.bronzeObjectId} has not been transformed; run transform first`);

    const { rows: loadRows } = await client.query<{ load_id: string }>(
      'INSERT INTO loads (bronze_object_id, stream, silver_key, rows_in, inserted_count, duplicate_count, workflow_id) VALUES ($1, $2, $3, 0, 0, 0, $4) RETURNING load_id',
      [input.bronzeObjectId, input.stream, silverKey, input.workflowId ?? null],
    );
    const loadId = Number(loadRows[0]!.load_id);
    const target = { stream: input.stream, loadId, bronzeObjectId: input.bronzeObjectId };
    let counts: Omit<MergeCounts, 'conflictKeys'>;
    const direct = await tryDirectLoad(client, spec, s3, config.S3_BUCKET, silverKey, target);
    if (direct !== null) {
      await runAfterMergeOfLoad(client, spec, loadId);
      counts = { rowsIn: direct, inserted: direct, duplicates: 0, conflicts: 0 };
    } else {
      await createStaging(client);
      await pipeline(await openGzipObject(s3, config.S3_BUCKET, silverKey), client.query(copyFrom(COPY_INTO_STAGING)));
      counts = await mergeStaging(client, spec, target);
    }
    const { rowsIn, inserted, duplicates, conflicts } = counts;
    await client.query('UPDATE loads SET rows_in = $2, inserted_count = $3, duplicate_count = $4, conflict_count = $5 WHERE load_id = $1', [loadId, rowsIn, inserted, duplicates, conflicts]);
    await client.query(
      'UPDATE bronze_objects SET load_id = $2, inserted_count = $3, duplicate_count = $4, conflict_count = $5, loaded_at = now() WHERE id = $1',
      [input.bronzeObjectId, loadId, inserted, duplicates, conflicts],
    );
    return { bronzeObjectId: input.bronzeObjectId, loadId, rowsIn, inserted, duplicates, conflicts, alreadyLoaded: false };
  });
}
