// Replay from bronze (`etl replay`): re-derive the records of an archived object with the current
// rules and merge them again, in one transaction per object, without breaking exactly-once:
// - a record the old rules quarantined and the new ones accept is inserted (or counted a duplicate
//   when its key is already loaded with the same payload), and its quarantine row marked replayed;
// - a record already loaded keeps its row; only its derived flat columns follow the new rules;
// - a record already loaded that the new rules reject is reported (`nowInvalid`), never deleted or
//   quarantined: that would put one record in two places;
// - conflicts (same key, different payload) stay quarantined, exactly as in load;
// - a row PostgreSQL refuses to store (a data exception, a constraint: what the rules did not
//   foresee) is set aside as in load (replay-refused.ts) and the rest of the object replays in the
//   same transaction: a quarantined record stays quarantined (`refused`), a loaded row keeps its
//   old columns (`refusedUpdates`).
// The object's own manifest counts are left alone: they describe its load, and quality compares them.
import type pg from 'pg';
import { EtlError } from '../../lib/errors';
import type { BronzeRecord } from '../../lib/lake';
import { readNdjsonObject } from '../../lib/ndjson';
import { inTransaction, OBJECT_LOCK_KEY } from '../../lib/postgres';
import { ident } from '../../lib/sql';
import { createStagingLines, stagedLineRange, unlessRefused } from '../transform-load/load-isolation';
import {
  bumpRowsVersion,
  countDuplicates,
  createStaging,
  insertStaged,
  quarantineConflicts,
  runAfterMerge,
} from '../transform-load/staging';
import { countRefused, mergeReplaySettingAsideRefused, SAMPLE, type StagedLines } from './replay-refused';
import { addReplayCounts, emptyReplayCounts, type ReplayCounts } from '../../shared/replay-counts';
import { loadableSchemaVersion } from '../../lib/stream-tables';
import { getStream } from '../../streams';
import { classifyRecord, silverDoc } from '../../streams/classify';
import type { StreamSpec, ValidationContext } from '../../streams/types';
import type { ActivityDeps } from '../deps';
import { beat, beating } from '../attempts';

export interface WindowInput {
  stream: string;
  fromMs: number;
  toMs: number;
  afterId: number;
  limit: number;
}
export interface WindowObject {
  bronzeObjectId: number;
  objectKey: string;
  recordCount: number;
}
export interface WindowPage {
  objects: WindowObject[];
  /** Loaded objects of the window after `afterId`, this page included. */
  remaining: number;
  /** Objects of the window not loaded yet: a replay skips them (their own load uses the current rules). */
  notLoaded: number;
}

export interface ReplayObjectInput {
  stream: string;
  bronzeObjectId: number;
  workflowId?: string;
  /** The replay workflow chain (first run id): a retry after a commit finds its load by it. */
  runKey?: string;
}

/** What one merge of staged docs changed (the whole object's, or one range's when rows are set aside). */
export type MergeReplayCounts = Pick<ReplayCounts, 'conflicts' | 'updated' | 'rekeyed' | 'inserted' | 'duplicates'>;

export interface ReplayObjectResult extends ReplayCounts {
  bronzeObjectId: number;
  loadId: number | null;
  /** The object has not had its own load yet: nothing was replayed. */
  notLoaded: boolean;
  /** A previous attempt of the same replay committed; these are its counts. */
  alreadyReplayed: boolean;
}

/** Silver lines sent to staging in one statement at most, by count and by characters. */
const STAGE_BATCH = { lines: 5_000, chars: 4 * 1024 * 1024 };

/**
 * Loaded objects with a record in [from, to), by id: a loaded row whose event time (the stream's
 * eventTimeColumn) is in the window, or records whose timestamps (Kafka CreateTime, a file's
 * modification time: all the manifest knows of an object's quarantined records) overlap it. The
 * timestamps alone are not the event times: a user's producer stamps records when it sends them.
 */
