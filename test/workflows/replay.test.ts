// The replay's paging (workflows/replay.ts) with stub activities: the window is read a page of
// PAGE objects at a time by an id cursor, every object is replayed once, the counts add up, and
// aggregates and quality run once at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWorkflowEnv, type WorkflowTestEnv } from './env';
import { FakeWindow } from './fake-replay';
import { assertReplayed, runReplay } from './runs';

// workflows/objects.ts: objects per look-up of the work queue or the window.
const PAGE = 32;

let t: WorkflowTestEnv;
before(async () => {
  t = await startWorkflowEnv();
});
after(async () => {
  await t?.teardown();
});

describe('replay workflow: paging the window', { timeout: 60_000 }, () => {
  it('more than two pages: the id cursor moves a page at a time, a raced object counts as done only', async () => {
    const w = new FakeWindow(2 * PAGE + 11, 4, new Set([30]));
    const run = await runReplay(t, w, { objectConcurrency: 3 });

    assert.deepEqual(w.listings, [0, w.ids[PAGE - 1], w.ids[2 * PAGE - 1]], 'each page starts after the last id of the one before');
    assert.equal(w.runIds.length, 1, 'three pages fit in one run');
    assertReplayed(w, run);
  });

  it('a window of whole pages: the empty page after the last ends it', async () => {
    const w = new FakeWindow(2 * PAGE);
    const run = await runReplay(t, w);

    assert.deepEqual(w.listings, [0, w.ids[PAGE - 1], w.ids[2 * PAGE - 1]]);
    assertReplayed(w, run);
  });

  it('an empty window: nothing replayed, aggregates and quality still run', async () => {
    const w = new FakeWindow(0, 2);
    const run = await runReplay(t, w);

    assert.deepEqual(w.listings, [0]);
    assertReplayed(w, run);
    assert.equal(run.result.objectsNotLoaded, 2);
  });
});
