// Continuous mode: one long-running workflow per stream (id `stream-<stream>`) that archives what
// Kafka holds every flush interval — or at once again while a backlog remains — and transforms and
// loads each object as soon as it is written. Exactly-once stays the archive's job (its manifest
// plans every offset range before reading it), so this loop adds latency control, nothing else.
import { condition, continueAsNew, defineQuery, defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';
import type { QualityResult } from '../activities';
import { archiveStep, emptyTotals, loadPage, PAGE, refreshAggregates, runQuality, type PipelineTotals } from './objects';

export interface StreamInput {
  stream: string;
  /** Wait between archive steps once Kafka is drained: the worst-case age of a record at flush. */
  flushIntervalMs: number;
  /** Records per bronze object at most: a backlog is flushed in objects of this size. */
  maxRecordsPerObject?: number;
  /** Objects transformed and loaded at once. */
  objectConcurrency?: number;
  /** Iterations before continue-as-new (default 200; Temporal may suggest it sooner). */
  iterationsPerRun?: number;
  /** State carried over continue-as-new. */
  carried?: StreamCarried;
}

export interface StreamCarried extends PipelineTotals {
  iterations: number;
  startedAt: string;
  lastFlushAt: string | null;
  lastAggregateAt: string | null;
  runs: number;
}

export type StreamStage = 'archive' | 'transform-load' | 'aggregate' | 'idle' | 'quality' | 'done';
export interface StreamStatus extends StreamCarried { stream: string; stage: StreamStage; stopRequested: boolean; flushIntervalMs: number }
export interface StreamResult extends StreamCarried { quality: QualityResult }

export const stopSignal = defineSignal('stop');
export const streamStatusQuery = defineQuery<StreamStatus>('status');
/** Same answer under the name pipeline runs use, so generic tools can ask any run for progress. */
export const streamProgressQuery = defineQuery<StreamStatus>('progress');

// An idle iteration adds about 17 history events (two activities, a timer, three workflow tasks):
// a new run every 200 iterations (~17 min at 5 s) keeps the replay after a worker restart short.
const ITERATIONS_PER_RUN = 200;
// Refreshing daily_summary rescans the flat table: at most once a minute, not once per flush.
const AGGREGATE_EVERY_MS = 60_000;

export async function streamWorkflow(input: StreamInput): Promise<StreamResult> {
  const { stream, flushIntervalMs } = input;
  const now = () => new Date(Date.now()).toISOString();
  const state: StreamCarried = input.carried ?? { ...emptyTotals(), iterations: 0, startedAt: now(), lastFlushAt: null, lastAggregateAt: null, runs: 0 };
  state.runs++;
  let stage: StreamStage = 'archive';
  let stopRequested = false;
  let loadedSinceAggregate = false;
  setHandler(stopSignal, () => void (stopRequested = true));
  const status = (): StreamStatus => ({ stream, stage, stopRequested, flushIntervalMs, ...state });
  setHandler(streamStatusQuery, status);
  setHandler(streamProgressQuery, status);

  const aggregate = async () => {
    stage = 'aggregate';
    await refreshAggregates(stream);
    state.lastAggregateAt = now();
    loadedSinceAggregate = false;
  };

  for (let i = 0; ; i++) {
    stage = 'archive';
    const archived = await archiveStep(state, { stream, maxRecordsPerObject: input.maxRecordsPerObject });
    if (archived.objectsArchived > 0) state.lastFlushAt = now();

    stage = 'transform-load';
    // Drains the whole queue, not one page: objects left by a crashed run or a scheduled run's
    // archive are loaded here too, whoever wrote them.
    let page: number;
    do {
      const before = state.objectsLoaded;
      page = await loadPage(stream, state, input.objectConcurrency ?? 2);
      if (state.objectsLoaded > before) loadedSinceAggregate = true;
    } while (page === PAGE);
    state.iterations++;

    if (loadedSinceAggregate && Date.now() - Date.parse(state.lastAggregateAt ?? state.startedAt) >= AGGREGATE_EVERY_MS) await aggregate();
    if (stopRequested) break;
    // A backlog (the archive stopped at its object cap) is worked off without waiting.
    if (archived.caughtUp) {
      stage = 'idle';
      if (await condition(() => stopRequested, flushIntervalMs)) break;
    }
    if (workflowInfo().continueAsNewSuggested || i + 1 >= (input.iterationsPerRun ?? ITERATIONS_PER_RUN)) {
      if (loadedSinceAggregate) await aggregate();
      await continueAsNew<typeof streamWorkflow>({ ...input, carried: state });
    }
  }

  // Stopping cleanly: aggregates reflect every row loaded, and the stream's invariants are checked.
  // The workflow id is reused by every start, so the session's start time makes the run id unique.
  if (loadedSinceAggregate || state.lastAggregateAt === null) await aggregate();
  stage = 'quality';
  const quality = await runQuality(stream, `${workflowInfo().workflowId}-${state.startedAt.slice(0, 19)}Z`);
  stage = 'done';
  return { ...state, quality };
}
