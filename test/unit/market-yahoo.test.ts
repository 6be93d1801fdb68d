// Yahoo's chart endpoint: every finished one-minute bar with a close becomes a tick at the bar's
// time with the bar's volume, mapped from the recorded responses in test/fixtures/market/yahoo.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtlError } from '../../lib/errors';
import { parseChart, ticksFromChart, type YahooChart } from '../../sources/market/yahoo';
import { tickId, tickSchema } from '../../streams/ticks/schema';
import { fixture } from '../support/market-fixtures';

interface Recorded {
  chart: {
    result: {
      meta: { regularMarketTime: number; currency: string; exchangeName: string };
      timestamp: number[];
      indicators: { quote: { close: (number | null)[]; volume: (number | null)[] }[] };
    }[];
  };
}
const recorded = (file: string) => fixture(`yahoo/${file}`) as Recorded;
const chart = (file: string) => recorded(file) as unknown as YahooChart;
const codeOf = (code: string) => (err: unknown) => err instanceof EtlError && err.code === code;

describe('yahoo chart -> ticks', () => {
  it('maps each finished bar with a close; leaves out minutes without trades and the bar still running', () => {
    const raw = recorded('AAPL.json').chart.result[0]!;
    const {
      timestamp,
      indicators: {
        quote: [q],
      },
    } = raw;
    const ticks = ticksFromChart('AAPL', chart('AAPL.json'));

    const lastBar = timestamp.at(-1)!;
    assert.ok(raw.meta.regularMarketTime < lastBar + 60, 'the recording was taken inside its last minute');
    const nullBars = q!.close.filter((c) => c === null).length;
    assert.ok(nullBars > 0, 'the recording has a minute without trades');
    assert.equal(ticks.length, timestamp.length - nullBars - 1);
    assert.ok(
      ticks.every((t) => Date.parse(t.event_ts) < lastBar * 1000),
      'the running bar is not published',
    );

    const first = ticks[0]!;
    assert.deepEqual(first, {
      tick_id: tickId('yahoo', 'AAPL', timestamp[0]! * 1000),
      symbol: 'AAPL',
      source: 'yahoo',
      asset_class: 'stock',
      event_ts: new Date(timestamp[0]! * 1000).toISOString(),
      price: q!.close[0],
      volume: q!.volume[0],
      currency: raw.meta.currency,
      exchange: raw.meta.exchangeName,
    });
    for (const t of ticks) assert.ok(tickSchema().safeParse(t).success, `${t.event_ts} meets the tick contract`);
    assert.equal(new Set(ticks.map((t) => t.tick_id)).size, ticks.length, 'one key per bar');
  });

  it('takes every bar of a session that is over, the last one included', () => {
    const raw = recorded('MSFT.json').chart.result[0]!;
    const ticks = ticksFromChart('MSFT', chart('MSFT.json'));
    assert.equal(ticks.length, raw.timestamp.length);
    assert.equal(ticks.at(-1)!.price, raw.indicators.quote[0]!.close.at(-1));
    assert.equal(ticks.at(-1)!.volume, raw.indicators.quote[0]!.volume.at(-1));
  });

  it('answers no ticks, and no error, when the range holds no bars yet (before the open)', () => {
    assert.deepEqual(ticksFromChart('AAPL', chart('AAPL.no-bars.json')), []);
  });

  it('the same response maps to the same events (the de-duplication and the pipeline rely on it)', () => {
    assert.deepEqual(ticksFromChart('AAPL', chart('AAPL.json')), ticksFromChart('aapl', chart('AAPL.json')));
  });

  it('refuses a response without the fields it needs, naming them', () => {
    const body = structuredClone(recorded('AAPL.json')) as unknown as { chart: { result: { meta: Record<string, unknown> }[] } };
    delete body.chart.result[0]!.meta.currency;
    assert.throws(
      () => parseChart('AAPL', body),
      (err: unknown) => codeOf('SOURCE_BAD_RESPONSE')(err) && /chart\.result\.0\.meta\.currency/.test((err as Error).message),
    );
    assert.deepEqual(parseChart('AAPL', recorded('AAPL.json')).chart.result?.[0]?.meta.symbol, 'AAPL');
  });

  it('refuses series whose lengths disagree', () => {
    const body = structuredClone(recorded('AAPL.json'));
    body.chart.result[0]!.indicators.quote[0]!.close.pop();
    assert.throws(() => ticksFromChart('AAPL', body as unknown as YahooChart), codeOf('SOURCE_BAD_RESPONSE'));
  });
});
