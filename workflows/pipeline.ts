// The pipeline DAG: archive -> transform -> load per object -> refresh aggregates -> quality.
// The work queue is the manifest (objects archived but not loaded), so a run that crashed or was
// cancelled leaves nothing behind that the next run will not pick up.
import { continueAsNew, defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import type { QualityResult } from '../activities';
import { showStage, showTotals } from './visibility';
import { archiveStep, emptyTotals, loadPage, PAGE, refreshAggregates, runQuality, type PipelineTotals } from './objects';

export type { PipelineTotals } from './objects';

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

export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const { stream } = input;
  const totals: PipelineTotals = input.carried ?? emptyTotals();
  let stage: PipelineProgress['stage'] = 'archive';
  setHandler(progressQuery, () => ({ stage, ...totals }));
  const enter = (next: PipelineProgress['stage']) => {
    stage = next;
    showStage(stream, next);
  };

  for (;;) {
    enter('archive');
    const archived = await archiveStep(totals, { stream, maxObjects: input.maxObjectsPerArchive });
    enter('transform-load');
    const pending = await loadPage(stream, totals, input.objectConcurrency ?? 2);
    showTotals(totals);
    if (archived.caughtUp && pending < PAGE) break;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof pipelineWorkflow>({ ...input, carried: totals });
  }

  enter('aggregate');
  const aggregatesRefreshed = await refreshAggregates(stream);
  enter('quality');
  const quality = await runQuality(stream, workflowInfo().workflowId);
  enter('done');
  return { ...totals, quality, aggregatesRefreshed };
}