export async function listObjectsInWindow(deps: ActivityDeps, input: WindowInput): Promise<WindowPage> {
  const spec = getStream(input.stream);
  const flat = ident(spec.flatTable);
  const eventTime = ident(spec.eventTimeColumn);
  // $1 stream, $2 from, $3 to, $4 after id: record timestamps overlapping [from, to), or loaded rows in it.
  const window = [input.stream, new Date(input.fromMs).toISOString(), new Date(input.toMs).toISOString(), input.afterId];
  const { rows } = await deps.pool.query<{ id: string; object_key: string; record_count: number }>(
    `SELECT id, object_key, record_count FROM bronze_objects
     WHERE stream = $1 AND status = 'archived' AND loaded_at IS NOT NULL AND id > $4
       AND ((min_event_ts < $3::timestamptz AND max_event_ts >= $2::timestamptz)
            OR id IN (SELECT f.bronze_object_id FROM ${flat} f
                      WHERE f.${eventTime} >= $2::timestamptz AND f.${eventTime} < $3::timestamptz AND f.bronze_object_id > $4))
     ORDER BY id LIMIT $5`,
    [...window, input.limit],
  );
  const {
    rows: [c],
  } = await deps.pool.query<{ remaining: number; not_loaded: number }>(
    `SELECT count(*) FILTER (WHERE loaded_at IS NOT NULL AND id > $4
              AND ((min_event_ts < $3::timestamptz AND max_event_ts >= $2::timestamptz)
                   OR id IN (SELECT f.bronze_object_id FROM ${flat} f
                             WHERE f.${eventTime} >= $2::timestamptz AND f.${eventTime} < $3::timestamptz AND f.bronze_object_id > $4)))::int AS remaining,
            count(*) FILTER (WHERE loaded_at IS NULL AND min_event_ts < $3::timestamptz AND max_event_ts >= $2::timestamptz)::int AS not_loaded
     FROM bronze_objects WHERE stream = $1 AND status = 'archived'`,
    window,
  );
  return {
    objects: rows.map((r) => ({ bronzeObjectId: Number(r.id), objectKey: r.object_key, recordCount: r.record_count })),
    remaining: c!.remaining,
    notLoaded: c!.not_loaded,
  };
}

/** The activity: the worker's current rules, heartbeating while the transaction runs. */
export async function replayObject(deps: ActivityDeps, input: ReplayObjectInput): Promise<ReplayObjectResult> {
  return beating(() => replayBronzeObject(deps, getStream(input.stream), input));
}

/** Replays one object with the rules of `spec` (tests pass changed rules). */
export async function replayBronzeObject(deps: ActivityDeps, spec: StreamSpec, input: ReplayObjectInput): Promise<ReplayObjectResult> {
  const id = input.bronzeObjectId;
  const result = await inTransaction(deps.pool, async (client): Promise<ReplayObjectResult> => {
    // The object's own load holds this lock too: a replay never interleaves with it, nor with
    // another replay of the same object.
    await client.query(`SELECT pg_advisory_xact_lock(${OBJECT_LOCK_KEY})`, [`etl.load.${id}`]);
    const { rows: objs } = await client.query<{ object_key: string | null; status: string; loaded: boolean; archived_at: Date | null }>(
      'SELECT object_key, status, loaded_at IS NOT NULL AS loaded, archived_at FROM bronze_objects WHERE id = $1 AND stream = $2',
      [id, input.stream],
    );
    const obj = objs[0];
    if (!obj || obj.status !== 'archived' || !obj.object_key)
      throw new EtlError('MANIFEST_INVALID', `bronze object ${id} of stream ${input.stream} is not archived`);
    // Before its own load, quarantine rows and loaded rows do not exist yet to tell old from new.
    if (!obj.loaded) return { ...emptyReplayCounts(), bronzeObjectId: id, loadId: null, notLoaded: true, alreadyReplayed: false };
    if (input.runKey) {
      const done = await previousReplay(client, id, input.runKey);
      if (done) return done;
    }

    // Open quarantine rows of the object, locked: `etl quarantine replay` (SKIP LOCKED) leaves them
    // to this transaction instead of resolving the same records at the same time.
    const { rows: open } = await client.query<{ p: number; o: string }>(
      'SELECT kafka_partition AS p, kafka_offset::text AS o FROM quarantine WHERE bronze_object_id = $1 AND replayed_at IS NULL ORDER BY id FOR UPDATE',
      [id],
    );
    const openOffsets = new Set(open.map((q) => `${q.p}@${q.o}`));

    const counts = emptyReplayCounts();
    await createStaging(client);
    await createStagingLines(client);
    const lines = await stageObject(deps, client, {
      spec,
      objectKey: obj.object_key,
      bronzeObjectId: id,
      openOffsets,
      counts,
      context: { referenceTimeMs: obj.archived_at!.getTime() },
    });

    const schemaVersion = await loadableSchemaVersion(client, spec);
    const {
      rows: [load],
    } = await client.query<{ load_id: string }>(
      `INSERT INTO loads (kind, bronze_object_id, stream, silver_key, rows_in, inserted_count, duplicate_count, workflow_id, replay_run_id, schema_version)
       VALUES ('replay', $1, $2, 'bronze-replay', (SELECT count(*) FROM staging_lines), 0, 0, $3, $4, $5) RETURNING load_id`,
      [id, input.stream, input.workflowId ?? null, input.runKey ?? null, schemaVersion ?? null],
    );
    const loadId = Number(load!.load_id);
    const target = { stream: input.stream, loadId, bronzeObjectId: id };
    const merge = () => mergeReplay(client, spec, target);
    // The whole object at once first: an object without a row PostgreSQL refuses never pays for the search.
    const whole = await unlessRefused(client, async () => {
      await client.query('INSERT INTO staging (doc) SELECT line::jsonb FROM staging_lines ORDER BY line_no');
      return merge();
    });
    let merged: MergeReplayCounts[];
    if ('value' in whole) merged = [whole.value];
    else if (!lines.all) throw whole.refused;
    else {
      const isolated = await mergeReplaySettingAsideRefused(client, { spec, target, lines: { all: lines.all, open: lines.open } }, merge);
      merged = isolated.merged;
      countRefused(counts, isolated.refused, openOffsets);
    }
    for (const m of merged) addReplayCounts(counts, m, SAMPLE);

    if (counts.inserted > 0) await bumpRowsVersion(client, [id]);
    await client.query(
      'UPDATE loads SET inserted_count = $2, duplicate_count = $3, conflict_count = $4, updated_count = $5, replay_stats = $6 WHERE load_id = $1',
      [loadId, counts.inserted, counts.duplicates, counts.conflicts, counts.updated, JSON.stringify(counts)],
    );
    return { ...counts, bronzeObjectId: id, loadId, notLoaded: false, alreadyReplayed: false };
  });
  if (result.nowInvalid > 0 || result.rekeyed > 0) {
    deps.logger.warn(
      { bronzeObjectId: id, nowInvalid: result.nowInvalidByCode, sample: result.nowInvalidSample, rekeyed: result.rekeyed },
      'replay: loaded records the current rules reject (kept) or whose key changed (not inserted)',
    );
  }
  if (result.refused > 0 || result.refusedUpdates > 0) {
    deps.logger.warn(
      {
        bronzeObjectId: id,
        refused: result.refusedByState,
        refusedSample: result.refusedSample,
        refusedUpdates: result.refusedUpdatesByState,
        refusedUpdatesSample: result.refusedUpdatesSample,
      },
      'replay: rows PostgreSQL refuses to store: quarantined records the current rules accept (stay quarantined), loaded rows re-derived (kept as they were)',
    );
  }
  return result;
}

