// Starting each workflow under test on a worker of its own with stub activities, and the checks
// every run of it must pass whatever the timing: each object handled exactly once, the totals
// summed from the stubs' own numbers, aggregates and quality once at the very end.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type Workflow, type WorkflowResultType } from '@temporalio/common';
import type {
  PipelineInput,
  PipelineResult,
  PipelineTotals,
  pipelineWorkflow,
  ReplayInput,
  replayWorkflow,
  StreamInput,
  StreamResult,
  streamWorkflow,
} from '../../workflows';
import { withWorker, workflowId, type StubActivities, type WorkflowTestEnv } from './env';
import type { FakeWindow } from './fake-replay';
import { QUALITY_PASSED, type ArchiveStep, type FakeWorkQueue, type FollowScript } from './fake-work-queue';
import { emptyTotals } from '../../workflows/objects';

export interface Run<R> {
  /** The chain's result, also when it failed with it attached (a run that parked objects). */
  result: R;
  failure?: ApplicationFailure;
  workflowId: string;
  firstRunId: string;
}

/**
 * Starts a workflow on a fresh task queue, runs `meanwhile` while it runs, returns its chain's
 * result, or the failure it ended with and the result that failure carries.
 */
async function run<W extends Workflow>(
  t: WorkflowTestEnv,
  activities: StubActivities,
  name: string,
  input: Parameters<W>[0],
  meanwhile?: (id: string) => Promise<void>,
): Promise<Run<WorkflowResultType<W>>> {
  return withWorker(t, activities, async (taskQueue) => {
    const id = workflowId(name);
    const handle = await t.env.client.workflow.start<Workflow>(name, { taskQueue, workflowId: id, args: [input] });
    await meanwhile?.(id);
    const ids = { workflowId: id, firstRunId: handle.firstExecutionRunId };
    try {
      return { result: (await handle.result()) as WorkflowResultType<W>, ...ids };
    } catch (err) {
      const failure = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (!(failure instanceof ApplicationFailure) || !failure.details?.length) throw err;
      return { result: failure.details[0] as WorkflowResultType<W>, failure, ...ids };
    }
  });
}

const STREAM = 'transactions';

export const runPipeline = (
  t: WorkflowTestEnv,
  q: FakeWorkQueue,
  steps: ArchiveStep[],
  input: Partial<PipelineInput> = {},
  meanwhile?: (id: string) => Promise<void>,
) =>
  run<typeof pipelineWorkflow>(t, { ...q.activities(), ...q.archive(steps) }, 'pipelineWorkflow', { stream: STREAM, ...input }, meanwhile);

export const runStream = (
  t: WorkflowTestEnv,
  q: FakeWorkQueue,
  script: FollowScript,
  input: Omit<StreamInput, 'stream'>,
  meanwhile: (id: string) => Promise<void>,
) => run<typeof streamWorkflow>(t, { ...q.activities(), ...q.follower(script) }, 'streamWorkflow', { stream: STREAM, ...input }, meanwhile);

export const runReplay = (t: WorkflowTestEnv, w: FakeWindow, input: Partial<ReplayInput> = {}) =>
  run<typeof replayWorkflow>(t, w.activities(), 'replayWorkflow', { stream: STREAM, fromMs: 0, toMs: 86_400_000, ...input });

/** Each object transformed and loaded exactly once; one that fails for good tried once and parked once. */
export function assertEachLoadedOnce(q: FakeWorkQueue): void {
  for (const obj of q.objects.values()) {
    assert.equal(q.loadCalls.get(obj.id), 1, `object ${obj.id} transformed and loaded once`);
    assert.equal(obj.loaded, !obj.failsAt, `object ${obj.id} ${obj.failsAt ? 'not ' : ''}loaded`);
    assert.equal(
      q.parkCalls.filter((p) => p.bronzeObjectId === obj.id).length,
      obj.failsAt ? 1 : 0,
      `object ${obj.id} ${obj.failsAt ? 'parked once' : 'not parked'}`,
    );
    if (obj.failsAt) assert.equal(obj.parked?.step, obj.failsAt, `object ${obj.id} parked at its failing step`);
    // The lake follows each load: written once, after it; one whose lake write fails stays loaded, lake behind.
    const lakeWrites = q.lakeWrites.get(obj.id) ?? 0;
    assert.equal(lakeWrites, obj.loaded && !obj.lakeFails ? 1 : 0, `object ${obj.id}: its lake written ${lakeWrites} times`);
    if (lakeWrites > 0 && q.log.includes(`load:done:${obj.id}`))
      assert.ok(q.at(`load:done:${obj.id}`) < q.at(`lake:${obj.id}`), `object ${obj.id}: lake after load`);
  }
}

