// The producer's lanes (activities/ingest/lanes.ts) on fake lanes: every index is sent exactly once,
// by the lane its key hashes to and in index order within that lane, the resume point handed to
// onProgress only ever covers acknowledged messages, whatever order the lanes finish in, and no lane
// runs further ahead of it than the window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driveLanes, laneOf, type Lane } from '../../activities/ingest/lanes';

/** The key of message i in these tests: 7 keys, so lanes get uneven shares. */
const keyOf = (i: number) => `key-${i % 7}`;

/**
 * Lane `index` of `count`, whose n-th send takes delays[n % delays.length] ms and records the
 * indices of its share (the messages whose key hashes to it), as the real lanes filter them.
 */
function fakeLane(index: number, count: number, sent: number[], delays: number[], failAt?: number): Lane {
  let n = 0;
  return {
    async send(from, to) {
      const delay = delays[n++ % delays.length]!;
      await new Promise((r) => setTimeout(r, delay));
      if (failAt !== undefined && from <= failAt && failAt < to) throw new Error(`broker refused ${from}`);
      for (let i = from; i < to; i++) if (laneOf(keyOf(i), i, count) === index) sent.push(i);
    },
    close: async () => undefined,
  };
}
const lanesOf = (sent: number[], delays: number[][], failAt?: number) => delays.map((d, k) => fakeLane(k, delays.length, sent, d, failAt));

describe('producer lanes', () => {
  it('send every index once, each key in order through one lane, and report a resume point that never passes an unacknowledged message', async () => {
    const sent: number[] = [];
    const progress: number[] = [];
    await driveLanes(lanesOf(sent, [[5, 1, 3], [1, 4], [2]]), { start: 10, rows: 1_013, batchSize: 50 }, (next) => {
      // everything below `next` must have been acknowledged already
      const covered = sent.filter((i) => i < next).length;
      assert.equal(covered, next - 10, `resume point ${next} passes an unacknowledged message`);
      progress.push(next);
    });
    assert.deepEqual(
      [...sent].sort((a, b) => a - b),
      Array.from({ length: 1_003 }, (_, i) => 10 + i),
    );
    for (let k = 0; k < 7; k++) {
      const ofKey = sent.filter((i) => i % 7 === k);
      assert.deepEqual(
        ofKey,
        [...ofKey].sort((a, b) => a - b),
        `key-${k} sent out of order`,
      );
    }
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
    assert.equal(progress.at(-1), 1_013);
  });

  it('puts every message of a key on the same lane, and spreads many keys over all lanes', () => {
    for (const lanes of [2, 3]) {
      const seen = new Set<number>();
      for (let i = 0; i < 1_000; i++) {
        const lane = laneOf(`user-${i}`, i, lanes);
        assert.equal(laneOf(Buffer.from(`user-${i}`), i + 5, lanes), lane, 'a key goes to one lane, string or bytes');
        seen.add(lane);
      }
      assert.equal(seen.size, lanes);
    }
    assert.equal(laneOf(null, 5, 2), 1);
  });

  it('keeps every lane within the window ahead of the resume point, so a resumed run repeats little', async () => {
    let resumePoint = 0;
    let furthest = 0;
    const sent: number[] = [];
    const watch = (lane: Lane): Lane => ({
      send(from, to) {
        furthest = Math.max(furthest, to - resumePoint);
        return lane.send(from, to);
      },
      close: lane.close,
    });
    // One slow lane holds the resume point back while two fast ones would run on.
    const lanes = lanesOf(sent, [[25], [1], [1]]).map(watch);
    await driveLanes(lanes, { start: 0, rows: 2_000, batchSize: 10 }, (n) => (resumePoint = n));
    assert.equal(resumePoint, 2_000);
    assert.ok(furthest <= 2 * 3 * 10, `a lane ran ${furthest} messages ahead of the resume point`);
    assert.ok(furthest > 10, 'the lanes did run ahead of the slow one');
  });

  it('stops at the first failure and never reports the failed batch as done', async () => {
    const sent: number[] = [];
    const progress: number[] = [];
    await assert.rejects(
      driveLanes(lanesOf(sent, [[1], [2]], 420), { start: 0, rows: 10_000, batchSize: 100 }, (n) => progress.push(n)),
      /broker refused 400/,
    );
    assert.ok(Math.max(0, ...progress) <= 400, `progress ${progress.at(-1)}`);
    assert.ok(sent.length < 1_000, 'the other lane stopped too');
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const sent: number[] = [];
    const run = driveLanes(lanesOf(sent, [[2], [3]]), {
      start: 0,
      rows: 1_000_000,
      batchSize: 10,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(run, { name: 'AbortError' });
    assert.ok(sent.length < 10_000);
  });
});
