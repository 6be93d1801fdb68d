import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateTransaction } from '../../streams/transactions';
import { amountBucket, enrichTransaction } from '../../streams/transactions/enrich';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { transactionSchema } from '../../streams/transactions/schema';
import { STATUSES } from '../../streams/transactions/vocabulary';

const opts = { seed: 7, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
/** The reference time validation judges event times against: here, an archive just after the window. */
const archivedAt = { referenceTimeMs: Date.parse('2026-11-21T00:05:00Z') };

describe('synthetic transactions', () => {
  it('are a pure function of (seed, index)', () => {
    assert.deepEqual(syntheticTransaction(123, opts), syntheticTransaction(123, opts));
    assert.notEqual(syntheticTransaction(123, opts).transaction_id, syntheticTransaction(124, opts).transaction_id);
    assert.notEqual(syntheticTransaction(123, opts).transaction_id, syntheticTransaction(123, { ...opts, seed: 8 }).transaction_id);
  });

  it('all pass validation, with amounts in 5..750 and every status drawn', () => {
    const seen = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const t = syntheticTransaction(i, opts);
      const r = validateTransaction(t, archivedAt);
      assert.ok(r.ok, `event ${i} invalid: ${JSON.stringify(r)}`);
      assert.ok(t.amount >= 5 && t.amount <= 750, `amount ${t.amount}`);
      const ts = Date.parse(t.event_ts);
      assert.ok(ts >= opts.startMs && ts < opts.startMs + opts.windowMs);
      seen.add(t.status);
      ids.add(t.transaction_id);
    }
    assert.deepEqual([...seen].sort(), [...STATUSES].sort());
    assert.equal(ids.size, 5_000, 'transaction ids are unique');
  });
});

describe('enrichment', () => {
  it('buckets amounts at the documented edges', () => {
    const cases: [number, string][] = [
      [5, '<20'],
      [19.99, '<20'],
      [20, '20-100'],
      [99.99, '20-100'],
      [100, '100-250'],
      [250, '250-500'],
      [499.99, '250-500'],
      [500, '>=500'],
      [750, '>=500'],
    ];
    for (const [amount, bucket] of cases) assert.equal(amountBucket(amount), bucket, String(amount));
  });

  it('derives date, hour and weekday in UTC and formats the amount with 2 decimals', () => {
    const parsed = transactionSchema().parse({
      transaction_id: 'A3BB189E-8BF9-3888-9912-ACE4E6543002',
      event_ts: '2026-11-22T23:30:00+02:00',
      user_id: '42',
      amount: '12.5',
      merchant: ' Fnac ',
      category: 'electronics',
      city: 'Lyon',
      status: 'approved',
      payment_method: 'card',
      currency: 'eur',
    });
    assert.deepEqual(enrichTransaction(parsed), {
      transaction_id: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
      event_ts: '2026-11-22T21:30:00.000Z',
      event_date: '2026-11-22',
      event_hour: 21,
      event_dayofweek: 'Sunday',
      user_id: 42,
      amount: '12.50',
      amount_bucket: '<20',
      merchant: 'Fnac',
      category: 'electronics',
      city: 'Lyon',
      status: 'APPROVED',
      payment_method: 'card',
      currency: 'EUR',
    });
  });
});

describe('validation reasons', () => {
  const good = syntheticTransaction(1, opts);
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['missing field', { ...good, merchant: undefined }, 'MISSING_FIELD', /merchant/],
    ['missing enum field', { ...good, city: undefined }, 'MISSING_FIELD', /city/],
    ['wrong type', { ...good, user_id: { id: 1 } }, 'WRONG_TYPE', /user_id/],
    ['negative amount', { ...good, amount: -3 }, 'INVALID_VALUE', /amount must be positive/],
    ['zero amount', { ...good, amount: 0 }, 'INVALID_VALUE', /positive/],
    ['NaN-like amount', { ...good, amount: 'NaN' }, 'INVALID_VALUE', /decimal/],
    ['absurd amount', { ...good, amount: 1e12 }, 'INVALID_VALUE', /at most/],
    ['3 decimals', { ...good, amount: 10.123 }, 'INVALID_VALUE', /2 decimals/],
    ['bad uuid', { ...good, transaction_id: 'not-a-uuid' }, 'INVALID_VALUE', /transaction_id/],
    ['unparseable time', { ...good, event_ts: 'yesterday' }, 'INVALID_VALUE', /ISO-8601/],
    ['far future', { ...good, event_ts: '2999-01-01T00:00:00Z' }, 'INVALID_VALUE', /future/],
    ['far past', { ...good, event_ts: '1999-01-01T00:00:00Z' }, 'INVALID_VALUE', /past/],
    [
      'just over a day after the archive',
      { ...good, event_ts: '2026-11-22T00:05:00.001Z' },
      'INVALID_VALUE',
      /future: more than 1 day after the record was archived \(2026-11-21T00:05:00.000Z\)/,
    ],
    ['no UTC offset', { ...good, event_ts: '2026-11-20T10:00:00' }, 'INVALID_VALUE', /event_ts has no UTC offset/],
    ['a date without a time', { ...good, event_ts: '2026-11-20' }, 'INVALID_VALUE', /ISO-8601 timestamp with an offset/],
    ['a basic-format offset', { ...good, event_ts: '2026-11-20T10:00:00+0530' }, 'INVALID_VALUE', /ISO-8601 timestamp with an offset/],
    ['an RFC 2822 date', { ...good, event_ts: 'Fri, 20 Nov 2026 10:00:00 GMT' }, 'INVALID_VALUE', /ISO-8601/],
    ['unknown status', { ...good, status: 'STOLEN' }, 'UNKNOWN_VALUE', /status/],
    ['unknown category', { ...good, category: 'weapons' }, 'UNKNOWN_VALUE', /category/],
    ['unknown currency', { ...good, currency: 'XYZ' }, 'UNKNOWN_VALUE', /currency/],
  ];
  for (const [name, value, code, reason] of cases) {
    it(`${name} -> ${code}`, () => {
      const r = validateTransaction(value, archivedAt);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, code);
        assert.match(r.reason, reason);
      }
    });
  }

  it('keeps unknown extra fields out of the way (valid, not an error)', () => {
    assert.equal(validateTransaction({ ...good, loyalty_tier: 'gold' }, archivedAt).ok, true);
  });

  it('reads an explicit offset as written, and exactly a day after the archive is still accepted', () => {
    const r = validateTransaction({ ...good, event_ts: '2026-11-21T05:35:00+05:30' }, archivedAt);
    assert.ok(r.ok);
    assert.equal(r.row.event_ts, '2026-11-21T00:05:00.000Z');
    assert.equal(validateTransaction({ ...good, event_ts: '2026-11-22T00:05:00Z' }, archivedAt).ok, true);
  });
});
