// Transform and load of archived bronze objects, shared by the pipeline run and the continuous
// stream: both drain the same work queue (the manifest's archived-but-unloaded objects) the same way.
// An object whose transform-and-load fails for good (a non-retryable failure: a permanent code, or an
// unclassified error after its bounded attempts) is parked and the others go on; the run reports it.
import type { Duration } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, condition, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, FailureDetails, PendingObject } from '../activities';
import { describeParked } from '../shared/parked';
import { BOUNDED, QUICK, STREAMING } from './policies';
import { showTotals } from './visibility';

const streaming = proxyActivities<Activities>(STREAMING);
const bounded = proxyActivities<Activities>(BOUNDED);
const quick = proxyActivities<Activities>(QUICK);

/** A parked object as a run reports it. */
export interface ParkedNote {
  bronzeObjectId: number;
  /** The step that failed: the one pass over the object ('transform' or 'load' in notes carried from runs before it). */
  step: 'transform-load' | 'transform' | 'load';
  code: string;
  message: string;
}

export interface PipelineTotals {
  objectsArchived: number;
  recordsArchived: number;
  objectsLoaded: number;
  rowsInserted: number;
  duplicates: number;
  quarantined: number;
  /** Objects this run parked (`etl objects list --parked`). */
  objectsParked: number;
  /** The first few of them. */
  parked: ParkedNote[];
  /** Objects whose Parquet lake files this run (re)wrote. */
  lakeObjectsWritten: number;
  /** Objects whose lake write failed for good: loaded, but their lake is behind (`etl lake`, `etl lake sync`). */
  lakeFailed: number;
}

export const emptyTotals = (): PipelineTotals => ({
  objectsArchived: 0,
  recordsArchived: 0,
  objectsLoaded: 0,
  rowsInserted: 0,
  duplicates: 0,
  quarantined: 0,
  objectsParked: 0,
  parked: [],
  lakeObjectsWritten: 0,
  lakeFailed: 0,
});

/** Totals carried over continue-as-new, from a run that may predate a field: missing ones start at zero. */
export const carriedTotals = <T extends Partial<PipelineTotals>>(carried: T | undefined): PipelineTotals & T =>
  ({ ...emptyTotals(), ...carried }) as PipelineTotals & T;

const PARKED_NOTES = 10;

