// The search sink's lane (workflows/search-sync.ts) on stub activities: it pages through the
// objects with its cursor until none is behind, then waits for a kick; a node that is down only
// delays it (the transient failure is retried, the lane goes on afterwards); a final failure stops
// it until the next kick instead of retrying on a timer; it ends when the sink is turned off; and
// the pipeline starts it, then only kicks it, never failing because of it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SearchSyncPageInput, SearchSyncPageResult } from '../../activities';
import { asActivity } from '../../activities/failures';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import type { SearchSyncStatus } from '../../workflows';
import { startWorkflowEnv, withWorker, workflowId, type StubActivities, type WorkflowTestEnv } from './env';
import { FakeWorkQueue } from './fake-work-queue';

const config = { ...loadConfig(), UNKNOWN_ERROR_MAX_ATTEMPTS: 2 };
const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => asActivity({ config }, fn);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Objects 1..n behind the index; each page takes up to `limit` of them after the cursor. */
function lane(n: number, behave: { downFor?: number; permanentAt?: number; off?: boolean } = {}) {
  const behind = new Set(Array.from({ length: n }, (_, i) => i + 1));
  const calls: SearchSyncPageInput[] = [];
  let downFor = behave.downFor ?? 0;
  const activities: StubActivities = {
    searchSyncPage: wrap(async (input: SearchSyncPageInput): Promise<SearchSyncPageResult> => {
      calls.push(input);
      if (behave.off) return { objects: 0, docsIndexed: 0, docsRejected: 0, lastObjectId: input.afterObjectId, exhausted: true, off: true };
      if (downFor > 0) {
        downFor--;
        throw new EtlError('SEARCH_UNREACHABLE', 'OpenSearch at http://127.0.0.1:9200 did not answer');
      }
      const page = [...behind].filter((id) => id > input.afterObjectId).slice(0, input.limit);
      if (behave.permanentAt !== undefined && page.includes(behave.permanentAt))
        throw new EtlError('SEARCH_REQUEST_FAILED', 'template refused');
      for (const id of page) behind.delete(id);
      return {
        objects: page.length,
        docsIndexed: page.length * 10,
        docsRejected: page.length,
        lastObjectId: page.at(-1) ?? input.afterObjectId,
        exhausted: page.length < input.limit,
      };
    }),
  };
  return { behind, calls, activities };
}

