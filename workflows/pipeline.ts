// The pipeline DAG: archive -> transform -> load per object -> refresh aggregates -> quality.
// The work queue is the manifest (objects archived but not loaded), so a run that crashed or was
// cancelled leaves nothing behind that the next run will not pick up.
import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, PendingObject, QualityResult } from '../activities';
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

export interface PipelineInput {
  stream: string;
  /** Objects each archive step writes before transform and load catch up. */
  maxObjectsPerArchive?: number;
  /** Objects transformed and loaded at once. */
  objectConcurrency?: number;
  /** Totals carried over continue-as-new. */
  carried?: PipelineTotals;
}

export interface PipelineProgress extends PipelineTotals { stage: 'archive' | 'transform-load' | 'aggregate' | 'quality' | 'done' }
export interface PipelineResult extends PipelineTotals { quality: QualityResult; aggregatesRefreshed: string[] }

export const progressQuery = defineQuery<PipelineProgress>('progress');

const PAGE = 32;

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const { stream } = input;
  const totals: PipelineTotals = input.carried ?? { objectsArchived: 0, recordsArchived: 0, objectsLoaded: 0, rowsInserted: 0, duplicates: 0, quarantined: 0 };
  let stage: PipelineProgress['stage'] = 'archive';
  setHandler(progressQuery, () => ({ stage, ...totals }));

  const processObject = async (obj: PendingObject) => {
    if (!obj.transformed) {
      const t = await streaming.transform({ stream, bronzeObjectId: obj.bronzeObjectId });
      totals.quarantined += t.quarantined;
    }
    const l = await bounded.load({ stream, bronzeObjectId: obj.bronzeObjectId, workflowId: workflowInfo().workflowId });
    totals.objectsLoaded++;
    totals.rowsInserted += l.inserted;
    totals.duplicates += l.duplicates;
    totals.quarantined += l.conflicts;
  };

  for (;;) {
    stage = 'archive';
    const archived = await streaming.archive({ stream, maxObjects: input.maxObjectsPerArchive });
    totals.objectsArchived += archived.objectsArchived;
    totals.recordsArchived += archived.recordsArchived;

    stage = 'transform-load';
    const pending = await quick.listUnloadedObjects({ stream, limit: PAGE });
    await forEachLimited(pending, input.objectConcurrency ?? 2, processObject);
    if (archived.caughtUp && pending.length < PAGE) break;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof pipelineWorkflow>({ ...input, carried: totals });
  }

  stage = 'aggregate';
  const aggregatesRefreshed = await bounded.refreshAggregates({ stream });
  stage = 'quality';
  const quality = await quick.quality({ stream, runId: workflowInfo().workflowId });
  stage = 'done';
  return { ...totals, quality, aggregatesRefreshed };
}