/** What the chain archived and loaded, from the stub's objects and per-object numbers, plus `carried`. */
export function assertTotals(q: FakeWorkQueue, result: PipelineTotals, carried?: PipelineTotals): void {
  const written = [...q.objects.values()].filter((o) => o.writtenInRun > 0);
  const loaded = q.expectedLoadTotals();
  const base = carried ?? emptyTotals();
  const parked = [...q.objects.values()].filter((o) => o.failsAt).length;
  const { objectsArchived, recordsArchived, objectsLoaded, rowsInserted, duplicates, quarantined, objectsParked, lakeFailed } = result;
  assert.deepEqual(
    { objectsArchived, recordsArchived, objectsLoaded, rowsInserted, duplicates, quarantined, objectsParked, lakeFailed },
    {
      objectsArchived: base.objectsArchived + written.length,
      recordsArchived: base.recordsArchived + written.reduce((n, o) => n + o.records, 0),
      objectsLoaded: base.objectsLoaded + loaded.objectsLoaded,
      rowsInserted: base.rowsInserted + loaded.rowsInserted,
      duplicates: base.duplicates + loaded.duplicates,
      quarantined: base.quarantined + loaded.quarantined,
      objectsParked: base.objectsParked + parked,
      // Each call that failed for good counts: the one after the load, and the catch-up's.
      lakeFailed: base.lakeFailed + [...q.objects.values()].reduce((n, o) => n + (o.lakeFails ? (q.lakeCalls.get(o.id) ?? 0) : 0), 0),
    },
  );
  assert.equal(
    result.lakeObjectsWritten,
    base.lakeObjectsWritten + [...q.lakeWrites.values()].reduce((n, w) => n + w, 0),
    'lake writes counted',
  );
}

/** The aggregate and quality entries of a stub's log, in order. */
export const endings = (log: string[]) => log.filter((e) => /^(aggregate|quality):/.test(e));

/**
 * A pipeline chain: every object loaded once, totals right, then aggregates once, then quality once,
 * in the last run. It completes, or, if it parked objects (this chain or the runs it carries on),
 * fails with OBJECT_PARKED naming each of them.
 */
export function assertPipelineRun(q: FakeWorkQueue, run: Run<PipelineResult>, carried?: PipelineTotals): void {
  assertEachLoadedOnce(q);
  assertTotals(q, run.result, carried);
  const parked = [
    ...(carried?.parked ?? []).map((p) => p.bronzeObjectId),
    ...[...q.objects.values()].filter((o) => o.failsAt).map((o) => o.id),
  ];
  assert.deepEqual(
    run.result.parked.map((p) => p.bronzeObjectId).sort((a, b) => a - b),
    parked.sort((a, b) => a - b),
    'the parked objects, noted',
  );
  if (parked.length === 0) assert.equal(run.failure, undefined, 'the run completed');
  else {
    assert.equal(run.failure?.type, 'OBJECT_PARKED');
    for (const id of parked) assert.match(run.failure.message, new RegExp(`#${id} \\(`), `the failure names object ${id}`);
  }
  const last = q.runIds.length;
  assert.deepEqual(endings(q.log), [`aggregate:${last}`, `quality:${last}`], 'aggregates and quality once each, in the last run');
  assert.ok(
    q.log.findLastIndex((e) => e.startsWith('load:done:')) < q.at(`aggregate:${last}`),
    `aggregates after the last load: ${q.log.join(' ')}`,
  );
  assert.deepEqual(q.qualityRunIds, [run.workflowId]);
  assert.deepEqual(run.result.quality, QUALITY_PASSED);
  assert.deepEqual(run.result.aggregatesRefreshed, ['daily_summary']);
}

