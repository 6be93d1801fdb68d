// Classification is a pure function of a record's bytes, its reference time and the rules: it reads
// no clock, so a retry or replay in 20 years gives what the first transform gave.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { classifyFixedRecords } from '../support/fixed-records';

const RealDate = Date;

/** A Date whose clock cannot be read: `Date.now()` and `new Date()` throw; everything else works. */
class ClocklessDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) throw new Error('validation read the clock (new Date())');
    super(...(args as [string | number]));
  }

  static override now(): number {
    throw new Error('validation read the clock (Date.now())');
  }
}

function withoutClock<T>(fn: () => T): T {
  globalThis.Date = ClocklessDate as DateConstructor;
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

describe('reference time', () => {
  const today = classifyFixedRecords();

  it('the fixed records include accepted and quarantined ones at the bounds of the reference time', () => {
    assert.ok(today.some((l) => l.includes('"silver"')));
    assert.ok(today.some((l) => l.includes('is in the future: more than 1 day after the record was archived (2026-03-08T12:00:00.000Z)')));
    assert.ok(today.some((l) => l.includes('is too far in the past: more than 1825 days before the record was archived')));
  });

  it('classifies without reading the clock', () => {
    assert.throws(() => withoutClock(() => Date.now()), /read the clock/); // the trap works
    assert.deepEqual(withoutClock(classifyFixedRecords), today);
  });

  it('classifies the same records the same way with the clock 20 years ahead or 10 years back', () => {
    for (const at of ['2046-03-08T12:00:00Z', '2016-01-01T00:00:00Z']) {
      mock.timers.enable({ apis: ['Date'], now: RealDate.parse(at) });
      try {
        assert.equal(new Date().toISOString().slice(0, 4), at.slice(0, 4), 'the clock is faked');
        assert.deepEqual(classifyFixedRecords(), today, at);
      } finally {
        mock.timers.reset();
      }
    }
  });
});
