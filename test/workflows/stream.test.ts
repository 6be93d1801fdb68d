// The continuous stream (workflows/stream.ts) with stub activities: the follower writes objects and
// heartbeats until cancelled, the loader long-polls the work queue. A run hands over to the next
// one after `iterationsPerRun` loader passes, carrying its totals; a stop ends the chain, also when
// it arrives in the middle of a hand-over.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StreamInput, StreamStatus } from '../../workflows';
import { deferred, startWorkflowEnv, waitUntil, type WorkflowTestEnv } from './env';
import { FakeWorkQueue, type FollowScript } from './fake-work-queue';
import { assertStreamRun, endings, runStream } from './runs';

let t: WorkflowTestEnv;
before(async () => {
  t = await startWorkflowEnv();
});
after(async () => {
  await t?.teardown();
});

// Short long-polls, so a run's empty loader passes (and so its hand-over) come within milliseconds.
const FAST: Omit<StreamInput, 'stream'> = { flushIntervalMs: 1_000, pollWaitMs: 20 };

const stop = (id: string) => t.env.client.workflow.getHandle(id).signal('stop');
const status = (id: string) => t.env.client.workflow.getHandle(id).query<StreamStatus>('status');

/** The workflow has run a task after its follower's completion: it knows the follower has ended. */
async function workflowSawFollowerEnd(id: string): Promise<boolean> {
  const events = (await t.env.client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'follow')?.eventId?.toString();
  const completed = events.findIndex((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduled);
  return completed >= 0 && events.slice(completed).some((e) => e.workflowTaskCompletedEventAttributes);
}

describe('stream workflow: hand-over, continue-as-new and stop', { timeout: 60_000 }, () => {
  it('a stop during a hand-over: the follower ends, the loader drains, no new run, aggregates and quality run', async () => {
    const q = new FakeWorkQueue();
    const handOverStarted = deferred();
    const stopDelivered = deferred();
    // Empty polls wait for this run's follower to have written its first objects, whatever the machine's speed.
    q.holdEmptyPolls = (run) => !q.log.includes(`follow:start:${run}`);
    const script: FollowScript = {
      atStart: 3,
      atStop: 2,
      // The follower, cancelled by the hand-over, is still writing what it has read when the stop comes.
      onCancel: async () => {
        handOverStarted.resolve();
        await stopDelivered.promise;
      },
    };
    const run = await runStream(t, q, script, { ...FAST, iterationsPerRun: 2 }, async (id) => {
      await handOverStarted.promise;
      assert.equal((await status(id)).stopRequested, false, 'the hand-over began before any stop');
      await stop(id);
      await waitUntil('the workflow saw the stop', async () => (await status(id)).stopRequested);
      stopDelivered.resolve();
    });

    assert.deepEqual(
      q.log.filter((e) => e.startsWith('follow:')),
      ['follow:start:1', 'follow:cancelled:1', 'follow:done:1'],
      'one follower, cancelled once',
    );
    assert.equal(q.runIds.length, 1, 'no run after the stop');
    assert.equal(run.result.runs, 1);
    const described = await t.env.client.workflow.getHandle(run.workflowId).describe();
    assert.equal(described.runId, run.firstRunId, 'the chain ended in its first run');
    assert.equal(described.status.name, 'COMPLETED');
    // The two objects written as the follower ended were loaded after it ended: the drain.
    for (const id of [4, 5]) assert.ok(q.at(`load:start:${id}`) > q.at('write:4,5'), `object ${id} drained`);
    assertStreamRun(q, run);
    assert.deepEqual(endings(q.log), ['aggregate:1', 'quality:1']);
  });

  it('a stop while the loader loads a page: what the follower writes as it ends is still drained', async () => {
    const q = new FakeWorkQueue();
    q.holdEmptyPolls = () => true;
    const load1Started = deferred();
    const release1 = deferred();
    q.holdLoad = (id) => {
      if (id !== 1) return undefined;
      load1Started.resolve();
      return release1.promise;
    };
    const run = await runStream(t, q, { atStart: 2, atStop: 1 }, FAST, async (id) => {
      // The page [1, 2] is being loaded when the stop ends the follower, which writes object 3.
      await load1Started.promise;
      await stop(id);
      await waitUntil('the workflow saw the follower end', () => workflowSawFollowerEnd(id));
      release1.resolve();
    });

    assert.ok(q.at('follow:done:1') < q.at('load:done:1'), 'the follower ended during the load of the page');
    assert.ok(q.at('load:start:3') > q.at('load:done:1'), 'object 3 loaded by a pass after that page');
    assertStreamRun(q, run);
    assert.equal(run.result.objectsLoaded, 3);
  });

  it('continue-as-new carries the totals: three runs, one follower each, every object loaded once', async () => {
    const q = new FakeWorkQueue();
    // The third run keeps long-polling (no hand-over) until the test stops it.
    q.holdEmptyPolls = (run) => !q.log.includes(`follow:start:${run}`) || run >= 3;
    const run = await runStream(t, q, { atStart: 2, atStop: 1 }, { ...FAST, iterationsPerRun: 3 }, async (id) => {
      await waitUntil(
        'the third run loaded what its follower wrote first',
        () => q.runIds.length === 3 && q.loadCalls.has(7) && q.loadCalls.has(8),
      );
      await stop(id);
    });

    assert.equal(run.result.runs, 3);
    assert.equal(q.runIds.length, 3);
    for (const runId of q.runIds.slice(0, 2)) {
      const described = await t.env.client.workflow.getHandle(run.workflowId, runId).describe();
      assert.equal(described.status.name, 'CONTINUED_AS_NEW');
    }
    assert.deepEqual(
      q.log.filter((e) => e.startsWith('follow:start:')),
      ['follow:start:1', 'follow:start:2', 'follow:start:3'],
      'one follower per run',
    );
    assert.equal(q.followerCancellations, 3, 'each run ends its follower: two hand-overs and the stop');
    assertStreamRun(q, run);
    assert.equal(run.result.objectsLoaded, 9);
    assert.equal(run.result.iterations, 6, 'two loader passes with objects per run, summed');
    // Each run's objects are loaded before it hands over: nothing waits for the next run.
    for (const obj of q.objects.values()) {
      const nextRun = q.log.indexOf(`follow:start:${obj.writtenInRun + 1}`);
      assert.ok(q.at(`load:done:${obj.id}`) < (nextRun < 0 ? Infinity : nextRun), `object ${obj.id} loaded in the run that wrote it`);
    }
    assert.deepEqual(endings(q.log), ['aggregate:1', 'aggregate:2', 'aggregate:3', 'quality:3'], 'aggregates per run, quality at the stop');
    // startedAt is the chain's start, carried (the last run would stamp a later one): the quality run id derives from it.
    const last = await t.env.client.workflow.getHandle(run.workflowId, q.runIds[2]).describe();
    assert.ok(
      Date.parse(run.result.startedAt) < last.startTime.getTime(),
      `startedAt ${run.result.startedAt} is before the last run began (${last.startTime.toISOString()})`,
    );
  });
});
