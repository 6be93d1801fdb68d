import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRecord } from '../../streams/classify';
import { ticksStream, validateTick } from '../../streams/ticks';
import { decimalString, enrichTick, type FlatTick } from '../../streams/ticks/enrich';
import { profileOf } from '../../streams/ticks/profiles';
import { tickId, tickSchema, type TickEvent } from '../../streams/ticks/schema';
import { newYorkClock, sessionAt } from '../../streams/ticks/sessions';
import { DEFAULT_SYMBOLS, simulateTicks, startForRows, type SimulatorOptions } from '../../streams/ticks/simulator';
import { ticksSynthetic } from '../../streams/ticks/synthetic';

const at = (iso: string) => Date.parse(iso);
const take = <T>(it: Iterator<T>, n: number): T[] => Array.from({ length: n }, () => it.next().value as T);

describe('tick schema and enrichment', () => {
  const base: TickEvent = {
    tick_id: tickId('yahoo', 'AAPL', at('2026-11-23T15:04:05.678Z')),
    symbol: ' aapl ',
    source: 'yahoo',
    asset_class: 'stock',
    event_ts: '2026-11-23T10:04:05.678-05:00',
    price: 187.23,
    volume: 1500,
    currency: 'usd',
    exchange: ' NASDAQ ',
  };

  it('derives the flat row: UTC calendar, UTC minute, New York session, decimal strings', () => {
    const row = enrichTick(tickSchema().parse(base));
    const expected: FlatTick = {
      tick_id: base.tick_id,
      symbol: 'AAPL',
      source: 'yahoo',
      asset_class: 'stock',
      event_ts: '2026-11-23T15:04:05.678Z',
      event_date: '2026-11-23',
      event_hour: 15,
      event_dayofweek: 'Monday',
      minute_ts: '2026-11-23T15:04:00.000Z',
      session: 'regular',
      price: '187.23',
      volume: '1500',
      currency: 'USD',
      exchange: 'NASDAQ',
    };
    assert.deepEqual(row, expected);
  });

  it('keeps a missing volume and exchange as null, and crypto as continuous', () => {
    const row = enrichTick(
      tickSchema().parse({
        ...base,
        symbol: 'BTC-USD',
        asset_class: 'crypto',
        event_ts: '2026-11-22T03:00:59.999Z',
        volume: null,
        exchange: undefined,
      }),
    );
    assert.equal(row.volume, null);
    assert.equal(row.exchange, null);
    assert.equal(row.session, 'continuous');
    assert.equal(row.minute_ts, '2026-11-22T03:00:00.000Z');
    assert.equal(row.event_dayofweek, 'Sunday');
  });

  it('writes numbers as the decimals they stand for, rounded half-up at 8 places', () => {
    const cases: [number, string][] = [
      [0.1 + 0.2, '0.3'],
      [187.23, '187.23'],
      [1e-7, '0.0000001'],
      [1.5e-8, '0.00000002'],
      [0.123456785, '0.12345679'],
      [0.999999999, '1'],
      [65000, '65000'],
      [0, '0'],
      [1e15, '1000000000000000'],
      [12.000000004, '12'],
      [2.5e-5, '0.000025'],
    ];
    for (const [value, text] of cases) assert.equal(decimalString(value, 8), text, String(value));
    assert.equal(decimalString(-1.005, 2), '-1.01');
  });

  it('derives the same key from the same (source, symbol, time): a UUID v5', () => {
    const id = tickId('simulator', 'btc-usd', 1_700_000_000_000);
    assert.equal(id, tickId('simulator', 'BTC-USD', 1_700_000_000_000));
    assert.notEqual(id, tickId('simulator', 'BTC-USD', 1_700_000_000_001));
    assert.notEqual(id, tickId('finnhub', 'BTC-USD', 1_700_000_000_000));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('trading sessions (America/New_York)', () => {
  const cases: [string, string, string][] = [
    // Winter (EST, UTC-5)
    ['2026-11-23T08:59:59Z', 'closed', '03:59 EST'],
    ['2026-11-23T09:00:00Z', 'pre', '04:00 EST'],
    ['2026-11-23T14:29:59Z', 'pre', '09:29:59 EST'],
    ['2026-11-23T14:30:00Z', 'regular', '09:30 EST'],
    ['2026-11-23T20:59:59Z', 'regular', '15:59:59 EST'],
    ['2026-11-23T21:00:00Z', 'post', '16:00 EST'],
    ['2026-11-24T00:59:59Z', 'post', '19:59:59 EST, already Tuesday in UTC'],
    ['2026-11-24T01:00:00Z', 'closed', '20:00 EST'],
    ['2026-11-28T00:30:00Z', 'post', 'Friday 19:30 EST, Saturday in UTC'],
    ['2026-11-28T15:00:00Z', 'closed', 'Saturday'],
    ['2026-11-30T03:00:00Z', 'closed', 'Sunday 22:00 EST, Monday in UTC'],
    // Summer (EDT, UTC-4): the same wall clock is an hour earlier in UTC
    ['2026-07-14T13:29:59Z', 'pre', '09:29:59 EDT'],
    ['2026-07-14T13:30:00Z', 'regular', '09:30 EDT'],
    ['2026-07-14T20:00:00Z', 'post', '16:00 EDT'],
    ['2026-07-15T00:00:00Z', 'closed', '20:00 EDT'],
    // DST starts Sunday 2026-03-08 (02:00 EST -> 03:00 EDT): Friday before and Monday after
    ['2026-03-06T14:29:59Z', 'pre', 'Friday 09:29:59 EST'],
    ['2026-03-06T14:30:00Z', 'regular', 'Friday 09:30 EST'],
    ['2026-03-09T13:30:00Z', 'regular', 'Monday 09:30 EDT'],
    ['2026-03-09T13:29:59Z', 'pre', 'Monday 09:29:59 EDT'],
    // DST ends Sunday 2026-11-01 (02:00 EDT -> 01:00 EST): Friday before and Monday after
    ['2026-10-30T13:30:00Z', 'regular', 'Friday 09:30 EDT'],
    ['2026-10-30T20:00:00Z', 'post', 'Friday 16:00 EDT'],
    ['2026-11-02T13:30:00Z', 'pre', 'Monday 08:30 EST'],
    ['2026-11-02T14:30:00Z', 'regular', 'Monday 09:30 EST'],
  ];
  for (const [iso, session, what] of cases) {
    it(`${iso} (${what}) is ${session}`, () => assert.equal(sessionAt(at(iso), 'stock'), session));
  }

  it('follows the wall clock across the DST switches themselves', () => {
    assert.deepEqual(newYorkClock(at('2026-03-08T06:59:00Z')), { weekday: 0, minuteOfDay: 1 * 60 + 59 });
    assert.deepEqual(newYorkClock(at('2026-03-08T07:00:00Z')), { weekday: 0, minuteOfDay: 3 * 60 });
    assert.deepEqual(newYorkClock(at('2026-11-01T05:59:00Z')), { weekday: 0, minuteOfDay: 1 * 60 + 59 });
    assert.deepEqual(newYorkClock(at('2026-11-01T06:00:00Z')), { weekday: 0, minuteOfDay: 1 * 60 });
  });

  it('crypto trades continuously, weekends included', () => {
    for (const iso of ['2026-11-28T15:00:00Z', '2026-11-24T03:00:00Z', '2026-03-08T07:00:00Z'])
      assert.equal(sessionAt(at(iso), 'crypto'), 'continuous');
  });
});

describe('tick simulator', () => {
  // About 30 hours from Friday 08:00 UTC: the closed night, pre, regular and post sessions, and the start of the weekend.
  const opts: SimulatorOptions = { seed: 7, symbols: [...DEFAULT_SYMBOLS], startMs: at('2026-11-20T08:00:00Z'), intervalMs: 5_000 };
  const N = 60_000;
  const ticks = take(simulateTicks(opts), N);

  it('is deterministic, and resuming at an index gives the very same ticks', () => {
    assert.deepEqual(take(simulateTicks(opts), 500), ticks.slice(0, 500));
    assert.deepEqual(take(simulateTicks(opts, 12_345), 300), ticks.slice(12_345, 12_645));
    assert.notDeepEqual(take(simulateTicks({ ...opts, seed: 8 }), 50), ticks.slice(0, 50));
  });

  it('makes ticks that pass validation, keyed by tickId, in strictly increasing time', () => {
    const archivedAt = { referenceTimeMs: at('2026-11-24T00:00:00Z') };
    let previous = opts.startMs - 1;
    for (const t of ticks) {
      const r = validateTick(t, archivedAt);
      assert.ok(r.ok, JSON.stringify(r));
      const ms = Date.parse(t.event_ts);
      assert.ok(ms > previous, `${t.event_ts} after ${new Date(previous).toISOString()}`);
      previous = ms;
      assert.equal(t.tick_id, tickId('simulator', t.symbol, ms));
      assert.equal(t.currency, 'USD');
      assert.equal(t.asset_class, profileOf(t.symbol).assetClass);
    }
    assert.equal(new Set(ticks.map((t) => t.tick_id)).size, N);
  });

  it('trades stocks only in their sessions, thinner before and after the regular one; crypto around the clock', () => {
    const perSession: Record<string, number> = {};
    for (const t of ticks) {
      const s = sessionAt(Date.parse(t.event_ts), t.asset_class as 'stock' | 'crypto');
      perSession[`${t.asset_class}:${s}`] = (perSession[`${t.asset_class}:${s}`] ?? 0) + 1;
    }
    assert.equal(perSession['stock:closed'], undefined, JSON.stringify(perSession));
    // Per minute of session: pre-market is 5.5 h, regular 6.5 h; activity 0.15 against 1.
    const preRate = perSession['stock:pre']! / 330;
    const regularRate = perSession['stock:regular']! / 390;
    assert.ok(preRate < regularRate / 3, `pre ${preRate}/min, regular ${regularRate}/min`);
    assert.ok(perSession['stock:post']! > 0);
    const weekend = ticks.filter((t) => new Date(t.event_ts).getUTCDay() === 6 && Date.parse(t.event_ts) > at('2026-11-21T01:00:00Z'));
    assert.ok(weekend.length > 0, 'the run reaches Saturday');
    assert.deepEqual([...new Set(weekend.map((t) => t.asset_class))], ['crypto']);
  });

  it('walks prices plausibly and draws realistic volumes', () => {
    for (const symbol of DEFAULT_SYMBOLS) {
      const own = ticks.filter((t) => t.symbol === symbol);
      assert.ok(own.length > 1_000, `${symbol}: ${own.length} ticks`);
      const start = profileOf(symbol).startPrice;
      for (let i = 1; i < own.length; i++) {
        const move = Math.abs(Math.log(own[i]!.price / own[i - 1]!.price));
        assert.ok(move < 0.03, `${symbol} moved ${move} between two ticks`);
      }
      const prices = own.map((t) => t.price);
      assert.ok(Math.min(...prices) > start * 0.7 && Math.max(...prices) < start * 1.3, `${symbol} stays within ±30% in a day`);
      assert.ok(new Set(prices).size > 20, `${symbol} price moves`);
      const volumes = own.map((t) => t.volume!);
      assert.ok(volumes.every((v) => v > 0));
      if (profileOf(symbol).assetClass === 'stock')
        assert.ok(
          volumes.every((v) => Number.isInteger(v)),
          `${symbol} trades whole shares`,
        );
      else
        assert.ok(
          volumes.some((v) => !Number.isInteger(v)),
          `${symbol} trades fractions`,
        );
    }
  });

  it('gives any other symbol a stable profile: pairs are crypto, the rest stocks', () => {
    assert.deepEqual(profileOf('SOL-USD'), profileOf('SOL-USD'));
    assert.equal(profileOf('SOL-USD').assetClass, 'crypto');
    assert.equal(profileOf('TSLA').assetClass, 'stock');
    assert.ok(profileOf('TSLA').startPrice >= 20 && profileOf('TSLA').startPrice <= 500);
  });

  it('picks a default start so that the expected ticks end about now, never in the future', () => {
    const now = at('2026-11-23T18:00:00Z');
    const resolved = ticksSynthetic.resolve({ symbols: ['AAPL', 'BTC-USD'] }, { rows: 20_000, nowMs: now }) as unknown as SimulatorOptions;
    assert.equal(resolved.startMs, startForRows(20_000, resolved, now));
    const last = take(simulateTicks(resolved), 20_000).at(-1)!;
    assert.ok(Math.abs(Date.parse(last.event_ts) - now) < 20 * 60_000, `last tick ${last.event_ts}`);
  });

  it('publishes messages keyed by symbol with the event time as timestamp, resumable at an index', () => {
    const options = ticksSynthetic.resolve(
      { symbols: ['msft', 'ETH-USD'], startMs: at('2026-11-20T15:00:00Z'), seed: 3 },
      { rows: 10, nowMs: at('2026-11-24T00:00:00Z') },
    );
    const messages = take(ticksSynthetic.messages(options, 0), 40);
    for (const m of messages) {
      const tick = JSON.parse(m.value) as TickEvent;
      assert.equal(m.key, tick.symbol);
      assert.equal(m.timestamp, String(Date.parse(tick.event_ts)));
    }
    assert.deepEqual(new Set(messages.map((m) => m.key)), new Set(['MSFT', 'ETH-USD']));
    assert.deepEqual(take(ticksSynthetic.messages(options, 25), 15), messages.slice(25));
  });

  it('refuses bad generator options as a usage error', () => {
    const nowMs = at('2026-11-24T00:00:00Z');
    assert.throws(() => ticksSynthetic.resolve({ symbols: ['AAPL', 'aapl'] }, { rows: 10, nowMs }), /USAGE|each symbol once/);
    assert.throws(
      () => ticksSynthetic.resolve({ symbols: ['NOT A SYMBOL'] }, { rows: 10, nowMs }),
      (err: Error & { code?: string }) => err.code === 'USAGE',
    );
    assert.throws(
      () => take(ticksSynthetic.messages({ seed: 1, symbols: [] }, 0), 1),
      (err: Error & { code?: string }) => err.code === 'USAGE',
    );
  });
});

describe('ticks quarantine codes', () => {
  // A Monday in the regular session, so the first tick is the stock's; archived an hour later.
  const good = take(
    simulateTicks({ seed: 1, symbols: ['AAPL', 'BTC-USD'], startMs: at('2026-11-23T15:00:00Z'), intervalMs: 1_000 }),
    1,
  )[0]!;
  const archivedAt = { referenceTimeMs: at('2026-11-23T16:00:00Z') };
  const record = (value: string | null) => ({
    topic: 'ticks',
    partition: 0,
    offset: '1',
    timestamp: '0',
    key: null,
    value,
    encoding: 'utf8' as const,
  });
  const cases: [string, unknown, string][] = [
    ['missing symbol', { ...good, symbol: undefined }, 'MISSING_FIELD'],
    ['missing price', { ...good, price: undefined }, 'MISSING_FIELD'],
    ['price as text', { ...good, price: '187.2' }, 'WRONG_TYPE'],
    ['negative price', { ...good, price: -1 }, 'INVALID_VALUE'],
    ['price that rounds to 0 at 8 decimals', { ...good, price: 1e-9 }, 'INVALID_VALUE'],
    ['absurd price', { ...good, price: 5e9 }, 'INVALID_VALUE'],
    ['negative volume', { ...good, volume: -3 }, 'INVALID_VALUE'],
    ['absurd volume', { ...good, volume: 1e21 }, 'INVALID_VALUE'],
    ['unknown source', { ...good, source: 'bloomberg' }, 'UNKNOWN_VALUE'],
    ['unknown asset class', { ...good, asset_class: 'bond' }, 'UNKNOWN_VALUE'],
    ['symbol with a space', { ...good, symbol: 'AA PL' }, 'INVALID_VALUE'],
    ['currency not ISO', { ...good, currency: 'DOLLARS' }, 'INVALID_VALUE'],
    ['event time in seconds, not an ISO string', { ...good, event_ts: 1_700_000_000 }, 'WRONG_TYPE'],
    ['event time in the future', { ...good, event_ts: '2026-11-23T18:00:00Z' }, 'INVALID_VALUE'],
    ['event time over 20 years before the archive', { ...good, event_ts: '2006-11-01T00:00:00Z' }, 'INVALID_VALUE'],
    ['unparseable event time', { ...good, event_ts: 'yesterday-ish' }, 'INVALID_VALUE'],
    ['event time without an offset', { ...good, event_ts: '2026-11-23T15:04:05' }, 'INVALID_VALUE'],
    ['event date without a time', { ...good, event_ts: '2026-11-23' }, 'INVALID_VALUE'],
    ['invalid tick_id', { ...good, tick_id: 'tick-1' }, 'INVALID_VALUE'],
  ];
  for (const [name, value, code] of cases) {
    it(`${name} is ${code}`, () => {
      const r = classifyRecord(ticksStream, record(JSON.stringify(value)), archivedAt);
      assert.equal(r.ok, false, name);
      if (!r.ok) assert.equal(r.code, code, r.reason);
    });
  }

  it('accepts a simulated tick and extra fields (kept in the payload)', () => {
    const r = classifyRecord(ticksStream, record(JSON.stringify({ ...good, bid: 1, ask: 2 })), archivedAt);
    assert.ok(r.ok);
    assert.equal(good.asset_class, 'stock');
    assert.deepEqual(validateTick(good, archivedAt).ok, true);
  });

  it('declares its tables, key and accepted values for the quality checks', () => {
    assert.equal(ticksStream.topic, 'ticks');
    assert.deepEqual(
      [ticksStream.rawTable, ticksStream.flatTable, ticksStream.keyColumn, ticksStream.keyType],
      ['raw_ticks', 'ticks_flat', 'tick_id', 'uuid'],
    );
    assert.deepEqual(
      ticksStream.acceptedValues.map((a) => a.column),
      ['source', 'asset_class', 'session'],
    );
    assert.ok(['symbol', 'price', 'minute_ts', 'session'].every((c) => ticksStream.notNullColumns.includes(c)));
    assert.equal(ticksStream.afterMergeSql.length, 2, 'the lock, then the recompute, as two statements');
    assert.match(ticksStream.afterMergeSql[0]!, /pg_advisory_xact_lock/);
    assert.match(ticksStream.afterMergeSql[1]!, /ON CONFLICT \(symbol, source, bucket_start\) DO UPDATE/);
  });
});