async function previousReplay(client: pg.PoolClient, id: number, runKey: string): Promise<ReplayObjectResult | undefined> {
  const { rows } = await client.query<{ load_id: string; replay_stats: ReplayCounts | null }>(
    "SELECT load_id, replay_stats FROM loads WHERE kind = 'replay' AND bronze_object_id = $1 AND replay_run_id = $2",
    [id, runKey],
  );
  const r = rows[0];
  return r
    ? { ...emptyReplayCounts(), ...r.replay_stats, bronzeObjectId: id, loadId: Number(r.load_id), notLoaded: false, alreadyReplayed: true }
    : undefined;
}

/**
 * Classifies every record of the object with `spec`; stages the valid ones as silver lines in
 * `staging_lines`, counts the others. The lines of records quarantined before come last, so that
 * they are one range the search for refused inserts can take alone (the merge orders records by
 * key and offset, never by line).
 */
async function stageObject(
  deps: ActivityDeps,
  client: pg.PoolClient,
  object: {
    spec: StreamSpec;
    objectKey: string;
    bronzeObjectId: number;
    /** `partition@offset` of the object's records with an open quarantine row. */
    openOffsets: ReadonlySet<string>;
    /** Counted into: records, and those the rules reject. */
    counts: ReplayCounts;
    context: ValidationContext;
  },
): Promise<StagedLines> {
  const { spec, objectKey, bronzeObjectId: id, openOffsets, counts, context } = object;
  await client.query('CREATE TEMP TABLE staging_open_lines (n int GENERATED ALWAYS AS IDENTITY, line text NOT NULL) ON COMMIT DROP');
  const batches = { staging_lines: [] as string[], staging_open_lines: [] as string[] };
  const staged = { staging_lines: 0, staging_open_lines: 0 };
  // Text, not jsonb: a line PostgreSQL's jsonb refuses is one the search finds, not a failed object.
  const flush = async (table: keyof typeof batches) => {
    if (batches[table].length) await client.query(`INSERT INTO ${ident(table)} (line) SELECT unnest($1::text[])`, [batches[table]]);
    batches[table] = [];
    staged[table] = 0;
  };
  for await (const line of readNdjsonObject(deps.s3, deps.config.S3_BUCKET, objectKey)) {
    const record = JSON.parse(line) as BronzeRecord; // written by our archive, in our format
    counts.records++;
    const r = classifyRecord(spec, record, context, deps.config.MAX_VALUE_BYTES);
    const open = openOffsets.has(`${record.partition}@${record.offset}`);
    if (r.ok) {
      const table = open ? 'staging_open_lines' : 'staging_lines';
      const doc = JSON.stringify(silverDoc(r.row, record, id));
      batches[table].push(doc);
      staged[table] += doc.length;
      if (batches[table].length >= STAGE_BATCH.lines || staged[table] >= STAGE_BATCH.chars) await flush(table);
    } else if (open) {
      counts.stillQuarantined++;
    } else {
      counts.nowInvalid++;
      counts.nowInvalidByCode[r.code] = (counts.nowInvalidByCode[r.code] ?? 0) + 1;
      if (counts.nowInvalidSample.length < SAMPLE) counts.nowInvalidSample.push(`${record.partition}@${record.offset} ${r.code}`);
    }
    if (counts.records % 10_000 === 0) beat({ records: counts.records });
  }
  await flush('staging_lines');
  await flush('staging_open_lines');
  const others = await stagedLineRange(client);
  await client.query('INSERT INTO staging_lines (line) SELECT line FROM staging_open_lines ORDER BY n');
  await client.query('DROP TABLE staging_open_lines');
  const all = await stagedLineRange(client);
  if (!all) return {};
  const openFirst = others ? others.last + 1 : all.first;
  return { all, ...(openFirst <= all.last ? { open: { first: openFirst, last: all.last } } : {}) };
}

