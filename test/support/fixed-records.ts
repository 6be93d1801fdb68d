// A fixed set of archived records whose classification must not depend on where or when it runs:
// offsets on both sides of UTC, times without an offset, the day New York moves its clocks (the
// stock session of a tick reads the New York wall clock), and event times right at the bounds of
// "in the future" and "too far in the past" around their reference time. Used by the time-zone and
// reference-time tests, in this process and in child processes with another TZ.
import type { BronzeRecord } from '../../lib/lake';
import { classifyRecord, silverDoc } from '../../streams/classify';
import { ticksStream } from '../../streams/ticks';
import { MAX_TICK_SKEW_MS, tickId } from '../../streams/ticks/schema';
import { transactionsStream } from '../../streams/transactions';
import { MAX_EVENT_SKEW_MS } from '../../streams/transactions/schema';
import type { StreamSpec, ValidationContext } from '../../streams/types';

/** 2026-03-08: New York switches to daylight saving time at 02:00 local (07:00 UTC). */
export const TRANSACTIONS_ARCHIVED_AT = Date.parse('2026-03-08T12:00:00Z');
export const TICKS_ARCHIVED_AT = Date.parse('2026-03-09T20:00:00Z');

const iso = (ms: number) => new Date(ms).toISOString();

const transaction = (i: number, eventTs: string) => ({
  transaction_id: `0c4f2a9e-1b7d-4e0a-9f3c-${String(i).padStart(12, '0')}`,
  event_ts: eventTs,
  user_id: 1000 + i,
  amount: 12.5 + i,
  merchant: 'Fnac',
  category: 'electronics',
  city: 'Lyon',
  status: 'APPROVED',
  payment_method: 'card',
  currency: 'EUR',
});

const TRANSACTION_TIMES = [
  '2026-03-07T23:30:00-05:00', // a Saturday evening in New York, Sunday 04:30 in UTC
  '2026-03-08T05:30:00+05:30', // Kolkata, midnight UTC
  '2026-03-08T07:30:00Z',
  '2026-03-08T14:15:00.123+14:00', // Kiribati, the previous UTC day
  '2026-03-08T02:30:00', // no offset (and a wall time New York skips that night): invalid
  '2026-03-08', // a date: invalid
  '2026-03-08 07:30:00Z', // space instead of T: invalid
  iso(TRANSACTIONS_ARCHIVED_AT + MAX_EVENT_SKEW_MS.future), // the last accepted future instant
  iso(TRANSACTIONS_ARCHIVED_AT + MAX_EVENT_SKEW_MS.future + 1),
  iso(TRANSACTIONS_ARCHIVED_AT - MAX_EVENT_SKEW_MS.past), // the oldest accepted instant
  iso(TRANSACTIONS_ARCHIVED_AT - MAX_EVENT_SKEW_MS.past - 1),
];

const tick = (symbol: string, assetClass: 'stock' | 'crypto', eventTs: string) => ({
  tick_id: tickId('simulator', symbol, Date.parse(eventTs)),
  symbol,
  source: 'simulator',
  asset_class: assetClass,
  event_ts: eventTs,
  price: 187.23,
  volume: 10,
  currency: 'USD',
  exchange: assetClass === 'stock' ? 'NASDAQ' : null,
});

const TICKS: [string, 'stock' | 'crypto', string][] = [
  ['AAPL', 'stock', '2026-03-06T14:45:00Z'], // Friday 09:45 EST: regular
  ['AAPL', 'stock', '2026-03-09T13:45:00Z'], // Monday 09:45 EDT: regular (it would be pre-market in EST)
  ['AAPL', 'stock', '2026-03-09T09:15:00-04:00'], // Monday 09:15 EDT: pre-market
  ['AAPL', 'stock', '2026-03-09T20:30:00Z'], // 16:30 EDT: after hours
  ['AAPL', 'stock', '2026-03-08T15:00:00Z'], // Sunday: closed
  ['BTC-USD', 'crypto', '2026-03-08T06:59:59.999Z'],
  ['BTC-USD', 'crypto', '2026-03-09T10:00:00'], // no offset: invalid
  ['BTC-USD', 'crypto', iso(TICKS_ARCHIVED_AT + MAX_TICK_SKEW_MS.future + 1)],
];

function record(topic: string, offset: number, value: unknown): BronzeRecord {
  return {
    topic,
    partition: 0,
    offset: String(offset),
    timestamp: '2000-01-01T00:00:00.000Z',
    key: null,
    value: JSON.stringify(value),
    encoding: 'utf8',
  };
}

export const FIXED_RECORDS: { spec: StreamSpec; context: ValidationContext; records: BronzeRecord[] }[] = [
  {
    spec: transactionsStream,
    context: { referenceTimeMs: TRANSACTIONS_ARCHIVED_AT },
    records: TRANSACTION_TIMES.map((t, i) => record('transactions', i, transaction(i, t))),
  },
  {
    spec: ticksStream,
    context: { referenceTimeMs: TICKS_ARCHIVED_AT },
    records: TICKS.map(([s, c, t], i) => record('ticks', i, tick(s, c, t))),
  },
];

/** Every fixed record's outcome, one JSON line each: its silver line, or its quarantine code and reason. */
export function classifyFixedRecords(): string[] {
  return FIXED_RECORDS.flatMap(({ spec, context, records }) =>
    records.map((r) => {
      const result = classifyRecord(spec, r, context);
      return JSON.stringify(
        result.ok
          ? { stream: spec.name, silver: silverDoc(result.row, r) }
          : { stream: spec.name, offset: r.offset, code: result.code, reason: result.reason },
      );
    }),
  );
}
