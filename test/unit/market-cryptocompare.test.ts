// CryptoCompare's pricemultifull: one tick per requested BASE-QUOTE pair from RAW.{fsym}.{tsym};
// errors come as HTTP 200 bodies and are told apart by their message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtlError } from '../../lib/errors';
import { pairOf, ticksFromPriceMultiFull } from '../../sources/market/cryptocompare';
import { tickId, tickSchema } from '../../streams/ticks/schema';
import { fixture } from '../support/market-fixtures';

type Raw = { RAW: Record<string, Record<string, { PRICE: number; LASTUPDATE: number; LASTVOLUME: number; LASTMARKET: string }>> };
const recorded = () => fixture('cryptocompare/pricemultifull.json') as Raw;
const codeOf = (code: string) => (err: unknown) => err instanceof EtlError && err.code === code;

describe('cryptocompare pricemultifull -> ticks', () => {
  it('maps BTC-USD to fsym BTC / tsym USD and back', () => {
    assert.deepEqual(pairOf('BTC-USD'), { fsym: 'BTC', tsym: 'USD' });
    assert.deepEqual(pairOf('eth-eur'), { fsym: 'ETH', tsym: 'EUR' });
    assert.equal(pairOf('BTCUSD'), undefined);
    assert.equal(pairOf('AAPL'), undefined);
  });

  it('maps PRICE, LASTUPDATE, LASTVOLUME and LASTMARKET of each requested pair', () => {
    const raw = recorded().RAW;
    const r = ticksFromPriceMultiFull(['BTC-USD', 'ETH-EUR'], recorded());
    assert.deepEqual(r.failures, []);
    const btc = raw.BTC!.USD!;
    assert.deepEqual(r.ticks.get('BTC-USD'), [
      {
        tick_id: tickId('cryptocompare', 'BTC-USD', btc.LASTUPDATE * 1000),
        symbol: 'BTC-USD',
        source: 'cryptocompare',
        asset_class: 'crypto',
        event_ts: new Date(btc.LASTUPDATE * 1000).toISOString(),
        price: btc.PRICE,
        volume: btc.LASTVOLUME,
        currency: 'USD',
        exchange: btc.LASTMARKET,
      },
    ]);
    const eth = r.ticks.get('ETH-EUR')![0]!;
    assert.equal(eth.price, raw.ETH!.EUR!.PRICE);
    assert.equal(eth.currency, 'EUR');
    for (const [, [t]] of r.ticks) assert.ok(tickSchema().safeParse(t).success);
  });

  it('a pair the answer lacks is an unknown symbol; the others still map', () => {
    const r = ticksFromPriceMultiFull(['BTC-USD', 'XYZQ-USD'], recorded());
    assert.equal(r.ticks.get('BTC-USD')!.length, 1);
    assert.deepEqual(
      r.failures.map((f) => [f.symbol, f.code]),
      [['XYZQ-USD', 'SOURCE_UNKNOWN_SYMBOL']],
    );
  });

  it('a pair without PRICE fails alone, naming the field', () => {
    const body = recorded();
    delete (body.RAW.ETH!.USD as Partial<Raw['RAW'][string][string]>).PRICE;
    const r = ticksFromPriceMultiFull(['BTC-USD', 'ETH-USD'], body);
    assert.equal(r.ticks.get('BTC-USD')!.length, 1);
    assert.equal(r.failures[0]!.code, 'SOURCE_BAD_RESPONSE');
    assert.match(r.failures[0]!.reason, /PRICE/);
  });

  it('reads its errors: no such market (every symbol unknown), a refused key, anything else', () => {
    const none = ticksFromPriceMultiFull(['XYZQ-USD'], fixture('cryptocompare/market-does-not-exist.json'));
    assert.deepEqual(
      none.failures.map((f) => f.code),
      ['SOURCE_UNKNOWN_SYMBOL'],
    );
    assert.throws(
      () => ticksFromPriceMultiFull(['BTC-USD'], fixture('cryptocompare/invalid-key.json')),
      (err: unknown) => codeOf('SOURCE_AUTH_FAILED')(err) && /CRYPTOCOMPARE_API_KEY/.test((err as Error).message),
    );
    assert.throws(
      () => ticksFromPriceMultiFull(['BTC-USD'], { Response: 'Error', Message: 'fsyms param is empty or null.', Type: 2 }),
      codeOf('SOURCE_BAD_RESPONSE'),
    );
    assert.throws(() => ticksFromPriceMultiFull(['BTC-USD'], { Data: [] }), codeOf('SOURCE_BAD_RESPONSE'));
  });
});
