// Market source settings from config, the `poll` schedule target, and how a poll's outcome is told.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allSymbolsFailed, type PollResult } from '../../activities/poll/poll';
import { formatPollResult, marketSymbolList } from '../../client/commands/poll';
import { SCHEDULABLE } from '../../client/commands/schedulable';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { parseMarketSource, sourceSettings } from '../../sources/market/settings';

const NO_DOTENV = '/nonexistent/.env';

describe('market source settings', () => {
  it('has a documented default for every source', () => {
    const config = loadConfig({}, NO_DOTENV);
    const yahoo = sourceSettings(config, 'yahoo');
    assert.deepEqual([yahoo.baseUrl, yahoo.symbols, yahoo.everyMs], ['https://query1.finance.yahoo.com', ['AAPL', 'MSFT'], 60_000]);
    const finnhub = sourceSettings(config, 'finnhub');
    assert.deepEqual([finnhub.apiKey, finnhub.everyMs, finnhub.requestsPerMinute], ['', 30_000, 50]);
    assert.deepEqual(sourceSettings(config, 'cryptocompare').symbols, ['BTC-USD', 'ETH-USD']);
  });

  it('takes per-source overrides; a source left out keeps its default', () => {
    const config = loadConfig(
      {
        MARKET_POLL_EVERY: 'finnhub=15s',
        MARKET_REQUESTS_PER_MINUTE: 'yahoo=10',
        MARKET_SYMBOLS_CRYPTOCOMPARE: 'btc-eur, sol-usd',
        FINNHUB_API_KEY: 'k',
      },
      NO_DOTENV,
    );
    assert.equal(sourceSettings(config, 'finnhub').everyMs, 15_000);
    assert.equal(sourceSettings(config, 'yahoo').everyMs, 60_000);
    assert.equal(sourceSettings(config, 'yahoo').requestsPerMinute, 10);
    assert.equal(sourceSettings(config, 'finnhub').apiKey, 'k');
    assert.deepEqual(sourceSettings(config, 'cryptocompare').symbols, ['BTC-EUR', 'SOL-USD']);
  });

  it('names a bad value and what was expected', () => {
    assert.throws(
      () => loadConfig({ MARKET_POLL_EVERY: 'yahoo=often', MARKET_SYMBOLS_YAHOO: 'AAPL,not a symbol' }, NO_DOTENV),
      (err: unknown) =>
        err instanceof EtlError &&
        err.code === 'CONFIG_INVALID' &&
        /MARKET_POLL_EVERY.*expected source=value pairs/.test(err.message) &&
        /MARKET_SYMBOLS_YAHOO/.test(err.message),
    );
    assert.throws(
      () => parseMarketSource('bloomberg'),
      (err: unknown) => err instanceof EtlError && err.code === 'USAGE' && /yahoo, finnhub, cryptocompare/.test(err.message),
    );
  });
});

describe('the poll schedule target', () => {
  const config = loadConfig({ MARKET_POLL_EVERY: 'cryptocompare=5m' }, NO_DOTENV);
  const poll = SCHEDULABLE.poll!;

  it('starts pollMarketWorkflow with the source, and symbols only when given', () => {
    assert.equal(poll.workflowType, 'pollMarketWorkflow');
    assert.deepEqual(poll.input(config, { stream: 'ticks', source: 'yahoo' }), { source: 'yahoo' });
    assert.deepEqual(poll.input(config, { stream: 'ticks', source: 'finnhub', symbols: ['NVDA'] }), {
      source: 'finnhub',
      symbols: ['NVDA'],
    });
  });

  it('is named after the source and polls at its interval by default', () => {
    assert.equal(poll.defaultId!({ stream: 'ticks', source: 'finnhub' }), 'poll-finnhub');
    assert.equal(poll.defaultEveryMs!(config, { stream: 'ticks', source: 'cryptocompare' }), 300_000);
    assert.equal(poll.defaultEveryMs!(config, { stream: 'ticks', source: 'yahoo' }), 60_000);
  });

  it('needs --source', () => {
    assert.throws(
      () => poll.input(config, { stream: 'ticks' }),
      (err: unknown) => err instanceof EtlError && err.code === 'USAGE' && /--source/.test(err.message),
    );
  });
});

describe('poll outcome', () => {
  const base: PollResult = { source: 'finnhub', topic: 'ticks', fetched: 0, published: 0, unchanged: 0, failedSymbols: [], symbols: [] };
  const ok = { symbol: 'AAPL', fetched: 1, published: 1, unchanged: 0 };
  const unknown = { symbol: 'ZZZZ', code: 'SOURCE_UNKNOWN_SYMBOL' as const, reason: 'finnhub does not know ZZZZ' };
  const down = { symbol: 'MSFT', code: 'SOURCE_UNAVAILABLE' as const, reason: 'finnhub answered HTTP 502' };
  const failedRow = (f: typeof unknown | typeof down) => ({
    symbol: f.symbol,
    fetched: 0,
    published: 0,
    unchanged: 0,
    error: { code: f.code, reason: f.reason },
  });

  it('fails only when every symbol failed, retryably if any failure may pass', () => {
    assert.equal(allSymbolsFailed({ ...base, failedSymbols: [unknown], symbols: [ok, failedRow(unknown)] }), undefined);
    const permanent = allSymbolsFailed({ ...base, failedSymbols: [unknown], symbols: [failedRow(unknown)] });
    assert.deepEqual([permanent?.code, permanent?.retryable], ['SOURCE_UNKNOWN_SYMBOL', false]);
    const transient = allSymbolsFailed({ ...base, failedSymbols: [unknown, down], symbols: [failedRow(unknown), failedRow(down)] });
    assert.deepEqual([transient?.code, transient?.retryable], ['SOURCE_UNAVAILABLE', true]);
    assert.match(transient!.message, /ZZZZ: .*MSFT: /);
  });

  it('prints one row per symbol with its error', () => {
    const text = formatPollResult({ ...base, fetched: 1, published: 1, failedSymbols: [unknown], symbols: [ok, failedRow(unknown)] });
    const lines = text.split('\n');
    assert.match(lines[0]!, /^symbol\s+fetched\s+published\s+unchanged\s+error$/);
    assert.match(lines[2]!, /^AAPL\s+1\s+1\s+0\s+-$/);
    assert.match(lines[3]!, /^ZZZZ\s+0\s+0\s+0\s+SOURCE_UNKNOWN_SYMBOL: finnhub does not know ZZZZ$/);
    assert.match(text, /1 of 2 symbols failed/);
  });

  it('reads --symbols', () => {
    assert.deepEqual(marketSymbolList('aapl, MSFT,BTC-USD'), ['AAPL', 'MSFT', 'BTC-USD']);
    assert.throws(() => marketSymbolList('AAPL,,not ok'), /expected comma-separated symbols/);
  });
});
