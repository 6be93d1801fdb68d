// Continuous mode: one long-running workflow per stream (id `stream-<topic>`). Each run of it does
// two things at once:
//  - the follower: ONE long-running `follow` activity that joins the archive consumer group once,
//    stays in it, and writes a bronze object per partition whenever its buffer holds
//    `maxRecordsPerObject` records or its oldest record is `flushIntervalMs` old (activities/archive/follow.ts);
//  - the loader: a loop that long-polls the manifest for archived-but-unloaded objects (one
//    activity that returns as soon as an object is written) and transforms and loads each at once.
// They never wait for each other, so the group is not rejoined per flush and archive overlaps
// transform and load. A run ends after `iterationsPerRun` loader passes (or when Temporal suggests
// it): the workflow cancels the follower, which writes what it has read and leaves the group; the
// loader drains the queue; then continue-as-new starts a fresh run with the totals carried, which
// keeps each history short at the cost of one group join per run. Stop is the same, ending with
// aggregates and quality checks instead of a new run. Exactly-once stays the archive's job.
import {
  ActivityFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, FollowCursor, PendingObject, QualityResult } from '../activities';
import {
  carriedTotals,
  emptyTotals,
  forEachLimited,
  lakeCatchUp,
  PAGE,
  processObject,
  refreshAggregates,
  runQuality,
  type PipelineTotals,
} from './objects';
import { FOLLOWING, LONG_POLL } from './policies';
import { kickSearchSync } from './search-sync';
import { showStage, showTotals } from './visibility';

const { follow } = proxyActivities<Activities>(FOLLOWING);
const { awaitUnloadedObjects } = proxyActivities<Activities>(LONG_POLL);

export interface StreamInput {
  stream: string;
  /** A record read by the follower is written to bronze at most this long after (the flush by time). */
  flushIntervalMs: number;
  /** Records per bronze object at most (the flush by size). */
  maxRecordsPerObject?: number;
  /** Objects transformed and loaded at once. */
  objectConcurrency?: number;
  /** Loader passes before continue-as-new (default 200; Temporal may suggest it sooner). */
  iterationsPerRun?: number;
  /** How long one long-poll of the work queue waits for an object (default 60 s). */
  pollWaitMs?: number;
  /** State carried over continue-as-new. */
  carried?: StreamCarried;
}

export interface StreamCarried extends PipelineTotals {
  /** Loader passes that found objects to transform and load. */
  iterations: number;
  startedAt: string;
  /** When the loader last found newly written objects. */
  lastFlushAt: string | null;
  lastAggregateAt: string | null;
  runs: number;
  /** Consumer-group joins of the followers so far: one per run unless Kafka forced a rebalance. */
  groupJoins: number;
}

export type StreamStage = 'following' | 'transform-load' | 'aggregate' | 'draining' | 'quality' | 'done';
export interface StreamStatus extends StreamCarried {
  stream: string;
  stage: StreamStage;
  stopRequested: boolean;
  flushIntervalMs: number;
}
export interface StreamResult extends StreamCarried {
  quality: QualityResult;
}

export const stopSignal = defineSignal('stop');
export const streamStatusQuery = defineQuery<StreamStatus>('status');
/** Same answer under the name pipeline runs use, so generic tools can ask any run for progress. */
export const streamProgressQuery = defineQuery<StreamStatus>('progress');

// A loader pass with objects adds ~4 events per object plus a few for the poll: a new run every
// 200 passes keeps the replay after a worker restart short.
const ITERATIONS_PER_RUN = 200;
const POLL_WAIT_MS = 60_000;
// Refreshing daily_summary rescans the flat table: at most once a minute, not once per flush.
const AGGREGATE_EVERY_MS = 60_000;

/** The counts in a failed follower's last heartbeat (a timeout carries it), if it had any. */
function lastHeartbeatOf(err: unknown): Pick<FollowCursor, 'objectsArchived' | 'recordsArchived' | 'groupJoins'> | undefined {
  const details = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure ? err.cause.lastHeartbeatDetails : undefined;
  if (typeof details !== 'object' || details === null) return undefined;
  const { objectsArchived, recordsArchived, groupJoins } = details as Record<string, unknown>;
  if (typeof objectsArchived !== 'number' || typeof recordsArchived !== 'number' || typeof groupJoins !== 'number') return undefined;
  return { objectsArchived, recordsArchived, groupJoins };
}

