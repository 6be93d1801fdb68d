// A unit of work that fails for good stops nothing (workflows/objects.ts): the object is parked and
// the run goes on with everything else. The pipeline then fails naming it, after aggregates and
// quality; a stream keeps going across hand-overs and completes when stopped; a replay fails
// naming the object it could not replay. The stubs fail the way the activity wrapper does for a
// permanent error (activities/failures.ts toFailure), so the workflow sees what it sees in production.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PipelineTotals } from '../../workflows';
import { startWorkflowEnv, waitUntil, type WorkflowTestEnv } from './env';
import { FakeWindow } from './fake-replay';
import { FakeWorkQueue, PARKING_CODE } from './fake-work-queue';
import { assertPipelineRun, assertReplayed, assertStreamRun, endings, runPipeline, runReplay, runStream } from './runs';

let t: WorkflowTestEnv;
before(async () => {
  // Failing activities are the point here: the SDK need not warn about each.
  t = await startWorkflowEnv({ sdkLogLevel: 'ERROR' });
});
after(async () => {
  await t?.teardown();
});

describe('parked objects do not stop a run', { timeout: 60_000 }, () => {
  it('pipeline: two objects parked while archive runs; the rest loads, then the run fails naming both', async () => {
    const q = new FakeWorkQueue();
    q.failing.set(3, 'transform-load').set(6, 'transform-load');
    const run = await runPipeline(t, q, [
      { objects: 10, caughtUp: false },
      // Archive writes more only once both are parked: the lanes must have gone on past them.
      { objects: 10, caughtUp: true, before: () => waitUntil('both objects parked', () => q.parkCalls.length === 2) },
    ]);

    assert.ok(q.at('park:3') < q.at('archive:done:2') && q.at('park:6') < q.at('archive:done:2'), 'parked while archive was running');
    for (let id = 11; id <= 20; id++)
      assert.ok(q.at(`load:done:${id}`) > q.at('archive:done:2'), `object ${id}, written after the parking, loaded`);
    assertPipelineRun(q, run);
    assert.deepEqual(
      run.result.parked
        .map(({ bronzeObjectId, step, code }) => ({ bronzeObjectId, step, code }))
        .sort((a, b) => a.bronzeObjectId - b.bronzeObjectId),
      [
        { bronzeObjectId: 3, step: 'transform-load', code: PARKING_CODE },
        { bronzeObjectId: 6, step: 'transform-load', code: PARKING_CODE },
      ],
    );
    assert.equal(run.result.objectsLoaded, 18);
    assert.deepEqual(
      q.parkCalls.map((p) => p.workflowId),
      [run.workflowId, run.workflowId],
      'each park names the run that parked it',
    );
    assert.match(run.failure!.message, /etl objects retry \d+/, 'the failure says how to retry');
  });

  it('pipeline: an object parked by an earlier run of the chain still fails the run that ends it', async () => {
    const q = new FakeWorkQueue();
    const carried: PipelineTotals = {
      objectsArchived: 4,
      recordsArchived: 48,
      objectsLoaded: 3,
      rowsInserted: 30,
      duplicates: 0,
      quarantined: 1,
      objectsParked: 1,
      parked: [{ bronzeObjectId: 99, step: 'load', code: 'UNKNOWN_ERROR', message: 'boom' }],
      lakeObjectsWritten: 3,
      lakeFailed: 0,
    };
    const run = await runPipeline(t, q, [{ objects: 3, caughtUp: true }], { carried });

    assertPipelineRun(q, run, carried);
    assert.deepEqual(q.parkCalls, [], 'nothing parked in this run');
  });

  it('stream: parked objects are carried over hand-overs, the loader goes on, and the stop completes the chain', async () => {
    const q = new FakeWorkQueue();
    // Run 1's follower writes 1-3, run 2's 4-6: objects 2 and 5 fail for good.
    q.failing.set(2, 'transform-load').set(5, 'transform-load');
    q.holdEmptyPolls = (run) => !q.log.includes(`follow:start:${run}`) || run >= 3;
    const run = await runStream(
      t,
      q,
      { atStart: 2, atStop: 1 },
      { flushIntervalMs: 1_000, pollWaitMs: 20, iterationsPerRun: 3 },
      async (id) => {
        await waitUntil(
          'the third run loaded what its follower wrote first',
          () => q.runIds.length === 3 && q.loadCalls.has(7) && q.loadCalls.has(8),
        );
        await t.env.client.workflow.getHandle(id).signal('stop');
      },
    );

    assert.equal(run.result.runs, 3);
    assert.deepEqual([q.objects.get(2)!.parked?.step, q.objects.get(5)!.parked?.step], ['transform-load', 'transform-load']);
    assert.deepEqual(
      run.result.parked.map((p) => p.bronzeObjectId),
      [2, 5],
      'both noted, the first carried from run 1',
    );
    assertStreamRun(q, run);
    assert.equal(run.result.objectsLoaded, 7);
    assert.deepEqual(endings(q.log), ['aggregate:1', 'aggregate:2', 'aggregate:3', 'quality:3']);
  });

  it('replay: an object that cannot be replayed keeps its rows; the others are replayed, then the replay fails naming it', async () => {
    const w = new FakeWindow(40, 0, new Set(), new Set([9, 60]));
    const run = await runReplay(t, w);

    assertReplayed(w, run);
    assert.match(run.failure!.message, /run the same `etl replay` again/);
  });
});
