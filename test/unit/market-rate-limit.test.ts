// The token bucket on a fake clock: a burst goes out at once, then one request per 60/rpm seconds,
// in arrival order. Time only moves when the limiter sleeps, so nothing here depends on real time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket, type Clock } from '../../sources/market/rate-limit';

function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('token bucket', () => {
  it('lets a burst through at once, then spaces requests at the rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(60, 3, clock); // one per second, three saved up
    const start = clock.now();
    const at: number[] = [];
    for (let i = 0; i < 6; i++) {
      await bucket.take();
      at.push(clock.now() - start);
    }
    assert.deepEqual(at, [0, 0, 0, 1_000, 2_000, 3_000]);
  });

  it('refills while idle, up to the burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(30, 2, clock); // one per 2 s
    await bucket.take();
    await bucket.take();
    assert.equal(bucket.waitMs(), 2_000);
    await clock.sleep(60_000); // idle for a minute: the bucket holds 2, not 30
    clock.slept.length = 0;
    await bucket.take();
    await bucket.take();
    assert.deepEqual(clock.slept, []);
    await bucket.take();
    assert.deepEqual(clock.slept, [2_000]);
  });

  it('serves concurrent callers in arrival order', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(120, 1, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.deepEqual(clock.slept, [500, 500, 500]);
  });

  it("defaults the burst to a tenth of a minute's requests, at least one", () => {
    assert.equal(new TokenBucket(50, undefined, fakeClock()).burst, 5);
    assert.equal(new TokenBucket(3, undefined, fakeClock()).burst, 1);
    assert.throws(() => new TokenBucket(0, undefined, fakeClock()));
  });
});
