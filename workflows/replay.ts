// Replay from bronze (`etl replay`): re-derive the loaded objects of an event-time window with the
// worker's current rules, a page of objects at a time, then refresh aggregates and run the quality
// checks. Each object is one idempotent transaction (activities/replay/replay.ts), so the whole replay can
// be retried, cancelled or repeated: a second replay with the same rules changes nothing.
// An object whose replay fails for good (a permanent code, or an unclassified error after its
// bounded attempts) keeps its rows as they are; the replay goes on with the others and then fails
// naming it (REPLAY_INCOMPLETE). Running the same replay again after the fix completes it.
import { ApplicationFailure, continueAsNew, defineQuery, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, QualityResult } from '../activities';
import type { ReplayObjectResult } from '../activities/replay/replay';
import { addReplayCounts, emptyReplayCounts, type ReplayCounts } from '../shared/replay-counts';
import { describeFailure, finalFailureOf, forEachLimited, lakeCatchUp, PAGE, refreshAggregates, runQuality, writeLake } from './objects';
import { BOUNDED, QUICK } from './policies';
import { kickSearchSync } from './search-sync';
import { showStage, showTotals } from './visibility';

const bounded = proxyActivities<Activities>(BOUNDED);
const quick = proxyActivities<Activities>(QUICK);

export interface ReplayInput {
  stream: string;
  /** Event-time window [fromMs, toMs): every loaded object whose event times overlap it, whole. */
  fromMs: number;
  toMs: number;
  /** Objects replayed at once. */
  objectConcurrency?: number;
  /** State carried over continue-as-new. */
  carried?: ReplayTotals;
}

export interface ReplayTotals extends ReplayCounts {
  objectsDone: number;
  objectsTotal: number;
  /** Objects of the window without their own load yet: skipped (run the pipeline, then replay). */
  objectsNotLoaded: number;
  /** Id cursor: objects up to this id are done. */
  afterId: number;
  /** Objects whose replay failed for good: left as they were. */
  objectsFailed: number;
  /** `#id CODE: message` of the first few. */
  failedSample: string[];
  /** Objects whose Parquet lake files the replay rewrote, and whose lake write failed for good (left behind). */
  lakeObjectsWritten: number;
  lakeFailed: number;
}

export type ReplayStage = 'replay' | 'aggregate' | 'quality' | 'done';
export interface ReplayProgress extends ReplayTotals {
  stream: string;
  fromMs: number;
  toMs: number;
  stage: ReplayStage;
}
export interface ReplayResult extends ReplayTotals {
  quality: QualityResult;
  aggregatesRefreshed: string[];
}

/** Same name as the pipeline's query, so `etl status <workflowId>` and other tools can ask any run. */
export const replayProgressQuery = defineQuery<ReplayProgress>('progress');

// One page is ~PAGE * 6 history events: a fresh run every 20 pages keeps a worker's replay short.
const PAGES_PER_RUN = 20;
const SAMPLE = 10;

const emptyTotals = (): ReplayTotals => ({
  ...emptyReplayCounts(),
  objectsDone: 0,
  objectsTotal: 0,
  objectsNotLoaded: 0,
  afterId: 0,
  objectsFailed: 0,
  failedSample: [],
  lakeObjectsWritten: 0,
  lakeFailed: 0,
});

function add(t: ReplayTotals, r: ReplayObjectResult): void {
  t.objectsDone++;
  if (r.notLoaded) return; // loaded by nobody yet: counted by the window's notLoaded instead
  addReplayCounts(t, r, SAMPLE);
}

export async function replayWorkflow(input: ReplayInput): Promise<ReplayResult> {
  const { stream, fromMs, toMs } = input;
  const totals: ReplayTotals = { ...emptyTotals(), ...input.carried };
  const { workflowId, firstExecutionRunId } = workflowInfo();
  let stage: ReplayStage = 'replay';
  setHandler(replayProgressQuery, () => ({ stream, fromMs, toMs, stage, ...totals }));
  const enter = (next: ReplayStage) => {
    stage = next;
    showStage(stream, next);
  };
  enter('replay');

  for (let pages = 0; ; pages++) {
    const page = await quick.listObjectsInWindow({ stream, fromMs, toMs, afterId: totals.afterId, limit: PAGE });
    totals.objectsTotal = totals.objectsDone + page.remaining;
    totals.objectsNotLoaded = page.notLoaded;
    await forEachLimited(page.objects, input.objectConcurrency ?? 2, async (obj) => {
      // firstExecutionRunId survives continue-as-new: a retried object finds the load it committed.
      let replayed: ReplayObjectResult;
      try {
        replayed = await bounded.replayObject({ stream, bronzeObjectId: obj.bronzeObjectId, workflowId, runKey: firstExecutionRunId });
      } catch (err) {
        const failure = finalFailureOf(err);
        if (!failure) throw err;
        totals.objectsDone++;
        totals.objectsFailed++;
        if (totals.failedSample.length < SAMPLE)
          totals.failedSample.push(`#${obj.bronzeObjectId} ${describeFailure(failure).slice(0, 200)}`);
        return;
      }
      add(totals, replayed);
      // The lake follows the re-derived rows (a no-op when the replay changed none of them).
      if (!replayed.notLoaded) await writeLake(stream, totals, obj.bronzeObjectId);
    });
    if (page.objects.length > 0) totals.afterId = page.objects.at(-1)!.bronzeObjectId;
    showTotals({ ...totals, rowsInserted: totals.inserted, quarantined: 0 });
    if (page.objects.length < PAGE) break;
    if (workflowInfo().continueAsNewSuggested || pages + 1 >= PAGES_PER_RUN)
      await continueAsNew<typeof replayWorkflow>({ ...input, carried: totals });
  }

  // Objects outside the window the lake is still behind (a lake write that failed before, a quarantine replay).
  await lakeCatchUp(stream, totals, input.objectConcurrency ?? 2);
  // Re-derived rows bumped their objects' rows_version: the search lane re-indexes them, on its own.
  if (patched('search-sink-lane')) await kickSearchSync(stream);
  enter('aggregate');
  const aggregatesRefreshed = await refreshAggregates(stream);
  enter('quality');
  const quality = await runQuality(stream, workflowId);
  enter('done');
  const result: ReplayResult = { ...totals, quality, aggregatesRefreshed };
  if (totals.objectsFailed > 0) {
    throw ApplicationFailure.create({
      type: 'REPLAY_INCOMPLETE',
      message:
        `replay of ${stream}: ${totals.objectsFailed} object(s) could not be replayed and keep their rows as they were: ${totals.failedSample.join('; ')}; ` +
        'fix the cause and run the same `etl replay` again',
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
