// The market data adapters over real HTTP against the local replay server (these machines cannot
// reach the real APIs): every failure each API can answer, with the requests counted on the server.
// Polling into Kafka and PostgreSQL, the workflow and `etl poll` are in market-poll.test.ts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { backoffDelayMs, DEFAULT_BACKOFF } from '../../sources/market/backoff';
import { FINNHUB_KEY_HELP } from '../../sources/market/finnhub';
import type { AdapterOptions } from '../../sources/market/http';
import { TokenBucket, type Clock } from '../../sources/market/rate-limit';
import { adapterFor, createAdapter } from '../../sources/market/settings';
import type { MarketSource } from '../../sources/market/types';
import { fixture, yahooTicks } from '../support/market-fixtures';
import { closedPort, startReplayServer, type ReplayServer } from '../support/market-replay-server';

const FINNHUB_KEY = 'replay-finnhub-key';
const CRYPTOCOMPARE_KEY = 'replay-cryptocompare-key';

/** Real time for Retry-After dates, but waits only recorded: the retry loop runs at once. */
function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => Date.now(), sleep: async (ms) => void slept.push(ms) };
}

const codeIs = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof EtlError, `EtlError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

describe('market data adapters over HTTP', () => {
  let server: ReplayServer;
  let config: Config;

  before(async () => {
    server = await startReplayServer({ finnhub: FINNHUB_KEY, cryptocompare: CRYPTOCOMPARE_KEY });
    config = {
      ...loadConfig(),
      YAHOO_BASE_URL: server.url,
      FINNHUB_BASE_URL: server.url,
      CRYPTOCOMPARE_BASE_URL: server.url,
      FINNHUB_API_KEY: FINNHUB_KEY,
      CRYPTOCOMPARE_API_KEY: CRYPTOCOMPARE_KEY,
    };
  });
  after(async () => server?.close());
  beforeEach(() => server.reset());

  // An own bucket per adapter, so the limiter never slows these tests; fixed jitter, so waits are exact.
  const adapter = (source: MarketSource, http: AdapterOptions['http'] = {}) =>
    adapterFor(config, source, { bucket: new TokenBucket(6_000), random: () => 0.5, ...http });
  const statuses = () => server.requests.map((r) => r.status);

  describe('yahoo over HTTP', () => {
    it('fetches each symbol with interval=1m&range=1d; an unknown one fails alone', async () => {
      const r = await adapter('yahoo').fetch(['AAPL', 'MSFT', 'ZZZZ']);
      assert.deepEqual(r.ticks.get('AAPL'), yahooTicks('AAPL'));
      assert.deepEqual(r.ticks.get('MSFT'), yahooTicks('MSFT'));
      assert.deepEqual(
        r.failures.map((f) => [f.symbol, f.code]),
        [['ZZZZ', 'SOURCE_UNKNOWN_SYMBOL']],
      );
      assert.match(r.failures[0]!.reason, /No data found, symbol may be delisted/);
      assert.deepEqual(
        server.requests.map((q) => [q.path, q.query.interval, q.query.range, q.status]),
        [
          ['/v8/finance/chart/AAPL', '1m', '1d', 200],
          ['/v8/finance/chart/MSFT', '1m', '1d', 200],
          ['/v8/finance/chart/ZZZZ', '1m', '1d', 404],
        ],
      );
    });

    it('waits out a 429 with Retry-After in seconds, then succeeds (real clock)', async () => {
      server.fail('yahoo', { kind: 'status', status: 429, retryAfter: '1' });
      const r = await adapterFor(config, 'yahoo', { bucket: new TokenBucket(6_000) }).fetch(['AAPL']);
      assert.deepEqual(r.ticks.get('AAPL'), yahooTicks('AAPL'));
      assert.deepEqual(statuses(), [429, 200]);
    });

    it('honours a Retry-After HTTP date', async () => {
      server.fail('yahoo', { kind: 'status', status: 429, retryAfter: new Date(Date.now() + 3_000).toUTCString() });
      const clock = recordingClock();
      await adapter('yahoo', { clock }).fetch(['AAPL']);
      assert.deepEqual(statuses(), [429, 200]);
      assert.equal(clock.slept.length, 1);
      assert.ok(clock.slept[0]! > 1_000 && clock.slept[0]! <= 3_000, `waited ${clock.slept[0]} ms`);
    });

    it('retries a 500 after a backoff, then succeeds', async () => {
      server.fail('yahoo', { kind: 'status', status: 500 });
      const clock = recordingClock();
      const r = await adapter('yahoo', { clock }).fetch(['MSFT']);
      assert.equal(r.ticks.get('MSFT')!.length, yahooTicks('MSFT').length);
      assert.deepEqual(statuses(), [500, 200]);
      assert.deepEqual(clock.slept, [backoffDelayMs(1, DEFAULT_BACKOFF, () => 0.5)]);
    });

    it('gives up on a 429 that does not pass: SOURCE_RATE_LIMITED for the whole poll, after maxAttempts', async () => {
      server.fail('yahoo', { kind: 'status', status: 429 }, 10);
      const clock = recordingClock();
      await assert.rejects(
        adapter('yahoo', { clock, maxAttempts: 3 }).fetch(['AAPL', 'MSFT']),
        codeIs('SOURCE_RATE_LIMITED', /429.*3 attempts.*MARKET_REQUESTS_PER_MINUTE/),
      );
      assert.deepEqual(statuses(), [429, 429, 429]);
      assert.deepEqual(
        clock.slept,
        [1, 2].map((a) => backoffDelayMs(a, DEFAULT_BACKOFF, () => 0.5)),
        'exponential',
      );
    });

    it('a Retry-After longer than a poll waits fails at once, retryably', async () => {
      server.fail('yahoo', { kind: 'status', status: 429, retryAfter: '3600' });
      await assert.rejects(
        adapter('yahoo', { clock: recordingClock() }).fetch(['AAPL']),
        (err: unknown) => codeIs('SOURCE_RATE_LIMITED', /wait 3600 s/)(err) && (err as EtlError).retryable,
      );
      assert.equal(server.count('yahoo'), 1);
    });

    it('a symbol whose 5xx do not pass fails alone (SOURCE_UNAVAILABLE); the next symbol is fetched', async () => {
      server.fail('yahoo', { kind: 'status', status: 503 }, 4);
      const r = await adapter('yahoo', { clock: recordingClock() }).fetch(['AAPL', 'MSFT']);
      assert.deepEqual(
        r.failures.map((f) => [f.symbol, f.code]),
        [['AAPL', 'SOURCE_UNAVAILABLE']],
      );
      assert.equal(r.ticks.get('MSFT')!.length, yahooTicks('MSFT').length);
      assert.deepEqual([server.count('yahoo', 'AAPL'), server.count('yahoo', 'MSFT')], [4, 1]);
    });

    it('malformed JSON is SOURCE_BAD_RESPONSE for that symbol, not retried', async () => {
      server.fail('yahoo', { kind: 'malformed' });
      const r = await adapter('yahoo').fetch(['AAPL', 'MSFT']);
      assert.deepEqual(
        r.failures.map((f) => [f.symbol, f.code]),
        [['AAPL', 'SOURCE_BAD_RESPONSE']],
      );
      assert.match(r.failures[0]!.reason, /not JSON/);
      assert.deepEqual([server.count('yahoo', 'AAPL'), r.ticks.has('MSFT')], [1, true]);
    });

    it('missing fields are SOURCE_BAD_RESPONSE naming them', async () => {
      server.fail('yahoo', { kind: 'missing-fields' });
      const r = await adapter('yahoo').fetch(['AAPL']);
      assert.equal(r.failures[0]!.code, 'SOURCE_BAD_RESPONSE');
      assert.match(r.failures[0]!.reason, /meta\.currency/);
    });

    it('another 4xx is not retried', async () => {
      server.fail('yahoo', { kind: 'status', status: 400 });
      const r = await adapter('yahoo').fetch(['AAPL']);
      assert.equal(r.failures[0]!.code, 'SOURCE_BAD_RESPONSE');
      assert.equal(server.count('yahoo'), 1);
    });

    it('a market with no bars yet answers no ticks and no error', async () => {
      server.play('yahoo', 'no-bars');
      const r = await adapter('yahoo').fetch(['AAPL']);
      assert.deepEqual([r.ticks.get('AAPL'), r.failures], [[], []]);
    });

    it('a request that times out is retried', async () => {
      server.fail('yahoo', { kind: 'stall', ms: 3_000 });
      const r = await adapter('yahoo', { timeoutMs: 300, clock: recordingClock() }).fetch(['AAPL']);
      assert.equal(r.ticks.get('AAPL')!.length, yahooTicks('AAPL').length);
      assert.equal(server.count('yahoo'), 2);
    });
  });

  describe('finnhub over HTTP', () => {
    it('fetches one quote per symbol with the key; an unknown symbol (zeros) fails alone', async () => {
      const r = await adapter('finnhub').fetch(['AAPL', 'ZZZZ', 'MSFT']);
      assert.deepEqual([...r.ticks.keys()], ['AAPL', 'MSFT']);
      assert.equal(r.ticks.get('AAPL')![0]!.price, (fixture('finnhub/AAPL.json') as { c: number }).c);
      assert.deepEqual(
        r.failures.map((f) => [f.symbol, f.code]),
        [['ZZZZ', 'SOURCE_UNKNOWN_SYMBOL']],
      );
      assert.ok(server.requests.every((q) => q.path === '/api/v1/quote' && q.query.token === FINNHUB_KEY));
    });

    it('a refused key is SOURCE_AUTH_FAILED at once, naming the variable', async () => {
      const bad = createAdapter('finnhub', { baseUrl: server.url, apiKey: 'not-the-key', requestsPerMinute: 6_000 });
      await assert.rejects(
        bad.fetch(['AAPL', 'MSFT']),
        codeIs('SOURCE_AUTH_FAILED', /HTTP 401: \{"error":"Invalid API key\."\}\) — check FINNHUB_API_KEY/),
      );
      assert.equal(server.count('finnhub'), 1, 'not retried, and the other symbols not tried');
    });

    it('no key is SOURCE_KEY_MISSING before any request', async () => {
      const none = createAdapter('finnhub', { baseUrl: server.url, apiKey: '', requestsPerMinute: 6_000 });
      await assert.rejects(none.fetch(['AAPL']), codeIs('SOURCE_KEY_MISSING'));
      await assert.rejects(none.fetch(['AAPL']), (err: unknown) => (err as Error).message === FINNHUB_KEY_HELP);
      assert.equal(server.count('finnhub'), 0);
    });

    it('waits out its 429 (Retry-After) and succeeds', async () => {
      server.fail('finnhub', { kind: 'status', status: 429, retryAfter: '2' });
      const clock = recordingClock();
      const r = await adapter('finnhub', { clock }).fetch(['MSFT']);
      assert.equal(r.ticks.get('MSFT')!.length, 1);
      assert.deepEqual([statuses(), clock.slept], [[429, 200], [2_000]]);
    });

    it('a quote without c and t is SOURCE_BAD_RESPONSE', async () => {
      server.fail('finnhub', { kind: 'missing-fields' });
      const r = await adapter('finnhub').fetch(['AAPL']);
      assert.equal(r.failures[0]!.code, 'SOURCE_BAD_RESPONSE');
    });
  });

  describe('cryptocompare over HTTP', () => {
    it('asks for every pair in one request with the key header; a pair it lacks fails alone', async () => {
      const r = await adapter('cryptocompare').fetch(['BTC-USD', 'ETH-EUR', 'XYZQ-USD']);
      assert.deepEqual([...r.ticks.keys()], ['BTC-USD', 'ETH-EUR']);
      assert.deepEqual(
        r.failures.map((f) => [f.symbol, f.code]),
        [['XYZQ-USD', 'SOURCE_UNKNOWN_SYMBOL']],
      );
      assert.deepEqual(
        server.requests.map((q) => [q.path, q.query.fsyms, q.query.tsyms]),
        [['/data/pricemultifull', 'BTC,ETH,XYZQ', 'USD,EUR']],
      );
    });

    it('no known pair at all: every symbol unknown, not an error of the poll', async () => {
      const r = await adapter('cryptocompare').fetch(['XYZQ-USD', 'QQQQ-USD']);
      assert.deepEqual(
        r.failures.map((f) => f.code),
        ['SOURCE_UNKNOWN_SYMBOL', 'SOURCE_UNKNOWN_SYMBOL'],
      );
      assert.match(r.failures[0]!.reason, /market does not exist for this coin pair \(XYZQ-USD\)/);
    });

    it('its rate-limit answer (HTTP 200, Type 99) is retried like a 429', async () => {
      server.fail('cryptocompare', { kind: 'rate-limit-body' });
      const clock = recordingClock();
      const r = await adapter('cryptocompare', { clock }).fetch(['BTC-USD']);
      assert.equal(r.ticks.get('BTC-USD')!.length, 1);
      assert.deepEqual([server.count('cryptocompare'), clock.slept.length], [2, 1]);
    });

    it('a wrong key is SOURCE_AUTH_FAILED', async () => {
      const bad = createAdapter('cryptocompare', { baseUrl: server.url, apiKey: 'wrong', requestsPerMinute: 6_000 });
      await assert.rejects(bad.fetch(['BTC-USD']), codeIs('SOURCE_AUTH_FAILED', /CRYPTOCOMPARE_API_KEY/));
    });

    it('a pair without PRICE, and malformed JSON, are SOURCE_BAD_RESPONSE', async () => {
      server.fail('cryptocompare', { kind: 'missing-fields' });
      const r = await adapter('cryptocompare').fetch(['BTC-USD']);
      assert.deepEqual(
        r.failures.map((f) => f.code),
        ['SOURCE_BAD_RESPONSE'],
      );
      server.fail('cryptocompare', { kind: 'malformed' });
      await assert.rejects(adapter('cryptocompare').fetch(['BTC-USD']), codeIs('SOURCE_BAD_RESPONSE', /not JSON/));
    });
  });

  describe('unreachable APIs', () => {
    it('a refused connection and an unresolvable name are SOURCE_UNREACHABLE with one clear line', async () => {
      const port = await closedPort();
      const refused = createAdapter('yahoo', { baseUrl: `http://127.0.0.1:${port}`, requestsPerMinute: 6_000 });
      await assert.rejects(
        refused.fetch(['AAPL']),
        codeIs(
          'SOURCE_UNREACHABLE',
          new RegExp(
            `^cannot reach yahoo at http://127\\.0\\.0\\.1:${port} — the connection was refused \\(check YAHOO_BASE_URL and network/proxy\\)$`,
          ),
        ),
      );
      const nowhere = createAdapter('finnhub', { baseUrl: 'https://finnhub.invalid', apiKey: 'k', requestsPerMinute: 6_000 });
      await assert.rejects(
        nowhere.fetch(['AAPL']),
        codeIs(
          'SOURCE_UNREACHABLE',
          /^cannot reach finnhub at https:\/\/finnhub\.invalid — this machine has no route to it \(check network\/proxy\)$/,
        ),
      );
    });
  });
});
