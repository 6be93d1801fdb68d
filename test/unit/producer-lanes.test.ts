// The producer's lanes (activities/ingest/lanes.ts) on fake lanes: every index is sent exactly once,
// the resume point handed to onProgress only ever covers acknowledged messages, whatever order the
// lanes finish in, and no lane runs further ahead of it than the window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driveLanes, type Lane } from '../../activities/ingest/lanes';

/** A lane whose n-th send takes delays[n % delays.length] ms and records what it sent. */
function fakeLane(sent: Array<[number, number]>, delays: number[], failAt?: number): Lane {
  let n = 0;
  return {
    async send(from, to) {
      const delay = delays[n++ % delays.length]!;
      await new Promise((r) => setTimeout(r, delay));
      if (failAt !== undefined && from <= failAt && failAt < to) throw new Error(`broker refused ${from}`);
      sent.push([from, to]);
    },
    close: async () => undefined,
  };
}

describe('producer lanes', () => {
  it('send every index once and report a resume point that never passes an unacknowledged batch', async () => {
    const sent: Array<[number, number]> = [];
    const lanes = [fakeLane(sent, [5, 1, 3]), fakeLane(sent, [1, 4]), fakeLane(sent, [2])];
    const progress: number[] = [];
    await driveLanes(lanes, { start: 10, rows: 1_013, batchSize: 50 }, (next) => {
      // everything below `next` must have been acknowledged already
      const covered = sent.filter(([from]) => from < next).reduce((a, [from, to]) => a + (to - from), 0);
      assert.equal(covered, next - 10, `resume point ${next} passes an unacknowledged batch`);
      progress.push(next);
    });
    const indices = sent.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i)).sort((a, b) => a - b);
    assert.deepEqual(
      indices,
      Array.from({ length: 1_003 }, (_, i) => 10 + i),
    );
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
    assert.equal(progress.at(-1), 1_013);
  });

  it('keeps every lane within the window ahead of the resume point, so a resumed run repeats little', async () => {
    let resumePoint = 0;
    let furthest = 0;
    const sent: Array<[number, number]> = [];
    const watch = (lane: Lane): Lane => ({
      send(from, to) {
        furthest = Math.max(furthest, to - resumePoint);
        return lane.send(from, to);
      },
      close: lane.close,
    });
    // One slow lane holds the resume point back while two fast ones would run on.
    const lanes = [fakeLane(sent, [25]), fakeLane(sent, [1]), fakeLane(sent, [1])].map(watch);
    await driveLanes(lanes, { start: 0, rows: 2_000, batchSize: 10 }, (n) => (resumePoint = n));
    assert.equal(resumePoint, 2_000);
    assert.ok(furthest <= 2 * 3 * 10, `a lane ran ${furthest} messages ahead of the resume point`);
    assert.ok(furthest > 10, 'the lanes did run ahead of the slow one');
  });

  it('stops at the first failure and never reports the failed batch as done', async () => {
    const sent: Array<[number, number]> = [];
    const progress: number[] = [];
    await assert.rejects(
      driveLanes([fakeLane(sent, [1], 420), fakeLane(sent, [2], 420)], { start: 0, rows: 10_000, batchSize: 100 }, (n) => progress.push(n)),
      /broker refused 400/,
    );
    assert.ok(Math.max(0, ...progress) <= 400, `progress ${progress.at(-1)}`);
    assert.ok(sent.length < 100, 'the other lane stopped too');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const sent: Array<[number, number]> = [];
    const run = driveLanes([fakeLane(sent, [2]), fakeLane(sent, [3])], {
      start: 0,
      rows: 1_000_000,
      batchSize: 10,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(run, { name: 'AbortError' });
    assert.ok(sent.length < 1_000);
  });
});