async function statusWhen(handle: { query: (q: string) => Promise<unknown> }, ok: (s: SearchSyncStatus) => boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = (await handle.query('searchSyncStatus')) as SearchSyncStatus;
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`status never matched: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

describe('search sink lane (workflow)', () => {
  let t: WorkflowTestEnv;
  before(async () => {
    t = await startWorkflowEnv({ sdkLogLevel: 'ERROR' });
  });
  after(async () => t?.teardown());

  it('indexes every object page by page, then idles until kicked; new objects after a kick are indexed', async () => {
    const l = lane(7);
    await withWorker(t, l.activities, async (taskQueue) => {
      const handle = await t.env.client.workflow.start('searchSyncWorkflow', {
        taskQueue,
        workflowId: workflowId('lane'),
        args: [{ stream: 'transactions', pageSize: 3, idleMs: 3_600_000 }],
      });
      const idle = await statusWhen(handle, (s) => s.state === 'idle');
      assert.deepEqual([idle.objectsIndexed, idle.docsIndexed, idle.docsRejected], [7, 70, 7]);
      assert.equal(l.behind.size, 0);
      assert.deepEqual(
        l.calls.map((c) => c.afterObjectId),
        [0, 3, 6, 0],
        'cursor: pages after 0, 3, 6, then a pass from the start that finds nothing',
      );
      const before = l.calls.length;
      await sleep(300);
      assert.equal(l.calls.length, before, 'idle: no polling before the timer or a kick');
      l.behind.add(8);
      await handle.signal('searchKick');
      const again = await statusWhen(handle, (s) => s.objectsIndexed === 8 && s.state === 'idle');
      assert.equal(again.docsIndexed, 80);
      await handle.terminate('done');
    });
  });

  it('rides out a node that is down (transient, retried with backoff) and catches up', async () => {
    const l = lane(4, { downFor: 2 });
    await withWorker(t, l.activities, async (taskQueue) => {
      const handle = await t.env.client.workflow.start('searchSyncWorkflow', {
        taskQueue,
        workflowId: workflowId('lane-down'),
        args: [{ stream: 'transactions', pageSize: 10, idleMs: 3_600_000 }],
      });
      const s = await statusWhen(handle, (x) => x.state === 'idle' && x.objectsIndexed === 4, 30_000);
      assert.equal(s.lastError, undefined);
      assert.ok(l.calls.length >= 3, `${l.calls.length} attempts`);
      await handle.terminate('done');
    });
  });

  it('stops on a final failure and tries again only when kicked, not on a timer', async () => {
    const l = lane(3, { permanentAt: 2 });
    await withWorker(t, l.activities, async (taskQueue) => {
      const handle = await t.env.client.workflow.start('searchSyncWorkflow', {
        taskQueue,
        workflowId: workflowId('lane-final'),
        args: [{ stream: 'transactions', pageSize: 10, idleMs: 100 }],
      });
      const stopped = await statusWhen(handle, (s) => s.state === 'stopped-on-error');
      assert.match(stopped.lastError ?? '', /^SEARCH_REQUEST_FAILED: template refused/);
      const calls = l.calls.length;
      await sleep(500);
      assert.equal(l.calls.length, calls, 'no retry on the idle timer');
      await handle.signal('searchKick');
      await statusWhen(handle, () => l.calls.length > calls);
      await handle.terminate('done');
    });
  });

  it('ends when the sink is turned off', async () => {
    const l = lane(3, { off: true });
    await withWorker(t, l.activities, async (taskQueue) => {
      await t.env.client.workflow.execute('searchSyncWorkflow', {
        taskQueue,
        workflowId: workflowId('lane-off'),
        args: [{ stream: 'transactions' }],
      });
      assert.equal(l.calls.length, 1);
    });
  });

  it('is started by a pipeline run and kicked by the next; a lane that cannot start fails no run', async () => {
    const l = lane(2);
    const queue = new FakeWorkQueue();
    const laneId = workflowId('search-sync-transactions');
    let laneFails = false;
    const activities: StubActivities = {
      ...queue.activities(),
      ...queue.archive([
        { objects: 2, caughtUp: true },
        { objects: 1, caughtUp: true },
        { objects: 1, caughtUp: true },
      ]),
      ...l.activities,
      searchSinkLane: wrap(async () => {
        if (laneFails) throw new EtlError('SEARCH_REQUEST_FAILED', 'cannot say');
        return { workflowId: laneId };
      }),
    };
    await withWorker(t, activities, async (taskQueue) => {
      const run = (n: number) =>
        t.env.client.workflow.execute('pipelineWorkflow', {
          taskQueue,
          workflowId: workflowId(`pipeline-${n}`),
          args: [{ stream: 'transactions' }],
        });
      await run(1);
      const handle = t.env.client.workflow.getHandle(laneId);
      await statusWhen(handle, (s) => s.state === 'idle' && s.objectsIndexed === 2);
      const firstRun = (await handle.describe()).runId;
      l.behind.add(3);
      await run(2); // the lane runs already: this run kicks it, it does not start another
      await statusWhen(handle, (s) => s.state === 'idle' && s.objectsIndexed === 3);
      assert.equal((await handle.describe()).runId, firstRun);
      laneFails = true;
      const third = (await run(3)) as { objectsLoaded: number };
      assert.equal(third.objectsLoaded, 1, 'the run completes although its lane could not be started');
      await handle.terminate('done');
    });
  });
});