export async function streamWorkflow(input: StreamInput): Promise<StreamResult> {
  const { stream, flushIntervalMs } = input;
  const now = () => new Date(Date.now()).toISOString();
  // An object that fails for good is parked (processObject) and the stream goes on; `objectsParked`
  // and `parked` in its status and memo say so, and its quality checks at stop name them.
  const state: StreamCarried = input.carried
    ? carriedTotals(input.carried)
    : { ...emptyTotals(), iterations: 0, startedAt: now(), lastFlushAt: null, lastAggregateAt: null, runs: 0, groupJoins: 0 };
  state.runs++;
  let stage: StreamStage = 'following';
  let stopRequested = false;
  let loadedSinceAggregate = false;

  const follower = new CancellationScope();
  let followerDone = false;
  let followerError: unknown;
  let poll: CancellationScope | undefined;
  const followed = follower
    .run(() => follow({ stream, flushIntervalMs, maxRecordsPerObject: input.maxRecordsPerObject }))
    .then(
      (r) => {
        state.objectsArchived += r.objectsArchived;
        state.recordsArchived += r.recordsArchived;
        state.groupJoins += r.groupJoins;
      },
      (err: unknown) => {
        // Cancelled as asked, or it died (its worker was killed) after we asked it to end: either way
        // it has ended, and what it heartbeated last is what it archived. Any other failure is
        // permanent (transient ones are retried) and fails the stream once the queue is drained.
        const heartbeat = lastHeartbeatOf(err);
        if (heartbeat) {
          state.objectsArchived += heartbeat.objectsArchived;
          state.recordsArchived += heartbeat.recordsArchived;
          state.groupJoins += heartbeat.groupJoins;
        }
        if (!isCancellation(err) && !follower.consideredCancelled) followerError = err;
      },
    )
    .finally(() => {
      followerDone = true;
      // The loader stops waiting for new objects and drains what is there.
      poll?.cancel();
    });

  setHandler(stopSignal, () => {
    stopRequested = true;
    follower.cancel();
  });
  const status = (): StreamStatus => ({ stream, stage, stopRequested, flushIntervalMs, ...state });
  setHandler(streamStatusQuery, status);
  setHandler(streamProgressQuery, status);
  showStage(stream, 'following');

  let searchLaneKicked = false;
  const aggregate = async () => {
    stage = 'aggregate';
    if (patched('search-sink-lane')) await kickSearchSync(stream);
    await refreshAggregates(stream);
    state.lastAggregateAt = now();
    loadedSinceAggregate = false;
  };

  for (let i = 0; ; i++) {
    // Read before polling: only if the follower had ended did this poll see every object it will
    // ever write. One that ends while the page loads may write more, which the next pass drains.
    const followerEnded = followerDone;
    stage = followerEnded ? 'draining' : 'following';
    let page: PendingObject[];
    poll = new CancellationScope();
    try {
      page = await poll.run(() =>
        awaitUnloadedObjects({ stream, limit: PAGE, waitMs: followerEnded ? 0 : (input.pollWaitMs ?? POLL_WAIT_MS) }),
      );
    } catch (err) {
      if (isCancellation(err) && followerDone) continue;
      throw err;
    } finally {
      poll = undefined;
    }
    if (page.length > 0) {
      stage = 'transform-load';
      state.lastFlushAt = now();
      await forEachLimited(page, input.objectConcurrency ?? 2, (obj) => processObject(stream, state, obj));
      loadedSinceAggregate = true;
      // The search lane starts with the first rows this run loads, not only at the next aggregate.
      if (!searchLaneKicked && patched('search-sink-lane')) {
        searchLaneKicked = true;
        await kickSearchSync(stream);
      }
      state.iterations++;
      showTotals(state);
    }
    if (followerEnded && page.length < PAGE) break;
    if (loadedSinceAggregate && Date.now() - Date.parse(state.lastAggregateAt ?? state.startedAt) >= AGGREGATE_EVERY_MS) await aggregate();
    if (!followerDone && (workflowInfo().continueAsNewSuggested || i + 1 >= (input.iterationsPerRun ?? ITERATIONS_PER_RUN)))
      follower.cancel();
  }
  await followed;
  if (followerError) throw followerError;

  if (!stopRequested && loadedSinceAggregate) await aggregate();
  // Checked after the last await: a stop that arrived meanwhile is honoured below; one that arrives
  // from now on makes the server refuse this continue-as-new and replay the task with it delivered.
  if (!stopRequested) await continueAsNew<typeof streamWorkflow>({ ...input, carried: state });

  // Stopping cleanly: aggregates reflect every row loaded, and the stream's invariants are checked.
  // The workflow id is reused by every start, so the session's start time makes the run id unique.
  if (loadedSinceAggregate || state.lastAggregateAt === null) await aggregate();
  // Each load wrote its lake already; what is still behind (a lake write that failed) gets one more try.
  await lakeCatchUp(stream, state, input.objectConcurrency ?? 2);
  stage = 'quality';
  showStage(stream, 'quality');
  const quality = await runQuality(stream, `${workflowInfo().workflowId}-${state.startedAt.slice(0, 19)}Z`);
  stage = 'done';
  showStage(stream, 'done');
  return { ...state, quality };
}
