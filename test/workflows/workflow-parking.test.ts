// The workflows' side of bounded failure, with stub activities on Temporal's test environment (the
// local Temporal CLI started as an ephemeral dev server, no download): an object whose step fails
// for good is parked and the others load; aggregates and quality still run; the pipeline run then
// fails with OBJECT_PARKED, and a failed archive still lets what was archived load. A continuous
// stream parks and goes on. The stubs fail through the real activity wrapper (activities/failures.ts),
// so an unclassified error is retried up to its bound before it is final.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Activities, ParkInput, PendingObject, QualityResult } from '../../activities';
import { asActivity } from '../../activities/failures';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { ensureSearchAttributes } from '../../lib/search-attributes';
import type { PipelineResult, StreamResult, StreamStatus } from '../../workflows';
import { workflowBundle } from '../../worker/workflow-code';

const config = { ...loadConfig(), UNKNOWN_ERROR_MAX_ATTEMPTS: 2 };
const QUALITY: QualityResult = { passed: false, checks: [{ name: 'no_parked_objects', passed: false, observed: '1', expected: '0' }] };

/** Heartbeats until the activity is cancelled or `ms` have passed. */
async function heartbeatUntilCancelled(ms: number): Promise<void> {
  const ctx = Context.current();
  for (let waited = 0; waited < ms && !ctx.cancellationSignal.aborted; waited += 100) {
    ctx.heartbeat();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A manifest of `n` archived objects in memory, and stub activities over it. */
function stubs(n: number, fail: { permanent?: number; unknown?: number; archive?: boolean; lakeUnknown?: number }) {
  const objects = Array.from({ length: n }, (_, i) => ({ id: i + 1, loaded: false, parked: false, lake: false }));
  const calls = {
    parks: [] as ParkInput[],
    loads: [] as number[],
    attempts: [] as number[],
    lakeAttempts: [] as number[],
    aggregates: 0,
    quality: 0,
  };
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => asActivity({ config }, fn);
  const queue = (): PendingObject[] =>
    objects.filter((o) => !o.loaded && !o.parked).map((o) => ({ bronzeObjectId: o.id, objectKey: `k${o.id}`, recordCount: 10 }));
  let archived = false;
  const activities: Partial<Activities> = {
    archive: wrap(async () => {
      if (archived && fail.archive) throw new EtlError('S3_ACCESS_DENIED', 'S3 refused the credentials');
      archived = true;
      return { objectsArchived: n, recordsArchived: n * 10, caughtUp: !fail.archive };
    }),
    listUnloadedObjects: wrap(async () => queue()),
    awaitUnloadedObjects: wrap(async ({ waitMs }: { waitMs: number }) => {
      if (queue().length === 0) await heartbeatUntilCancelled(waitMs);
      return queue();
    }),
    transformAndLoad: wrap(async ({ bronzeObjectId }: { bronzeObjectId: number }) => {
      calls.attempts.push(bronzeObjectId);
      if (bronzeObjectId === fail.permanent) throw new EtlError('MANIFEST_INVALID', `bronze object ${bronzeObjectId} is not archived`);
      if (bronzeObjectId === fail.unknown) throw new TypeError("Cannot read properties of undefined (reading 'amount')");
      calls.loads.push(bronzeObjectId);
      objects[bronzeObjectId - 1]!.loaded = true;
      return {
        bronzeObjectId,
        silverKey: 's',
        records: 10,
        valid: 9,
        quarantined: 1,
        loadId: bronzeObjectId,
        rowsIn: 9,
        inserted: 9,
        duplicates: 0,
        conflicts: 0,
        rejected: 0,
        alreadyLoaded: false,
      };
    }),
    writeLake: wrap(async ({ bronzeObjectId }: { bronzeObjectId: number }) => {
      calls.lakeAttempts.push(bronzeObjectId);
      if (bronzeObjectId === fail.lakeUnknown) throw new RangeError('Invalid time value');
      const upToDate = objects[bronzeObjectId - 1]!.lake;
      objects[bronzeObjectId - 1]!.lake = true;
      return { bronzeObjectId, upToDate, rowsVersion: 1, rows: 9, files: 1, bytes: 1, removed: 0 };
    }),
    listLakeBehind: wrap(async () => objects.filter((o) => o.loaded && !o.lake).map((o) => ({ bronzeObjectId: o.id }))),
    parkObject: wrap(async (input: ParkInput) => {
      calls.parks.push(input);
      objects[input.bronzeObjectId - 1]!.parked = true;
      return { parked: true };
    }),
    searchSinkLane: wrap(async () => null),
    refreshAggregates: wrap(async () => {
      calls.aggregates++;
      return [];
    }),
    quality: wrap(async () => {
      calls.quality++;
      return QUALITY;
    }),
    follow: wrap(async () => {
      // Runs until the stream cancels it (which it learns from a heartbeat), like the real follower.
      await heartbeatUntilCancelled(60_000);
      return { objectsArchived: n, recordsArchived: n * 10, groupJoins: 1, attempt: 1 };
    }),
  };
  return { activities, calls, objects };
}

/** The failure a run ended with, and the result it carried. */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await run.then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  return err.cause;
}

describe('workflows park what fails for good and go on (stub activities)', () => {
  let env: TestWorkflowEnvironment;
  let queue = 0;
  const run = async <T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>): Promise<T> => {
    const taskQueue = `parking-${++queue}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });
    return worker.runUntil(fn(taskQueue));
  };

  before(async () => {
    // The failures below are the point: the SDK need not log each one.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: path.join(config.ETL_STATE_DIR, 'bin', 'temporal') },
        log: { format: 'pretty', level: 'error' },
      },
    });
    await ensureSearchAttributes(env.nativeConnection, env.namespace ?? 'default');
  });
  after(async () => env?.teardown());

  it(
    'parks an object whose transform-and-load keeps throwing, loads the others, then fails the run naming it',
    { timeout: 60_000 },
    async () => {
      const { activities, calls } = stubs(3, { unknown: 2 });
      const failure = await run(activities, (taskQueue) =>
        failureOf(
          env.client.workflow.execute('pipelineWorkflow', { taskQueue, workflowId: `p-${taskQueue}`, args: [{ stream: 'transactions' }] }),
        ),
      );
      assert.equal(
        calls.attempts.filter((id) => id === 2).length,
        config.UNKNOWN_ERROR_MAX_ATTEMPTS,
        'attempted up to the bound, not more',
      );
      assert.deepEqual(calls.loads.sort(), [1, 3]);
      assert.equal(calls.parks.length, 1);
      assert.deepEqual(
        [calls.parks[0]!.bronzeObjectId, calls.parks[0]!.step, calls.parks[0]!.code, calls.parks[0]!.attempts],
        [2, 'transform-load', 'UNKNOWN_ERROR', 2],
      );
      assert.match(calls.parks[0]!.stack ?? '', /TypeError: Cannot read properties of undefined/);
      assert.deepEqual([calls.aggregates, calls.quality], [1, 1], 'aggregates and quality still ran');
      assert.equal(failure.type, 'OBJECT_PARKED');
      assert.match(
        failure.message,
        /parked 1 bronze object\(s\) after loading everything else: #2 \(UNKNOWN_ERROR at transform-load: Cannot read properties/,
      );
      const result = failure.details?.[0] as PipelineResult;
      assert.deepEqual([result.objectsLoaded, result.rowsInserted, result.objectsParked, result.quality.passed], [2, 18, 1, false]);
    },
  );

  it(
    'a lake write that keeps throwing is bounded, parks nothing and fails no run: the object stays loaded, its lake behind',
    { timeout: 60_000 },
    async () => {
      const { activities, calls, objects } = stubs(3, { lakeUnknown: 2 });
      const result = await run(activities, (taskQueue) =>
        env.client.workflow.execute('pipelineWorkflow', { taskQueue, workflowId: `p-${taskQueue}`, args: [{ stream: 'transactions' }] }),
      );
      assert.equal(
        calls.lakeAttempts.filter((id) => id === 2).length,
        2 * config.UNKNOWN_ERROR_MAX_ATTEMPTS,
        'up to the bound after its load, and again in the catch-up: not more',
      );
      assert.deepEqual(calls.loads.sort(), [1, 2, 3]);
      assert.deepEqual(calls.parks, [], 'nothing parked for load');
      assert.deepEqual(
        objects.map((o) => o.lake),
        [true, false, true],
      );
      assert.deepEqual([result.objectsLoaded, result.objectsParked, result.lakeObjectsWritten, result.lakeFailed], [3, 0, 2, 2]);
    },
  );

  it('parks an object whose transform-and-load fails permanently, without retrying or loading it', { timeout: 60_000 }, async () => {
    const { activities, calls } = stubs(2, { permanent: 1 });
    const failure = await run(activities, (taskQueue) =>
      failureOf(
        env.client.workflow.execute('pipelineWorkflow', { taskQueue, workflowId: `p-${taskQueue}`, args: [{ stream: 'transactions' }] }),
      ),
    );
    assert.deepEqual(
      calls.attempts.filter((id) => id === 1),
      [1],
      'a permanent code is not retried',
    );
    assert.deepEqual(calls.loads, [2]);
    assert.deepEqual(
      calls.parks.map((p) => [p.bronzeObjectId, p.step, p.code]),
      [[1, 'transform-load', 'MANIFEST_INVALID']],
    );
    assert.equal(failure.type, 'OBJECT_PARKED');
  });

  it('loads what was archived when the archive fails for good, then fails with its reason', { timeout: 60_000 }, async () => {
    const { activities, calls } = stubs(2, { archive: true });
    const failure = await run(activities, (taskQueue) =>
      failureOf(
        env.client.workflow.execute('pipelineWorkflow', { taskQueue, workflowId: `p-${taskQueue}`, args: [{ stream: 'transactions' }] }),
      ),
    );
    assert.deepEqual(calls.loads.sort(), [1, 2]);
    assert.deepEqual([calls.aggregates, calls.quality, calls.parks.length], [1, 1, 0]);
    assert.equal(failure.type, 'S3_ACCESS_DENIED');
    assert.match(failure.message, /archive failed \(S3_ACCESS_DENIED: S3 refused the credentials\); what was archived before is loaded/);
  });

  it('a continuous stream parks and goes on, shows the count, and completes when stopped', { timeout: 60_000 }, async () => {
    const { activities, calls, objects } = stubs(3, { unknown: 3 });
    const result = await run(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start('streamWorkflow', {
        taskQueue,
        workflowId: `s-${taskQueue}`,
        args: [{ stream: 'transactions', flushIntervalMs: 100, pollWaitMs: 200 }],
      });
      let status: StreamStatus | undefined;
      for (let i = 0; i < 200 && !(status?.objectsParked === 1 && status.objectsLoaded === 2); i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await handle.query<StreamStatus>('status');
      }
      assert.deepEqual([status?.objectsParked, status?.parked.map((p) => p.bronzeObjectId), status?.stage === 'done'], [1, [3], false]);
      await handle.signal('stop');
      return handle.result() as Promise<StreamResult>;
    });
    assert.deepEqual([result.objectsLoaded, result.objectsParked], [2, 1], 'completed, not failed');
    assert.equal(calls.quality, 1);
    assert.deepEqual(
      objects.map((o) => [o.loaded, o.parked]),
      [
        [true, false],
        [true, false],
        [false, true],
      ],
    );
  });
});
