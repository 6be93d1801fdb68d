// The source workflow (workflows/source.ts) with stub activities: every unit is read once, every
// object it wrote is loaded once, and the totals add up — also when Temporal suggests continue-as-new
// (this file's server suggests it at SUGGEST_AT events), which carries the totals and the unit cursor
// and does not discover again; discovery goes in steps until its cursor ends; a unit whose read
// fails for good, or a file the listing found but cannot read, is reported, the others go on.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { after, before, describe, it } from 'node:test';
import type { SourceDiscoveredPage, SourceUnitRead } from '../../activities';
import { nothingDiscovered } from '../../shared/discovery';
import type { SourceResult } from '../../workflows';
import { startWorkflowEnv, withWorker, workflowId, type WorkflowTestEnv } from './env';
import { FakeWorkQueue } from './fake-work-queue';

const SUGGEST_AT = 60;
const UNITS = 50;

let t: WorkflowTestEnv;
before(async () => {
  t = await startWorkflowEnv({ dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_AT }, sdkLogLevel: 'ERROR' });
});
after(async () => t?.teardown());

const STEPS = 3;

function fakeSource(q: FakeWorkQueue, failing: Set<number>, unreadable: { location: string; reason: string }[]) {
  const reads = new Map<number, number>();
  let discoveries = 0;
  const cursors: (string | undefined)[] = [];
  // UNITS found in STEPS steps, each handing its cursor to the next.
  const step = (n: number, found: number, last: boolean): SourceDiscoveredPage => ({
    ...nothingDiscovered(),
    seen: found + (last ? unreadable.length : 0),
    new: found,
    unreadable: last ? unreadable.length : 0,
    unreadableFiles: last ? unreadable : [],
    cursor: last ? undefined : `after-${n}`,
  });
  return {
    reads,
    discoveries: () => discoveries,
    cursors,
    activities: {
      discoverSource: async ({ cursor }: { cursor?: string }) => {
        discoveries++;
        cursors.push(cursor);
        const n = cursors.length;
        return step(n, n < STEPS ? Math.floor(UNITS / STEPS) : UNITS - (STEPS - 1) * Math.floor(UNITS / STEPS), n === STEPS);
      },
      listSourceUnits: async ({ limit, afterId }: { limit: number; afterId: number }) =>
        Array.from({ length: UNITS }, (_, i) => i + 1)
          .filter((id) => id > afterId && !reads.has(id))
          .slice(0, limit)
          .map((unitId) => ({ unitId, location: `file:///in/${unitId}.jsonl`, bytes: 100 })),
      readSourceUnit: async ({ unitId }: { unitId: number }): Promise<SourceUnitRead> => {
        reads.set(unitId, (reads.get(unitId) ?? 0) + 1);
        if (failing.has(unitId)) throw ApplicationFailure.create({ type: 'UNKNOWN_ERROR', message: 'boom', nonRetryable: true });
        const objects = q.write(unitId % 3, q.run());
        return { unitId, alreadyRead: false, records: objects.reduce((n, o) => n + o.records, 0), objects: objects.length };
      },
    },
  };
}

async function runSource(q: FakeWorkQueue, failing = new Set<number>(), unreadable: { location: string; reason: string }[] = []) {
  const source = fakeSource(q, failing, unreadable);
  const id = workflowId('sourceWorkflow');
  const outcome = await withWorker(t, { ...q.activities(), ...source.activities }, async (taskQueue) => {
    const handle = await t.env.client.workflow.start('sourceWorkflow', {
      taskQueue,
      workflowId: id,
      args: [{ source: 'files', stream: 'transactions', location: '/in' }],
    });
    try {
      return { result: (await handle.result()) as SourceResult };
    } catch (err) {
      const f = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (!(f instanceof ApplicationFailure)) throw err;
      return { result: f.details?.[0] as SourceResult, failure: f };
    }
  });
  return { ...outcome, source };
}

describe('source workflow', { timeout: 120_000 }, () => {
  it('reads each unit once and loads each object once across continue-as-new, discovering once', async () => {
    const q = new FakeWorkQueue();
    const { result, source } = await runSource(q);
    assert.ok(q.runIds.length >= 2, `continued as new (${q.runIds.length} runs)`);
    assert.equal(source.discoveries(), STEPS, 'one discovery, in steps');
    assert.deepEqual(source.cursors, [undefined, 'after-1', 'after-2'], 'each step goes on from the cursor of the one before');
    assert.deepEqual(
      [...source.reads.values()].filter((n) => n !== 1),
      [],
      'each unit read once',
    );
    assert.equal(source.reads.size, UNITS);
    for (const obj of q.objects.values()) assert.equal(q.loadCalls.get(obj.id), 1, `object ${obj.id} loaded once`);
    const records = [...q.objects.values()].reduce((n, o) => n + o.records, 0);
    assert.equal(result.unitsRead, UNITS);
    assert.equal(result.objectsArchived, q.objects.size);
    assert.equal(result.recordsArchived, records);
    assert.equal(result.objectsLoaded, q.objects.size);
    assert.equal(result.discovered?.new, UNITS);
    assert.equal(q.qualityRunIds.length, 1, 'quality once, at the end');
  });

  it('a unit whose read fails for good is reported and the others are read and loaded', async () => {
    const q = new FakeWorkQueue();
    const { result, failure, source } = await runSource(q, new Set([7]));
    assert.equal(failure?.type, 'UNKNOWN_ERROR');
    assert.match(failure?.message ?? '', /1 of 50 unit\(s\) could not be read: #7 UNKNOWN_ERROR: boom/);
    assert.equal(source.reads.size, UNITS);
    assert.equal(result.unitsFailed, 1);
    assert.equal(result.objectsLoaded, q.objects.size);
  });

  it('a file the listing found but cannot read fails the run by name after the others loaded', async () => {
    const q = new FakeWorkQueue();
    const gone = { location: 'file:///in/mnt/x.jsonl', reason: 'cannot be read (EIO: i/o error)' };
    const { result, failure, source } = await runSource(q, new Set(), [gone]);
    assert.equal(failure?.type, 'FILE_UNREADABLE');
    assert.match(failure?.message ?? '', /1 found at the location cannot be read: file:\/\/\/in\/mnt\/x\.jsonl: cannot be read \(EIO/);
    assert.equal(source.reads.size, UNITS);
    assert.equal(result.discovered?.unreadable, 1);
    assert.deepEqual(result.discovered?.unreadableFiles, [gone]);
    assert.equal(result.objectsLoaded, q.objects.size);
  });
});
