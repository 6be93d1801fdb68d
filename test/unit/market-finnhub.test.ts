// Finnhub's quote: one tick at `t` with price `c`, no volume; a quote of zeros is an unknown symbol.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtlError } from '../../lib/errors';
import { parseQuote, tickFromQuote } from '../../sources/market/finnhub';
import { tickId, tickSchema } from '../../streams/ticks/schema';
import { fixture } from '../support/market-fixtures';

const codeOf = (code: string) => (err: unknown) => err instanceof EtlError && err.code === code;

describe('finnhub quote -> tick', () => {
  it('maps c and t to a tick in USD without volume', () => {
    const raw = fixture('finnhub/AAPL.json') as { c: number; t: number };
    const tick = tickFromQuote('AAPL', parseQuote('AAPL', raw));
    assert.deepEqual(tick, {
      tick_id: tickId('finnhub', 'AAPL', raw.t * 1000),
      symbol: 'AAPL',
      source: 'finnhub',
      asset_class: 'stock',
      event_ts: new Date(raw.t * 1000).toISOString(),
      price: raw.c,
      volume: null,
      currency: 'USD',
      exchange: null,
    });
    assert.ok(tickSchema().safeParse(tick).success);
  });

  it('a later quote with a new t is a new tick; the same t is the same tick (a closed market repeats it)', () => {
    const first = tickFromQuote('AAPL', parseQuote('AAPL', fixture('finnhub/AAPL.json')));
    const later = tickFromQuote('AAPL', parseQuote('AAPL', fixture('finnhub/AAPL.later.json')));
    assert.notEqual(later.tick_id, first.tick_id);
    assert.ok(Date.parse(later.event_ts) > Date.parse(first.event_ts));
    assert.deepEqual(tickFromQuote('AAPL', parseQuote('AAPL', fixture('finnhub/AAPL.json'))), first);
  });

  it('reads the all-zero answer as an unknown symbol, not a tick', () => {
    const zeros = parseQuote('ZZZZ', fixture('finnhub/unknown.json'));
    assert.throws(
      () => tickFromQuote('ZZZZ', zeros),
      (err: unknown) => codeOf('SOURCE_UNKNOWN_SYMBOL')(err) && /ZZZZ/.test((err as Error).message),
    );
  });

  it('refuses a quote without c and t, and a price of zero with a time', () => {
    const raw = fixture('finnhub/AAPL.json') as Record<string, unknown>;
    const rest = { ...raw };
    delete rest.c;
    delete rest.t;
    assert.throws(
      () => parseQuote('AAPL', rest),
      (err: unknown) => codeOf('SOURCE_BAD_RESPONSE')(err) && /\bc\b.*\bt\b/.test((err as Error).message),
    );
    assert.throws(() => parseQuote('AAPL', fixture('finnhub/invalid-key.json')), codeOf('SOURCE_BAD_RESPONSE'));
    assert.throws(() => tickFromQuote('AAPL', parseQuote('AAPL', { ...raw, c: 0 })), codeOf('SOURCE_BAD_RESPONSE'));
  });
});
