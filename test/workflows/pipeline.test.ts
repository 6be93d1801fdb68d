// The pipeline's two lanes (workflows/pipeline.ts) with stub activities: archive keeps writing
// objects while transform and load drain the work queue, and whichever lane finishes first, every
// object is loaded exactly once, the totals add up and aggregates and quality run once, at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PipelineProgress, PipelineTotals } from '../../workflows';
import { deferred, startWorkflowEnv, waitUntil, type WorkflowTestEnv } from './env';
import { FakeWorkQueue, type ArchiveStep } from './fake-work-queue';
import { assertPipelineRun, runPipeline } from './runs';

let t: WorkflowTestEnv;
before(async () => {
  t = await startWorkflowEnv();
});
after(async () => {
  await t?.teardown();
});

const stageOf = async (id: string) => (await t.env.client.workflow.getHandle(id).query<PipelineProgress>('progress')).stage;

const loadStarts = (q: FakeWorkQueue) => q.log.flatMap((e, i) => (e.startsWith('load:start:') ? [i] : []));

describe('pipeline workflow: the archive lane and the load lane', { timeout: 60_000 }, () => {
  it('archive finishing before the load lane starts: every page of the queue drained after it', async () => {
    const q = new FakeWorkQueue();
    // The load lane's first look at the queue waits until archive has written everything (more than one page).
    q.beforeListing = () => waitUntil('archive wrote its last step', () => q.log.includes('archive:done:2'));
    const run = await runPipeline(t, q, [
      { objects: 30, caughtUp: false },
      { objects: 20, caughtUp: true },
    ]);

    assert.ok(loadStarts(q)[0]! > q.at('archive:done:2'), 'no load before archive finished');
    assert.ok(q.log.filter((e) => e.startsWith('list:')).length >= 2, 'more than one page listed');
    assertPipelineRun(q, run);
    assert.equal(run.result.objectsLoaded, 50);
  });

  it('archive finishing while a load runs: the load lane picks up what the last step wrote', async () => {
    const q = new FakeWorkQueue();
    const loadOf7Started = deferred();
    const release7 = deferred();
    q.holdLoad = (id) => {
      if (id !== 7) return undefined;
      loadOf7Started.resolve();
      return release7.promise;
    };
    const run = await runPipeline(
      t,
      q,
      [
        { objects: 10, caughtUp: false },
        { objects: 10, caughtUp: true, before: () => loadOf7Started.promise },
      ],
      { objectConcurrency: 3 },
      async (id) => {
        // Object 7 stays in its load until the workflow itself has seen the archive lane end.
        await waitUntil('archive wrote its last step', () => q.log.includes('archive:done:2'));
        await waitUntil('the workflow saw the archive lane end', async () => (await stageOf(id)) !== 'archive');
        release7.resolve();
      },
    );

    assert.ok(q.log.findIndex((e) => e.startsWith('load:done:')) < q.at('archive:done:2'), 'loads ran while archive was still writing');
    assert.ok(q.at('archive:done:2') < q.at('load:done:7'), 'archive ended during the load of object 7');
    for (let id = 11; id <= 20; id++)
      assert.ok(q.at(`load:start:${id}`) > q.at('archive:done:2'), `object ${id} loaded after it was written`);
    assert.ok(q.maxLoadsAtOnce <= 3, `at most objectConcurrency loads at once, saw ${q.maxLoadsAtOnce}`);
    assertPipelineRun(q, run);
    assert.equal(run.result.objectsLoaded, 20);
  });

  it('archive finishing after the load lane has drained the queue: the lane wakes for new objects and for the end', async () => {
    const q = new FakeWorkQueue();
    const idle = (what: string) => () => waitUntil(`the load lane is idle ${what}`, () => q.loadLaneIdle());
    const run = await runPipeline(t, q, [
      { objects: 3, caughtUp: false },
      // More than a page arrives after the lane found the queue empty…
      { objects: 35, caughtUp: false, before: idle('after the first step') },
      // …and the last step, which writes nothing, comes after it is empty again.
      { objects: 0, caughtUp: true, before: idle('after the second step') },
    ]);

    for (const id of [1, 2, 3]) assert.ok(q.at(`load:done:${id}`) < q.at('archive:done:2'), `object ${id} loaded before the second step`);
    for (let id = 4; id <= 38; id++)
      assert.ok(q.at(`load:done:${id}`) < q.at('archive:done:3'), `object ${id} loaded before the last step`);
    assert.ok(q.log.findLastIndex((e) => e.startsWith('list:')) > q.at('archive:done:3'), 'the lane looked once more after archive ended');
    assertPipelineRun(q, run);
    assert.equal(run.result.objectsLoaded, 38);
  });

  it('counts only what this run did: totals carried in, objects left by an earlier run, one another workflow loaded', async () => {
    const q = new FakeWorkQueue();
    // Left in the queue by a run that crashed before loading them: this run loads and counts them.
    q.write(2, 0);
    const carried: PipelineTotals = {
      objectsArchived: 40,
      recordsArchived: 480,
      objectsLoaded: 38,
      rowsInserted: 400,
      duplicates: 12,
      quarantined: 7,
      objectsParked: 0,
      parked: [],
      lakeObjectsWritten: 38,
      lakeFailed: 1,
    };
    const steps: ArchiveStep[] = [
      { objects: 4, caughtUp: false },
      {
        objects: 0,
        caughtUp: true,
        before: async () => {
          // A stream beside this run loads object 5 between this run's listing and its load: the stub
          // answers that load with alreadyLoaded, as the load activity does.
          q.objects.get(5)!.loadedElsewhere = true;
        },
      },
    ];
    q.beforeListing = () => waitUntil('archive wrote its last step', () => q.log.includes('archive:done:2'));
    const run = await runPipeline(t, q, steps, { carried });

    assertPipelineRun(q, run, carried);
    assert.equal(run.result.objectsLoaded, carried.objectsLoaded + 5, 'objects 1-4 and 6; not 5');
  });

  it('the lake after each load, apart from it: a lake write that fails for good parks nothing and fails no load; the catch-up tries it again', async () => {
    const q = new FakeWorkQueue();
    q.write(1, 0, { lakeFails: true });
    const run = await runPipeline(t, q, [{ objects: 3, caughtUp: true }]);

    assertPipelineRun(q, run);
    assert.equal(run.failure, undefined, 'the run completes: its loads are all committed');
    assert.equal(q.objects.get(1)!.parked, undefined, 'the object is not parked for load');
    assert.equal(q.lakeCalls.get(1), 2, 'tried after its load and again by the catch-up');
    assert.equal(run.result.lakeFailed, 2);
    assert.ok(q.at('lake-behind:1') > q.log.findLastIndex((e) => e.startsWith('load:done:')), 'the catch-up after the last load');
    assert.ok(q.log.findLastIndex((e) => e.startsWith('lake')) < q.at('aggregate:1'), 'the catch-up before aggregates and quality');
  });
});