/** The failure an activity ended with for good: its retry policy will not try again. */
export function finalFailureOf(err: unknown): ApplicationFailure | undefined {
  // Transient failures are retried without limit, so an ApplicationFailure that reaches the
  // workflow is final: a permanent code, or UNKNOWN_ERROR at its last attempt.
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

/** "UNKNOWN_ERROR: boom": type and message of a final failure. */
export const describeFailure = (f: ApplicationFailure) => `${f.type ?? 'UNKNOWN_ERROR'}: ${f.message}`;

/** Objects fetched from the work queue per look-up: keeps each activity result small. */
export const PAGE = 32;

export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

/** Archives what Kafka holds now (up to `maxObjects`), adding to `totals`. */
export async function archiveStep(totals: PipelineTotals, input: { stream: string; maxObjects?: number; maxRecordsPerObject?: number }) {
  const archived = await streaming.archive(input);
  totals.objectsArchived += archived.objectsArchived;
  totals.recordsArchived += archived.recordsArchived;
  return archived;
}

/**
 * Transforms and loads one object in one pass (one activity, one transaction), adding to `totals`;
 * parks it instead when the pass fails for good.
 */
export async function processObject(stream: string, totals: PipelineTotals, obj: PendingObject): Promise<void> {
  try {
    const r = await streaming.transformAndLoad({ stream, bronzeObjectId: obj.bronzeObjectId, workflowId: workflowInfo().workflowId });
    // Another workflow (a stream beside a scheduled run) got there first: its counts are its own.
    if (!r.alreadyLoaded) {
      totals.objectsLoaded++;
      totals.rowsInserted += r.inserted;
      totals.duplicates += r.duplicates;
      totals.quarantined += r.quarantined + r.conflicts + r.rejected;
    }
  } catch (err) {
    const failure = finalFailureOf(err);
    if (!failure) throw err;
    await park(stream, totals, obj.bronzeObjectId, 'transform-load', failure);
    return;
  }
  // Loaded and committed: the lake follows in an activity of its own, so its failure never undoes or parks the load.
  await writeLake(stream, totals, obj.bronzeObjectId);
}

export type LakeTotals = Pick<PipelineTotals, 'lakeObjectsWritten' | 'lakeFailed'>;

/**
 * The Parquet lake files of one loaded object (idempotent: nothing is written when they are current).
 * A write that fails for good leaves the object's lake behind, counted; the catch-up or
 * `etl lake sync` writes it later.
 */
export async function writeLake(stream: string, totals: LakeTotals, bronzeObjectId: number): Promise<void> {
  try {
    const r = await bounded.writeLake({ stream, bronzeObjectId });
    if (!r.upToDate) totals.lakeObjectsWritten++;
  } catch (err) {
    if (!finalFailureOf(err)) throw err;
    totals.lakeFailed++;
  }
}

/** Writes the lake of every loaded object of `stream` it is behind (a page at a time, each object once per call). */
export async function lakeCatchUp(stream: string, totals: LakeTotals, concurrency: number): Promise<void> {
  for (let afterId = 0; ;) {
    const page = await quick.listLakeBehind({ stream, afterId, limit: PAGE });
    await forEachLimited(page, concurrency, (obj) => writeLake(stream, totals, obj.bronzeObjectId));
    if (page.length < PAGE) return;
    afterId = page.at(-1)!.bronzeObjectId;
  }
}

async function park(
  stream: string,
  totals: PipelineTotals,
  bronzeObjectId: number,
  step: 'transform-load',
  failure: ApplicationFailure,
): Promise<void> {
  const details = (failure.details?.[0] ?? {}) as Partial<FailureDetails>;
  const code = failure.type ?? 'UNKNOWN_ERROR';
  const { parked } = await quick.parkObject({
    stream,
    bronzeObjectId,
    step,
    code,
    message: failure.message,
    stack: details.stack ?? failure.stack,
    attempts: details.attempt,
    workflowId: workflowInfo().workflowId,
  });
  if (!parked) return; // loaded meanwhile by another workflow: nothing is missing
  totals.objectsParked++;
  if (totals.parked.length < PARKED_NOTES) totals.parked.push({ bronzeObjectId, step, code, message: failure.message.slice(0, 300) });
}

/**
 * The failure a run ends with after loading everything else, when it parked objects or its archive
 * failed for good: non-retryable, with the reason and what to do, and the run's result as details.
 */
export function runFailure(
  what: string,
  totals: PipelineTotals,
  archiveFailure: ApplicationFailure | undefined,
  result: unknown,
): ApplicationFailure {
  const reasons: string[] = [];
  if (archiveFailure)
    reasons.push(
      `archive failed (${describeFailure(archiveFailure)}); what was archived before is loaded, and the next run archives the rest`,
    );
  if (totals.objectsParked > 0) {
    const named = totals.parked.map((p) => describeParked({ ...p, id: p.bronzeObjectId }, 160)).join('; ');
    const more = totals.objectsParked > totals.parked.length ? ` and ${totals.objectsParked - totals.parked.length} more` : '';
    const first = totals.parked[0]?.bronzeObjectId ?? '<id>';
    reasons.push(
      `parked ${totals.objectsParked} bronze object(s) after loading everything else: ${named}${more}; fix the cause, then \`etl objects retry ${first}\``,
    );
  }
  return ApplicationFailure.create({
    type: archiveFailure && totals.objectsParked === 0 ? (archiveFailure.type ?? 'UNKNOWN_ERROR') : 'OBJECT_PARKED',
    message: `${what}: ${reasons.join('; ')}`,
    nonRetryable: true,
    details: [result],
  });
}

/** One page of the work queue, transformed and loaded; returns how many objects it held. */
export async function loadPage(stream: string, totals: PipelineTotals, concurrency: number): Promise<number> {
  const pending = await quick.listUnloadedObjects({ stream, limit: PAGE });
  await forEachLimited(pending, concurrency, (obj) => processObject(stream, totals, obj));
  return pending.length;
}

/** The lane beside a load lane that writes objects into the work queue (Kafka's archive, a file source's reads). */
export interface WritingLane {
  running(): boolean;
  /** Steps it has finished: a new one may have written objects. */
  steps(): number;
}

/**
 * The load lane: drains the work queue while `writer` fills it, and returns once the writer has
 * stopped and a page came back short. `wakeEvery` bounds a wait for a writer whose steps are long
 * but whose objects appear during them (a long file is split into objects while it is read).
 */
export async function loadBeside(
  stream: string,
  totals: PipelineTotals,
  concurrency: number,
  writer: WritingLane,
  wakeEvery?: Duration,
): Promise<void> {
  for (;;) {
    // Read before listing: if the writer had stopped, the listing saw every object it will ever write.
    const stopped = !writer.running();
    const seen = writer.steps();
    const pending = await loadPage(stream, totals, concurrency);
    showTotals(totals);
    if (stopped && pending < PAGE) return;
    if (pending === 0) {
      const moved = () => writer.steps() > seen || !writer.running();
      if (wakeEvery === undefined) await condition(moved);
      else await condition(moved, wakeEvery);
    }
  }
}

export const refreshAggregates = (stream: string) => bounded.refreshAggregates({ stream });
export const runQuality = (stream: string, runId: string) => quick.quality({ stream, runId });
