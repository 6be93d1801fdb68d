// The search sink's own lane (docs/search.md): one long-lived workflow per stream that pages
// through the manifest with a cursor, indexing every object whose flat rows the index is behind on,
// and then waits for a kick (a load, a replay) or a short timer. It shares nothing with the load
// but the tables it reads: a slow or failed OpenSearch delays this lane only. A node that is down
// makes its activity retry with backoff (transient, visible in the Web UI); once it is back the
// lane catches up from its cursor. History stays bounded by continue-as-new.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { finalFailureOf } from './objects';
import { BOUNDED, QUICK } from './policies';

const bounded = proxyActivities<Activities>(BOUNDED);
const quick = proxyActivities<Activities>(QUICK);

export interface SearchSyncTotals {
  objectsIndexed: number;
  docsIndexed: number;
  docsRejected: number;
}

export interface SearchSyncInput {
  stream: string;
  /** The cursor: objects with a larger id come next. */
  afterObjectId?: number;
  /** How long the lane waits without a kick before it looks again (catches quarantine replays). */
  idleMs?: number;
  /** Objects per activity call. */
  pageSize?: number;
  carried?: SearchSyncTotals;
}

export interface SearchSyncStatus extends SearchSyncTotals {
  stream: string;
  cursor: number;
  state: 'indexing' | 'idle' | 'stopped-on-error';
  /** The final failure the lane stopped on (it waits for the next kick to try again), if any. */
  lastError?: string;
}

/** "There are new rows": sent by the pipeline run, the continuous stream and a replay. */
export const searchKickSignal = defineSignal('searchKick');
export const searchSyncStatusQuery = defineQuery<SearchSyncStatus>('searchSyncStatus');

const PAGES_PER_RUN = 500;

export async function searchSyncWorkflow(input: SearchSyncInput): Promise<void> {
  const { stream } = input;
  const totals: SearchSyncTotals = { objectsIndexed: 0, docsIndexed: 0, docsRejected: 0, ...input.carried };
  let cursor = input.afterObjectId ?? 0;
  let kicked = false;
  let state: SearchSyncStatus['state'] = 'indexing';
  let lastError: string | undefined;
  setHandler(searchKickSignal, () => {
    kicked = true;
  });
  setHandler(searchSyncStatusQuery, () => ({ stream, cursor, state, ...totals, ...(lastError ? { lastError } : {}) }));

  for (let pages = 0; pages < PAGES_PER_RUN && !workflowInfo().continueAsNewSuggested; pages++) {
    state = 'indexing';
    try {
      const page = await bounded.searchSyncPage({ stream, afterObjectId: cursor, limit: input.pageSize ?? 16 });
      if (page.off) return; // turned off: a later run or `etl search sync` starts the lane again
      totals.objectsIndexed += page.objects;
      totals.docsIndexed += page.docsIndexed;
      totals.docsRejected += page.docsRejected;
      lastError = undefined;
      cursor = page.exhausted ? 0 : page.lastObjectId;
      if (!page.exhausted || page.objects > 0) continue;
      state = 'idle';
    } catch (err) {
      // Transient failures never get here (retried without limit); this is a permanent one or a bug
      // after its bounded attempts. Not retried on a timer: the lane waits for the next kick.
      const final = finalFailureOf(err);
      if (!final) throw err;
      lastError = `${final.type ?? 'UNKNOWN_ERROR'}: ${final.message}`;
      log.error('search sink lane stopped on a final failure; the next kick tries again', { stream, error: lastError });
      state = 'stopped-on-error';
      kicked = false;
      await condition(() => kicked);
      continue;
    }
    kicked = false;
    await condition(() => kicked, input.idleMs ?? 10_000);
  }
  await continueAsNew<typeof searchSyncWorkflow>({ ...input, afterObjectId: cursor, carried: totals });
}

/**
 * Starts the stream's lane if the search sink is on and the stream declares an index, or kicks the
 * running one. Never fails its caller: the load does not depend on the index in any way.
 */
export async function kickSearchSync(stream: string): Promise<void> {
  try {
    const lane = await quick.searchSinkLane({ stream });
    if (!lane) return;
    try {
      await startChild(searchSyncWorkflow, {
        workflowId: lane.workflowId,
        args: [{ stream }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      // WorkflowExecutionAlreadyStartedError (of @temporalio/common, which workflow code does not import).
      if ((err as { name?: string }).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
      await getExternalWorkflowHandle(lane.workflowId).signal(searchKickSignal);
    }
  } catch (err) {
    log.warn('could not start or kick the search sink lane; it catches up when it next runs', {
      stream,
      error: err instanceof ApplicationFailure || err instanceof Error ? err.message : String(err),
    });
  }
}
