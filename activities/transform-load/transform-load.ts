// bronze -> quarantine + raw and flat, in one pass over the bronze object (pass.ts) and
// one transaction per object: the quarantine entries, the rows and the manifest's transform and
// load counts commit together or not at all, so a retry after a crash mid-way loads nothing twice.
// A second run of a loaded object finds its load row and changes nothing.
// Whatever PostgreSQL refuses to store, one row at a time, is set aside (LOAD_REJECTED, with the
// SQLSTATE, the server's message and the record's original bytes) and the rest of the object loads
// in the same transaction: the fast path first, then the staging path, and only if one of them
// failed on a row, the search for the rows PostgreSQL refuses (load-isolation.ts).
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EtlError } from '../../lib/errors';
import type { BronzeRecord } from '../../lib/lake';
import { readNdjsonObject } from '../../lib/ndjson';
import { inTransaction, OBJECT_LOCK_KEY } from '../../lib/postgres';
import { insertQuarantine, QuarantineBatcher, quarantinedValue, type QuarantineEntry } from '../quarantine';
import { loadableSchemaVersion } from '../../lib/stream-tables';
import { getStream } from '../../streams';
import type { LoadDrift } from '../../streams/drift';
import type { StreamSpec } from '../../streams/types';
import type { ActivityDeps } from '../deps';
import type { TransformLoadInput, TransformLoadResult } from '../types';
import { tryDirectLoad } from './direct-load';
import { mergeSettingAsideRefused, unlessRefused, type RefusedLine } from './load-isolation';
import type { PassResult, PassTask } from './pass';
import { COPY_INTO_STAGING, createStaging, mergeStaging, runAfterMergeOfLoad, type MergeTarget } from './staging';
import { spooledLines } from './spool';
import { beating } from '../attempts';

type Counts = Pick<TransformLoadResult, 'rowsIn' | 'inserted' | 'duplicates' | 'conflicts' | 'rejected'>;

/**
 * How the pass runs: on the worker's thread pool in production (worker/pass-pool.ts), in-line by
 * default. `signal` is the activity's cancellation: a cancelled pass stops.
 */
export type RunPass = (task: PassTask, deps: ActivityDeps, signal: AbortSignal) => Promise<PassResult>;

export interface TransformLoadOptions {
  runPass: RunPass;
}

/** The activity. */
export async function transformAndLoad(
  deps: ActivityDeps,
  input: TransformLoadInput,
  options: TransformLoadOptions,
): Promise<TransformLoadResult> {
  // COPY and the inserts are single statements, and the pass may run on another thread: a timer
  // heartbeats meanwhile, so a dead worker is noticed within the heartbeat timeout rather than the
  // start-to-close timeout, and a cancellation reaches the activity.
  return beating(() => passAndLoad(deps, input, options, Context.current().cancellationSignal));
}

const LOADED = `SELECT l.load_id, l.silver_key, l.rows_in, l.inserted_count, l.duplicate_count, l.conflict_count, l.rejected_count,
                       b.record_count, b.valid_count, b.quarantined_count
                FROM loads l JOIN bronze_objects b ON b.id = l.bronze_object_id WHERE l.bronze_object_id = $1 AND l.kind = 'object'`;

interface LoadedRow {
  load_id: string;
  silver_key: string | null;
  rows_in: number;
  inserted_count: number;
  duplicate_count: number;
  conflict_count: number;
  rejected_count: number;
  record_count: number | null;
  valid_count: number | null;
  quarantined_count: number | null;
}

/** The result of the run that loaded the object, when one did. */
async function loadedAlready(db: pg.Pool | pg.PoolClient, bronzeObjectId: number): Promise<TransformLoadResult | undefined> {
  const { rows } = await db.query<LoadedRow>(LOADED, [bronzeObjectId]);
  const e = rows[0];
  if (!e) return undefined;
  return {
    bronzeObjectId,
    silverKey: e.silver_key,
    records: e.record_count ?? 0,
    valid: e.valid_count ?? 0,
    quarantined: e.quarantined_count ?? 0,
    loadId: Number(e.load_id),
    rowsIn: e.rows_in,
    inserted: e.inserted_count,
    duplicates: e.duplicate_count,
    conflicts: e.conflict_count,
    rejected: e.rejected_count,
    alreadyLoaded: true,
  };
}

