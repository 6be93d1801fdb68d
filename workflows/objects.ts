// Transform and load of archived bronze objects, shared by the pipeline run and the continuous
// stream: both drain the same work queue (the manifest's archived-but-unloaded objects) the same way.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, PendingObject } from '../activities';
import { BOUNDED, QUICK, STREAMING } from './policies';

const streaming = proxyActivities<Activities>(STREAMING);
const bounded = proxyActivities<Activities>(BOUNDED);
const quick = proxyActivities<Activities>(QUICK);

export interface PipelineTotals {
  objectsArchived: number;
  recordsArchived: number;
  objectsLoaded: number;
  rowsInserted: number;
  duplicates: number;
  quarantined: number;
}

export const emptyTotals = (): PipelineTotals => ({ objectsArchived: 0, recordsArchived: 0, objectsLoaded: 0, rowsInserted: 0, duplicates: 0, quarantined: 0 });

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

/** Transforms (unless a previous attempt did) and loads one object, adding to `totals`. */
export async function processObject(stream: string, totals: PipelineTotals, obj: PendingObject): Promise<void> {
  if (!obj.transformed) {
    const t = await streaming.transform({ stream, bronzeObjectId: obj.bronzeObjectId });
    totals.quarantined += t.quarantined;
  }
  const l = await bounded.load({ stream, bronzeObjectId: obj.bronzeObjectId, workflowId: workflowInfo().workflowId });
  // Another workflow (a stream beside a scheduled run) got there first: its counts are its own.
  if (l.alreadyLoaded) return;
  totals.objectsLoaded++;
  totals.rowsInserted += l.inserted;
  totals.duplicates += l.duplicates;
  totals.quarantined += l.conflicts;
}

/** One page of the work queue, transformed and loaded; returns how many objects it held. */
export async function loadPage(stream: string, totals: PipelineTotals, concurrency: number): Promise<number> {
  const pending = await quick.listUnloadedObjects({ stream, limit: PAGE });
  await forEachLimited(pending, concurrency, (obj) => processObject(stream, totals, obj));
  return pending.length;
}

export const refreshAggregates = (stream: string) => bounded.refreshAggregates({ stream });
export const runQuality = (stream: string, runId: string) => quick.quality({ stream, runId });
