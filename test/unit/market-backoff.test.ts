// Retry-After in both of its forms, and exponential backoff with jitter, computed (no waiting).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, retryAfterMs } from '../../sources/market/backoff';

const NOW = Date.parse('2026-11-20T15:02:37Z');

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    assert.equal(retryAfterMs('120', NOW), 120_000);
    assert.equal(retryAfterMs(' 0 ', NOW), 0);
  });
  it('reads an HTTP date relative to now; a past date means now', () => {
    assert.equal(retryAfterMs(new Date(NOW + 7_000).toUTCString(), NOW), 7_000);
    assert.equal(retryAfterMs('Fri, 20 Nov 2026 15:03:07 GMT', NOW), 30_000);
    assert.equal(retryAfterMs('Fri, 20 Nov 2026 15:00:00 GMT', NOW), 0);
  });
  it('ignores what is neither', () => {
    for (const bad of [undefined, null, '', '1.5', '-3', 'soon', 'Fri, 99 Nov 2026 99:00:00 GMT'])
      assert.equal(retryAfterMs(bad, NOW), undefined, String(bad));
  });
});

describe('backoff', () => {
  const opts = { baseMs: 500, maxMs: 8_000 };
  it('doubles per attempt up to the cap; jitter spans the upper half of each step', () => {
    const low = [1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, opts, () => 0));
    const high = [1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, opts, () => 1));
    assert.deepEqual(high, [500, 1_000, 2_000, 4_000, 8_000, 8_000]);
    assert.deepEqual(
      low,
      high.map((h) => h / 2),
    );
  });
  it('draws different waits for different random draws (pollers that failed together spread out)', () => {
    const waits = [0.1, 0.5, 0.9].map((r) => backoffDelayMs(3, opts, () => r));
    assert.equal(new Set(waits).size, 3);
    for (const w of waits) assert.ok(w >= 1_000 && w <= 2_000, String(w));
  });
});