/** Merges the docs in `staging` (all of the object's, or one range of them); counts what it changed. */
async function mergeReplay(
  client: pg.PoolClient,
  spec: StreamSpec,
  target: { stream: string; loadId: number; bronzeObjectId: number },
): Promise<MergeReplayCounts> {
  await client.query('ANALYZE staging'); // a temp table has no statistics: the joins below want the row count
  let conflicts = (await quarantineConflicts(client, spec, target)).conflicts;
  // A re-derived row may have been loaded from another object (this one's record was its duplicate).
  const updatedRows = await client.query<{ bronze_object_id: string | null }>(spec.updateFromStagingSql);
  const updated = updatedRows.rowCount ?? 0;
  await bumpRowsVersion(
    client,
    updatedRows.rows.map((r) => r.bronze_object_id),
  );
  // The derived tables follow the re-derived rows now, while staging still holds every record of
  // the object: the deletion below keeps only the previously quarantined ones.
  if (updated > 0) await runAfterMerge(client, spec);

  // Only records that were quarantined may become rows: every other record of a loaded object is
  // loaded already (or counted a duplicate). If its key is not found, the key rule changed; inserting
  // it would load the same record twice, so it is counted and left out.
  const raw = ident(spec.rawTable);
  const key = ident(spec.keyColumn);
  const {
    rows: [rekeyed],
  } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM staging s
     WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.bronze_object_id = $1 AND q.replayed_at IS NULL AND q.kafka_topic = s.doc->>'kafka_topic'
                       AND q.kafka_partition = (s.doc->>'kafka_partition')::int AND q.kafka_offset = (s.doc->>'kafka_offset')::bigint)
       AND NOT EXISTS (SELECT 1 FROM ${raw} r WHERE r.${key} = (jsonb_populate_record(NULL::${raw}, jsonb_build_object($2::text, s.doc->$2::text))).${key})`,
    [target.bronzeObjectId, spec.keyColumn],
  );
  await client.query(
    `DELETE FROM staging s
     WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.bronze_object_id = $1 AND q.replayed_at IS NULL AND q.kafka_topic = s.doc->>'kafka_topic'
                       AND q.kafka_partition = (s.doc->>'kafka_partition')::int AND q.kafka_offset = (s.doc->>'kafka_offset')::bigint)`,
    [target.bronzeObjectId],
  );

  const inserted = await insertStaged(client, spec, target);
  // A key a concurrent load committed while this insert waited on it: quarantined, not a duplicate (activities/transform-load/staging.ts).
  conflicts += (await quarantineConflicts(client, spec, target)).conflicts;
  await runAfterMerge(client, spec);
  await client.query(
    `UPDATE quarantine q SET replayed_at = now(), replay_load_id = $2 FROM staging s
     WHERE q.bronze_object_id = $1 AND q.replayed_at IS NULL
       AND q.kafka_topic = s.doc->>'kafka_topic' AND q.kafka_partition = (s.doc->>'kafka_partition')::int AND q.kafka_offset = (s.doc->>'kafka_offset')::bigint`,
    [target.bronzeObjectId, target.loadId],
  );
  // Resolved records not inserted were already loaded with the same payload: duplicates, so that
  // flat + open quarantine + duplicates = archived keeps holding. Counted from the comparison.
  const duplicates = await countDuplicates(client, spec, target.loadId);
  return { conflicts, updated, rekeyed: rekeyed!.n, inserted, duplicates };
}