interface ObjectRow {
  object_key: string | null;
  topic: string;
  status: string;
  archived_at: Date | null;
}

async function passAndLoad(
  deps: ActivityDeps,
  input: TransformLoadInput,
  options: TransformLoadOptions,
  signal: AbortSignal,
): Promise<TransformLoadResult> {
  const { pool, config } = deps;
  const spec = getStream(input.stream);
  const done = await loadedAlready(pool, input.bronzeObjectId);
  if (done) return done;
  const { rows } = await pool.query<ObjectRow>(
    'SELECT object_key, topic, status, archived_at FROM bronze_objects WHERE id = $1 AND stream = $2',
    [input.bronzeObjectId, input.stream],
  );
  const obj = rows[0];
  if (!obj || obj.status !== 'archived' || !obj.object_key || !obj.archived_at) {
    throw new EtlError('MANIFEST_INVALID', `bronze object ${input.bronzeObjectId} of stream ${input.stream} is not archived`);
  }
  // The load id is the rows' lineage, encoded by the pass: taken from the sequence now, used by the
  // load row if this run commits (a run that does not leaves a gap, nothing else).
  const { rows: ids } = await pool.query<{ id: string }>("SELECT nextval(pg_get_serial_sequence('loads', 'load_id')) AS id");
  const loadId = Number(ids[0]!.id);
  const spoolDir = await mkdtemp(path.join(tmpdir(), `etl-pass-${input.bronzeObjectId}-`));
  try {
    const task: PassTask = {
      stream: input.stream,
      bronzeObjectId: input.bronzeObjectId,
      loadId,
      bucket: config.S3_BUCKET,
      objectKey: obj.object_key,
      referenceTimeMs: obj.archived_at.getTime(),
      maxValueBytes: config.MAX_VALUE_BYTES,
      spoolDir,
    };
    const pass = await options.runPass(task, deps, signal);
    return await inTransaction(pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${OBJECT_LOCK_KEY})`, [`etl.load.${input.bronzeObjectId}`]);
      const meanwhile = await loadedAlready(client, input.bronzeObjectId); // by another workflow, while this one passed
      if (meanwhile) return meanwhile;
      const schemaVersion = await loadableSchemaVersion(client, spec);
      await client.query(
        'INSERT INTO loads (load_id, bronze_object_id, stream, rows_in, inserted_count, duplicate_count, workflow_id, schema_version) VALUES ($1, $2, $3, 0, 0, 0, $4, $5)',
        [loadId, input.bronzeObjectId, input.stream, input.workflowId ?? null, schemaVersion ?? null],
      );
      await insertSpooledQuarantine(client, input.stream, obj.topic, pass.files.quarantine);
      await recordDrift(client, input.stream, loadId, input.bronzeObjectId, pass.drift);
      const target = { stream: input.stream, loadId, bronzeObjectId: input.bronzeObjectId };
      const counts = await loadObjectRows(deps, client, { spec, pass, target, bronze: { objectKey: obj.object_key!, topic: obj.topic } });
      const { rowsIn, inserted, duplicates, conflicts, rejected } = counts;
      await client.query(
        'UPDATE loads SET rows_in = $2, inserted_count = $3, duplicate_count = $4, conflict_count = $5, rejected_count = $6 WHERE load_id = $1',
        [loadId, rowsIn, inserted, duplicates, conflicts, rejected],
      );
      await client.query(
        `UPDATE bronze_objects SET valid_count = $2, quarantined_count = $3, transformed_at = now(),
           load_id = $4, inserted_count = $5, duplicate_count = $6, conflict_count = $7, rejected_count = $8, loaded_at = now(),
           rows_version = rows_version + 1 WHERE id = $1`,
        [input.bronzeObjectId, pass.valid, pass.quarantined, loadId, inserted, duplicates, conflicts, rejected],
      );
      return {
        bronzeObjectId: input.bronzeObjectId,
        silverKey: null,
        records: pass.records,
        valid: pass.valid,
        quarantined: pass.quarantined,
        loadId,
        ...counts,
        alreadyLoaded: false,
      };
    });
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
}

/** The fields the pass found undeclared, beside the load (none: nothing written). */
async function recordDrift(client: pg.PoolClient, stream: string, loadId: number, bronzeObjectId: number, drift: LoadDrift): Promise<void> {
  if (drift.fields.length > 0) {
    await client.query(
      `INSERT INTO load_drift (load_id, field, stream, records, bronze_object_id, first_partition, first_offset)
       SELECT $1, f.field, $2, f.records, $3, f.part, f.off
       FROM unnest($4::text[], $5::int[], $6::int[], $7::bigint[]) AS f(field, records, part, off)`,
      [
        loadId,
        stream,
        bronzeObjectId,
        drift.fields.map((f) => f.field),
        drift.fields.map((f) => f.records),
        drift.fields.map((f) => f.firstPartition),
        drift.fields.map((f) => f.firstOffset),
      ],
    );
  }
  if (drift.records > 0) await client.query('UPDATE loads SET undeclared_records = $2 WHERE load_id = $1', [loadId, drift.records]);
}

/** The validation quarantine of the pass, in the load's transaction, in batches bounded by count and bytes. */
async function insertSpooledQuarantine(client: pg.PoolClient, stream: string, topic: string, file: string): Promise<void> {
  const batcher = new QuarantineBatcher(client, stream, topic);
  for await (const line of spooledLines(file)) await batcher.add(JSON.parse(line) as QuarantineEntry); // our own entry, written by the pass
  await batcher.flush();
}

/** The rows of the object into raw and flat: the fast path, else staging, else staging with refused rows set aside. */
async function loadObjectRows(
  deps: ActivityDeps,
  client: pg.PoolClient,
  load: {
    spec: StreamSpec;
    pass: PassResult;
    target: MergeTarget & { bronzeObjectId: number };
    bronze: { objectKey: string; topic: string };
  },
): Promise<Counts> {
  const { spec, pass, target, bronze } = load;
  const direct = await tryDirectLoad(client, spec, { raw: pass.files.raw, flat: pass.files.flat, rows: pass.valid });
  if ('inserted' in direct) {
    await runAfterMergeOfLoad(client, spec, target.loadId);
    return { rowsIn: direct.inserted, inserted: direct.inserted, duplicates: 0, conflicts: 0, rejected: 0 };
  }
  await createStaging(client);
  if (direct.steppedAside === 'key') {
    const staged = await unlessRefused(client, async () => {
      await pipeline(createReadStream(pass.files.silver), client.query(copyFrom(COPY_INTO_STAGING)));
      return mergeStaging(client, spec, target);
    });
    if ('value' in staged) return { ...staged.value, rejected: 0 };
  }
  const merged = await mergeSettingAsideRefused(client, spec, target, createReadStream(pass.files.silver));
  await quarantineRefused(deps, client, { stream: spec.name, bronze, bronzeObjectId: target.bronzeObjectId, refused: merged.refused });
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
 * The only second read of a bronze object, and only of one holding a row PostgreSQL refused: the
 * pass does not keep every record's bytes on the chance that one of them is refused.
 */
async function quarantineRefused(
  deps: ActivityDeps,
  client: pg.PoolClient,
  object: { stream: string; bronze: { objectKey: string; topic: string }; bronzeObjectId: number; refused: readonly RefusedLine[] },
): Promise<void> {
  const { stream, bronze, bronzeObjectId, refused } = object;
  if (refused.length === 0) return;
  const wanted = new Map<string, { doc: Record<string, unknown>; refused: RefusedLine }>();
  for (const r of refused) {
    const doc = JSON.parse(r.line) as Record<string, unknown>; // our own silver line: JSON.parse takes what jsonb refused
    wanted.set(`${String(doc.kafka_partition)}@${String(doc.kafka_offset)}`, { doc, refused: r });
  }
  const originals = new Map<string, ReturnType<typeof quarantinedValue>>();
  for await (const line of readNdjsonObject(deps.s3, deps.config.S3_BUCKET, bronze.objectKey)) {
    const record = JSON.parse(line) as BronzeRecord;
    const at = `${record.partition}@${record.offset}`;
    if (wanted.has(at)) originals.set(at, quarantinedValue(record, deps.config.MAX_VALUE_BYTES));
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
        ? { reason, ...original }
        : {
            reason: `${reason}; its original bytes were not found in ${bronze.objectKey}, the payload kept is the parsed JSON`,
            payload: JSON.stringify(doc.payload),
            encoding: 'utf8' as const,
          }),
    };
  });
  await insertQuarantine(client, stream, bronze.topic, entries);
}
