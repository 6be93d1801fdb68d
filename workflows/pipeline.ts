// The pipeline DAG: archive -> transform -> load per object -> refresh aggregates -> quality, with
// archive running beside transform and load.
// The work queue is the manifest (objects archived but not loaded), so a run that crashed or was
// cancelled leaves nothing behind that the next run will not pick up.
// Nothing but a transient failure stops it for long: an object that fails for good is parked and the
// others load; an archive that fails for good stops archiving and what was archived still loads.
// Either way aggregates and quality still run, and then the run fails with the reason.
import { type ApplicationFailure, continueAsNew, defineQuery, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { QualityResult } from '../activities';
import { kickSearchSync } from './search-sync';
import { showStage, showTotals } from './visibility';
import {
  archiveStep,
  carriedTotals,
  finalFailureOf,
  lakeCatchUp,
  loadBeside,
  refreshAggregates,
  runFailure,
  runQuality,
  type PipelineTotals,
} from './objects';

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

export interface PipelineProgress extends PipelineTotals {
  stage: 'archive' | 'transform-load' | 'aggregate' | 'quality' | 'done';
}
export interface PipelineResult extends PipelineTotals {
  quality: QualityResult;
  aggregatesRefreshed: string[];
}

export const progressQuery = defineQuery<PipelineProgress>('progress');

export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const { stream } = input;
  const totals: PipelineTotals = carriedTotals(input.carried);
  let stage: PipelineProgress['stage'] = 'archive';
  setHandler(progressQuery, () => ({ stage, ...totals }));
  const enter = (next: PipelineProgress['stage']) => {
    stage = next;
    showStage(stream, next);
  };

  // Two lanes at once: archive keeps writing objects while transform and load drain the work queue,
  // so Kafka reads, S3 writes and PostgreSQL loads overlap instead of taking turns on the CPU.
  let archiving = true;
  let archiveSteps = 0;
  let handOver = false;
  let archiveFailure: ApplicationFailure | undefined;
  const archiveLane = async () => {
    try {
      for (;;) {
        const archived = await archiveStep(totals, { stream, maxObjects: input.maxObjectsPerArchive });
        archiveSteps++;
        if (archived.caughtUp) break;
        if (workflowInfo().continueAsNewSuggested) {
          handOver = true;
          break;
        }
      }
    } catch (err) {
      // Nothing to park: the load lane drains what is archived, then the run fails with this.
      archiveFailure = finalFailureOf(err);
      if (!archiveFailure) throw err;
    }
    archiving = false;
    if (stage === 'archive') enter('transform-load');
  };
  const loadLane = () => loadBeside(stream, totals, input.objectConcurrency ?? 2, { running: () => archiving, steps: () => archiveSteps });
  enter('archive');
  await Promise.all([archiveLane(), loadLane()]);
  if (handOver) await continueAsNew<typeof pipelineWorkflow>({ ...input, carried: totals });
  // Whatever the lake is behind (a write that failed, a replay of quarantined records, runs before the lake).
  await lakeCatchUp(stream, totals, input.objectConcurrency ?? 2);
  showTotals(totals);

  // The search sink's lane indexes what this run loaded, on its own: nothing here waits for it.
  if (patched('search-sink-lane')) await kickSearchSync(stream);
  enter('aggregate');
  const aggregatesRefreshed = await refreshAggregates(stream);
  enter('quality');
  const quality = await runQuality(stream, workflowInfo().workflowId);
  enter('done');
  const result: PipelineResult = { ...totals, quality, aggregatesRefreshed };
  if (archiveFailure || totals.objectsParked > 0) throw runFailure(`pipeline run of ${stream}`, totals, archiveFailure, result);
  return result;
}
