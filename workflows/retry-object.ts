// `etl objects retry <id>`: one parked bronze object back through transform and load, after the fix.
// It un-parks the object and processes it exactly as a run would (workflows/objects.ts): the load is
// one transaction per object, guarded by its lock and its unique load row, so a retry beside a
// pipeline run or a second retry loads nothing twice. If it fails for good again it is parked again
// and this run fails with the reason.
import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, QualityResult } from '../activities';
import { emptyTotals, processObject, refreshAggregates, runFailure, runQuality, type PipelineTotals } from './objects';
import { QUICK } from './policies';
import { showStage } from './visibility';

const quick = proxyActivities<Activities>(QUICK);

export interface RetryObjectInput {
  stream: string;
  bronzeObjectId: number;
}

export interface RetryObjectResult extends PipelineTotals {
  bronzeObjectId: number;
  /** loaded: by this retry; already-loaded: before it (a previous retry, another run). */
  outcome: 'loaded' | 'already-loaded';
  /** It was parked when the retry began. */
  wasParked: boolean;
  quality?: QualityResult;
}

export type RetryObjectStage = 'unpark' | 'transform-load' | 'aggregate' | 'quality' | 'done';
export const retryObjectProgressQuery = defineQuery<{ stage: RetryObjectStage } & PipelineTotals>('progress');

export async function retryObjectWorkflow(input: RetryObjectInput): Promise<RetryObjectResult> {
  const { stream, bronzeObjectId } = input;
  const totals = emptyTotals();
  let stage: RetryObjectStage = 'unpark';
  setHandler(retryObjectProgressQuery, () => ({ stage, ...totals }));
  const enter = (next: RetryObjectStage) => {
    stage = next;
    showStage(stream, next);
  };
  enter('unpark');
  const u = await quick.unparkObject({ stream, bronzeObjectId });
  if (!u.object) {
    enter('done');
    return { ...totals, bronzeObjectId, outcome: 'already-loaded', wasParked: u.wasParked };
  }
  enter('transform-load');
  await processObject(stream, totals, u.object);
  if (totals.objectsParked > 0)
    throw runFailure(`retry of bronze object ${bronzeObjectId}`, totals, undefined, { ...totals, bronzeObjectId });
  // Loaded by someone else between the un-park and our load: nothing new to refresh or check.
  if (totals.objectsLoaded === 0) {
    enter('done');
    return { ...totals, bronzeObjectId, outcome: 'already-loaded', wasParked: u.wasParked };
  }
  enter('aggregate');
  await refreshAggregates(stream);
  enter('quality');
  const quality = await runQuality(stream, workflowInfo().workflowId);
  enter('done');
  return { ...totals, bronzeObjectId, outcome: 'loaded', wasParked: u.wasParked, quality };
}
