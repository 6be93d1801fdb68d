// The test helper that anchors simulated market windows gives a regular session at any hour of any
// day it is asked: a test using it does not depend on when it runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionAt } from '../../streams/ticks/sessions';
import { recentRegularSessionStart } from '../support/sessions';

describe('recentRegularSessionStart', () => {
  it('is five hours of regular session, a week or two back, from every hour of two years', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    for (let now = from; now < from + 2 * 365 * 86_400_000; now += 3_600_000 + 60_000) {
      const start = recentRegularSessionStart(now);
      const age = now - start;
      assert.ok(age > 6 * 86_400_000 && age < 14 * 86_400_000, `${new Date(now).toISOString()}: ${new Date(start).toISOString()}`);
      for (let t = start; t < start + 5 * 3_600_000; t += 15 * 60_000)
        assert.equal(sessionAt(t, 'stock'), 'regular', new Date(t).toISOString());
    }
  });
});
