// Continue-as-new when Temporal suggests it: this file's server suggests it once a history holds
// SUGGEST_AT events (the default is thousands), so each workflow hands over after a few steps.
// Whatever run a piece of work lands in, it is done once and the chain's totals add up, parked
// objects included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWorkflowEnv, waitUntil, type WorkflowTestEnv } from './env';
import { FakeWindow } from './fake-replay';
import { FakeWorkQueue, type ArchiveStep } from './fake-work-queue';
import { assertPipelineRun, assertReplayed, assertStreamRun, runPipeline, runReplay, runStream } from './runs';

const SUGGEST_AT = 40;
// workflows/objects.ts: objects per look-up of the work queue or the window.
const PAGE = 32;

let t: WorkflowTestEnv;
before(async () => {
  // The parking case fails activities on purpose: the SDK need not warn about each.
  t = await startWorkflowEnv({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_AT }, sdkLogLevel: 'ERROR' });
});
after(async () => {
  await t?.teardown();
});

/** Every run but the last continued as new; the last ended as `last`. */
async function assertChain(workflowId: string, runIds: string[], last: 'COMPLETED' | 'FAILED' = 'COMPLETED'): Promise<void> {
  assert.ok(runIds.length >= 2, `more than one run (saw ${runIds.length})`);
  const statuses = await Promise.all(
    runIds.map(async (runId) => (await t.env.client.workflow.getHandle(workflowId, runId).describe()).status.name),
  );
  assert.deepEqual(statuses, [...runIds.slice(1).map(() => 'CONTINUED_AS_NEW'), last]);
}

describe('continue-as-new when Temporal suggests it', { timeout: 60_000 }, () => {
  it('pipeline: the archive lane hands over, the load lane drains first, the next run carries the totals', async () => {
    const q = new FakeWorkQueue();
    const steps: ArchiveStep[] = [...Array.from({ length: 11 }, () => ({ objects: 3, caughtUp: false })), { objects: 3, caughtUp: true }];
    const run = await runPipeline(t, q, steps);

    await assertChain(run.workflowId, q.runIds);
    for (const obj of q.objects.values())
      assert.equal(obj.loadedInRun, obj.writtenInRun, `object ${obj.id} loaded before its run handed over`);
    assertPipelineRun(q, run);
    assert.equal(run.result.objectsArchived, 36);
  });

  it('pipeline: an object parked in the first run is carried to the last, which fails naming it', async () => {
    const q = new FakeWorkQueue();
    q.failing.set(2, 'transform-load');
    const steps: ArchiveStep[] = [...Array.from({ length: 11 }, () => ({ objects: 3, caughtUp: false })), { objects: 3, caughtUp: true }];
    const run = await runPipeline(t, q, steps);

    await assertChain(run.workflowId, q.runIds, 'FAILED');
    assert.equal(q.objects.get(2)!.parked?.step, 'transform-load');
    assert.equal(q.parkCalls.length, 1, 'parked once, in the first run');
    assertPipelineRun(q, run);
    assert.equal(run.result.objectsLoaded, 35);
  });

  it('replay: a new run after a full page, the id cursor and the run key carried', async () => {
    const w = new FakeWindow(3 * PAGE + 5);
    const run = await runReplay(t, w);

    await assertChain(run.workflowId, w.runIds);
    assert.deepEqual(
      w.listings,
      [0, 1, 2, 3].map((page) => (page === 0 ? 0 : w.ids[page * PAGE - 1])),
      'each page after the last id of the one before, across runs',
    );
    assert.deepEqual(
      w.listingRuns,
      [...w.listingRuns].sort((a, b) => a - b),
      'pages in run order',
    );
    assertReplayed(w, run);
  });

  it('stream: the loader ends the follower when Temporal suggests it, without iterationsPerRun', async () => {
    const q = new FakeWorkQueue();
    // From the third run on, the loader keeps long-polling: the chain waits for the stop there.
    q.holdEmptyPolls = (run) => !q.log.includes(`follow:start:${run}`) || run >= 3;
    const run = await runStream(t, q, { atStart: 2, atStop: 1 }, { flushIntervalMs: 1_000, pollWaitMs: 20 }, async (id) => {
      await waitUntil('a third run began', () => q.runIds.length >= 3);
      await t.env.client.workflow.getHandle(id).signal('stop');
    });

    await assertChain(run.workflowId, q.runIds);
    assert.ok(q.runIds.length >= 3);
    assert.equal(q.followerCancellations, q.runIds.length, 'each run ended its follower');
    assertStreamRun(q, run);
  });
});