/** A stream chain: every object loaded once, totals right, quality once at the stop under the chain's start time. */
export function assertStreamRun(q: FakeWorkQueue, run: Run<StreamResult>): void {
  assert.equal(run.failure, undefined, 'a stream completes when stopped, parked objects or not');
  assertEachLoadedOnce(q);
  assertTotals(q, run.result);
  assert.equal(run.result.runs, q.runIds.length);
  assert.equal(run.result.groupJoins, q.runIds.length, 'one group join per run, summed');
  const quality = endings(q.log).filter((e) => e.startsWith('quality:'));
  assert.deepEqual(quality, [`quality:${q.runIds.length}`], 'quality once, at the stop');
  assert.ok(
    q.log.findLastIndex((e) => e.startsWith('load:done:')) < q.log.lastIndexOf(`aggregate:${q.runIds.length}`),
    'aggregates after the last load',
  );
  assert.deepEqual(q.qualityRunIds, [`${run.workflowId}-${run.result.startedAt.slice(0, 19)}Z`]);
  assert.deepEqual(run.result.quality, QUALITY_PASSED);
}

/** A replay chain: every object once, totals summed from the stub's counts, aggregates then quality at the end. */
export function assertReplayed(w: FakeWindow, run: Run<Awaited<ReturnType<typeof replayWorkflow>>>): void {
  for (const id of w.ids) assert.equal(w.replayCalls.get(id), 1, `object ${id} replayed once`);
  for (const id of w.ids) {
    const lake = w.log.findIndex((e) => new RegExp(`^lake:\\d+:${id}$`).test(e));
    const replay = w.log.findIndex((e) => new RegExp(`^replay:\\d+:${id}$`).test(e));
    if (w.raced.has(id) || w.failing.has(id)) assert.equal(lake, -1, `object ${id}: no lake write without a replayed load`);
    else assert.ok(lake > replay && replay >= 0, `object ${id}: its lake rewritten after its replay`);
  }
  const { quality, aggregatesRefreshed, nowInvalidSample, refusedSample, refusedUpdatesSample, failedSample, ...totals } = run.result;
  const { failedSample: expectedFailed, ...expected } = w.expectedTotals();
  assert.deepEqual(totals, expected);
  assert.deepEqual([...failedSample].sort(), expectedFailed.sort(), 'each object that failed, named');
  if (w.failing.size === 0) assert.equal(run.failure, undefined, 'the replay completed');
  else {
    assert.equal(run.failure?.type, 'REPLAY_INCOMPLETE');
    for (const id of w.failing) assert.match(run.failure.message, new RegExp(`#${id} `), `the failure names object ${id}`);
  }
  for (const [k, sample] of [
    ['nowInvalidSample', nowInvalidSample],
    ['refusedSample', refusedSample],
    ['refusedUpdatesSample', refusedUpdatesSample],
  ] as const) {
    assert.equal(sample.length, Math.min(10, w.samples(k).size), `the ${k} keeps at most 10`);
    for (const s of sample) assert.ok(w.samples(k).has(s), `${s} is a ${k} of the window`);
  }
  const last = w.runIds.length;
  assert.deepEqual(endings(w.log), [`aggregate:${last}`, `quality:${last}`], 'aggregates and quality once each, in the last run');
  assert.ok(w.log.findLastIndex((e) => e.startsWith('replay:')) < w.log.indexOf(`aggregate:${last}`), 'aggregates after the last object');
  assert.deepEqual(w.qualityRunIds, [run.workflowId]);
  assert.deepEqual(quality, QUALITY_PASSED);
  assert.deepEqual(aggregatesRefreshed, ['daily_summary']);
  // The run key is the chain's first run: a retried object finds the load it committed, whichever run retries it.
  assert.deepEqual([...w.runKeys], w.ids.length ? [run.firstRunId] : []);
}
